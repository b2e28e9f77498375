"""DQ-SSTN metrics of the random and oracle policies on a VOC-layout dataset.

VISENV_DATA=../shared/data python examples/oracle_vs_random_voc.py
"""

from agents.policies import make_policy
from visenv.envs.dqsstn import DQSSTNVectorEnv
from visenv.evaluation import evaluate_dqsstn

env = DQSSTNVectorEnv(16, dataset="voc", year="2007", split="test")
for name in ("random", "oracle"):
    report = evaluate_dqsstn(env, make_policy(name, env, seed=0))
    print(f"## {name}\n\n{report.to_markdown()}\n")
