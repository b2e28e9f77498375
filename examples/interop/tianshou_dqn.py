"""tianshou's DQN on visenv envs (tianshou 2.x, its own vector env over single envs).

    python examples/interop/tianshou_dqn.py VisAttn/DQSSTN-Shapes-v0 --steps 2000 --set obs_size=48
    python examples/interop/tianshou_dqn.py VisAttn/BGCut-Shapes-v0 --steps 1000

What matters for visenv:

* tianshou steps its own vector envs (``DummyVectorEnv``, ``SubprocVectorEnv``) over single
  Gymnasium envs, so each worker is ``gym.make(id)``: autoreset is tianshou's, and every stored
  transition is exact (``Collector`` keeps the final observation of a finished episode).
* tianshou's DQN takes a ``Discrete`` action space; its policies do not take ``Dict`` actions.
  Families with phased actions (HSAL, UnifiedAttn, RARL) have ``action_format="flat"``: one
  ``Box`` of scores, for tianshou's continuous-action algorithms. ``Dict`` *observations* are
  fine: tianshou hands the network a ``Batch`` with one entry per key.
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from tianshou.algorithm.modelfree.dqn import DQN, DiscreteQLearningPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.utils.torch_utils import policy_within_training_step, torch_train_mode
from torch import nn

import visenv

try:  # run as a script or imported as examples.interop.tianshou_dqn
    from examples.interop.qnet import QNetwork
except ImportError:
    from qnet import QNetwork

gym.register_envs(visenv)


class TianshouQNetwork(nn.Module):
    """:class:`QNetwork` with tianshou's model signature ``(obs, state, info) -> (q, state)``."""

    def __init__(self, observation_space: gym.Space, n_actions: int) -> None:
        super().__init__()
        self.net = QNetwork(observation_space, n_actions)

    def forward(self, obs: Any, state: Any = None, info: Any = None) -> tuple[torch.Tensor, Any]:
        keys = self.net.keys
        parts = [obs[k] for k in keys] if keys != ["observation"] else [obs]
        return self.net(*(torch.as_tensor(np.asarray(p)) for p in parts)), state


def train(
    env_id: str,
    steps: int = 2000,
    num_envs: int = 4,
    seed: int = 0,
    learning_starts: int = 200,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Train tianshou's DQN for about ``steps`` env transitions; returns buffer and losses."""
    torch.manual_seed(seed)
    envs = DummyVectorEnv([lambda: gym.make(env_id, **env_kwargs) for _ in range(num_envs)])
    envs.seed(seed)
    single = envs.observation_space[0]
    n_actions = envs.action_space[0].n
    policy = DiscreteQLearningPolicy(
        model=TianshouQNetwork(single, n_actions), action_space=envs.action_space[0],
        eps_training=1.0,
    )  # fmt: skip
    algorithm = DQN(
        policy=policy, optim=AdamOptimizerFactory(lr=1e-3), gamma=0.95, target_update_freq=50
    )
    buffer = VectorReplayBuffer(total_size=steps, buffer_num=num_envs)
    collector = Collector(algorithm, envs, buffer, exploration_noise=True)
    collector.reset()
    losses, collected, chunk = [], 0, num_envs * 10
    while collected < steps:
        # epsilon-greedy, linearly from 1 to 0.05 over the run
        policy.set_eps_training(max(0.05, 1.0 - collected / steps))
        collected += collector.collect(n_step=chunk).n_collected_steps
        if len(buffer) < learning_starts:
            continue
        # without tianshou's Trainer, a training step is entered explicitly
        with policy_within_training_step(policy), torch_train_mode(policy):
            for _ in range(chunk // 4):
                losses.append(algorithm.update(sample_size=32, buffer=buffer).loss)
    envs.close()
    return {"buffer": buffer, "losses": losses, "transitions": len(buffer)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_id")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    kwargs = {k: int(v) if v.isdigit() else v for k, v in (p.split("=", 1) for p in args.set)}
    result = train(args.env_id, args.steps, args.envs, **kwargs)
    print(f"{result['transitions']} transitions stored; last loss {result['losses'][-1]:.4f}")


if __name__ == "__main__":
    main()
