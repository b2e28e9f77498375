"""Quick start: one env with gym.make, a native batch with gym.make_vec, a GIF of an episode.

python examples/quickstart.py
"""

import gymnasium as gym
import numpy as np

import visenv
from agents.policies import make_policy
from visenv.render import save_gif

gym.register_envs(visenv)

# A single environment, exactly as Gymnasium users expect.
env = gym.make("VisAttn/DQSSTN-Shapes-v0", render_mode="rgb_array")
obs, info = env.reset(seed=0)
print("observation", obs.shape, obs.dtype, "salient IoU", round(info["salient_iou"], 3))
for _ in range(10):
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
print("after 10 random steps: IoU", round(info["salient_iou"], 3), "terminated", terminated)

# 16 envs stepped together: one batched crop per step, no Python loop over envs.
envs = gym.make_vec(
    "VisAttn/DQSSTN-Shapes-v0", num_envs=16, vectorization_mode="vector_entry_point"
)
obs, info = envs.reset(seed=0)
oracle = make_policy("oracle", envs)
for _ in range(10):
    obs, rewards, terminated, truncated, info = envs.step(oracle(obs, info))
print("oracle, 16 envs: mean final salient IoU", np.round(info["salient_iou"].mean(), 3))

# A GIF of one oracle episode (left: image, salient box red, view yellow; right: the view).
one = gym.make_vec("VisAttn/DQSSTN-Shapes-v0", num_envs=1, vectorization_mode="vector_entry_point",
                   render_mode="rgb_array")  # fmt: skip
obs, info = one.reset(seed=1)
frames = [one.render()[0]]
for _ in range(10):
    obs, *_, info = one.step(oracle(obs, info))
    frames.append(one.render()[0])
print("wrote", save_gif(frames, "quickstart.gif"))
