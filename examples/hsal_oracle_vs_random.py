"""HSAL metrics of the random and oracle policies on test canvases, and one oracle episode GIF.

python examples/hsal_oracle_vs_random.py                      # rendered digits (embedded)
VISENV_DATA=../shared/data python examples/hsal_oracle_vs_random.py mnist_multiset
"""

import sys

from agents.policies import make_policy
from visenv.envs.hsal import HSALVectorEnv
from visenv.evaluation import evaluate_hsal
from visenv.render import save_gif

dataset = sys.argv[1] if len(sys.argv) > 1 else "digits_multiset"
env = HSALVectorEnv(16, dataset=dataset, split="test", render_mode="rgb_array")
for name in ("random", "oracle"):
    report = evaluate_hsal(env, make_policy(name, env, seed=0), scene_indices=range(500))
    print(f"## {name}\n\n{report.to_markdown()}\n")

oracle = make_policy("oracle", env)
obs, info = env.reset(seed=0)
frames, done = [env.render()[0]], False
while not done:
    obs, _, terminated, truncated, info = env.step(oracle(obs, info))
    frames.append(env.render()[0])
    done = bool(terminated[0] or truncated[0])
print("wrote", save_gif(frames, f"hsal-{dataset}-oracle.gif", fps=2))
