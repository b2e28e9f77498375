"""Train stable-baselines3's DQN on the embedded Shapes scenes, two ways.

1. The env unchanged: ``gym.make`` + SB3's usual ``DummyVecEnv``.
2. SB3 driving visenv's native batched env directly (``agents.sb3.make_sb3_vec_env``).

    python examples/train_dqn_shapes.py --steps 20000
"""

import argparse

import gymnasium as gym
from stable_baselines3 import DQN

import visenv
from agents.policies import make_policy
from agents.sb3 import make_sb3_vec_env
from visenv.envs.dqsstn import DQSSTNVectorEnv
from visenv.evaluation import evaluate_dqsstn

gym.register_envs(visenv)
parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20_000)
args = parser.parse_args()

# 1. The Gymnasium env as is (SB3 wraps it in a DummyVecEnv and transposes images itself).
env = gym.make("VisAttn/DQSSTN-Shapes-v0", obs_size=84)
DQN("CnnPolicy", env, buffer_size=5_000, learning_starts=500, verbose=0).learn(1_000)
print("DQN ran on the unchanged env")

# 2. The native batched env: 8 envs per batched step.
venv = make_sb3_vec_env("VisAttn/DQSSTN-Shapes-v0", n_envs=8, seed=0, obs_size=84)
model = DQN("CnnPolicy", venv, buffer_size=20_000, learning_starts=1_000, gamma=0.95,
            exploration_fraction=0.4, learning_rate=2e-4, verbose=1)  # fmt: skip
model.learn(args.steps)

test = DQSSTNVectorEnv(32, dataset="shapes", split="test", obs_size=84)
scenes = range(256)
for name, policy in [
    ("random", make_policy("random", test, seed=0)),
    ("DQN", lambda obs, info: model.predict(obs, deterministic=True)[0]),
    ("oracle", make_policy("oracle", test)),
]:
    report = evaluate_dqsstn(test, policy, scene_indices=scenes)
    print(f"{name:>7}: salient IoU {report.iou_before:.3f} -> {report.iou_after:.3f}")
