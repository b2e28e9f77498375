"""Train the recurrent attention model (RAM, the UnifiedAttn paper's baseline) and compare it with
the random and oracle policies on held-out digits; write a GIF of the trained agent.

python examples/train_ram.py                                   # rendered digits (embedded)
VISENV_DATA=../shared/data python examples/train_ram.py mnist  # VisAttn/RAM-MNIST-v0's data
"""

import sys

import numpy as np

from agents.policies import make_policy
from agents.ram import RAMConfig, train_ram
from visenv.envs.unifiedattn import UnifiedAttnVectorEnv
from visenv.evaluation import evaluate_unifiedattn
from visenv.render import save_gif

dataset = sys.argv[1] if len(sys.argv) > 1 else "rendered"
# the sensor of VisAttn/RAM-MNIST-v0: 6 glimpses of 8x8 at one scale on 28x28 digits
sensor = {"canvas": "plain", "levels": 0, "num_glimpses": 6, "glimpse_size": 8, "num_scales": 1}
config = RAMConfig(env_id="VisAttn/RAM-MNIST-v0", env_kwargs={"dataset": dataset})
agent, log = train_ram(config, progress=True)
print(f"trained on {log[-1]['episodes']} episodes in {log[-1]['seconds']:.0f} s")

env = UnifiedAttnVectorEnv(64, dataset=dataset, split="test", render_mode="rgb_array", **sensor)
indices = np.arange(min(2000, len(env.images)))
policies = {
    "random": make_policy("random", env, seed=0),
    "RAM": agent.policy(),
    "oracle": make_policy("oracle", env),
}
for name, policy in policies.items():
    report = evaluate_unifiedattn(env, policy, indices=indices, seed=0)
    print(f"## {name}\n\n{report.to_markdown()}\n")

policy, frames = agent.policy(), []
obs, info = env.reset(seed=0)
for _ in range(3 * sensor["num_glimpses"]):
    frames.append(env.render()[0])
    obs, *_, info = env.step(policy(obs, info))
print("wrote", save_gif(frames, f"ram-{dataset}.gif", fps=2))
