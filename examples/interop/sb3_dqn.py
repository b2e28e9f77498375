"""stable-baselines3's DQN on a visenv env, driving the native batch through ``agents.sb3``.

    python examples/interop/sb3_dqn.py VisAttn/DQSSTN-Shapes-v0 --steps 2000 --set obs_size=48
    python examples/interop/sb3_dqn.py VisAttn/BGCut-Shapes-v0 --steps 1000

What matters for visenv:

* SB3 runs on the unchanged ``gym.make(id)`` env (it wraps it in a ``DummyVecEnv``), or on the
  native batched env through :func:`agents.sb3.make_sb3_vec_env`, which builds it with
  ``SameStep`` autoreset (SB3 resets finished envs inside the step and reads the final
  observation from ``info["terminal_observation"]``, which the adapter fills).
* SB3's default replay buffer holds 1M transitions: at 224 x 224 x 3 views that is 140 GiB.
  Size ``buffer_size`` (and ``obs_size``) for your memory.
* ``Dict`` observations (BG-Cut, HSAL, UnifiedAttn, RARL) take ``"MultiInputPolicy"``;
  ``Dict`` actions are not supported by SB3: use the families' ``action_format="flat"``.
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3 import DQN

from agents.sb3 import make_sb3_vec_env


def train(
    env_id: str, steps: int = 2000, num_envs: int = 4, seed: int = 0, **env_kwargs: Any
) -> DQN:
    """Train SB3's DQN for ``steps`` env transitions on the native batch; returns the model."""
    torch.manual_seed(seed)
    venv = make_sb3_vec_env(env_id, n_envs=num_envs, seed=seed, **env_kwargs)
    policy = (
        "MultiInputPolicy" if isinstance(venv.observation_space, gym.spaces.Dict) else "CnnPolicy"
    )
    model = DQN(
        policy, venv, buffer_size=10_000, learning_starts=200, gamma=0.95,
        target_update_interval=200, exploration_fraction=0.5, seed=seed,
    )  # fmt: skip
    return model.learn(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_id")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    kwargs = {k: int(v) if v.isdigit() else v for k, v in (p.split("=", 1) for p in args.set)}
    model = train(args.env_id, args.steps, args.envs, **kwargs)
    print(f"{model.num_timesteps} steps; {model.replay_buffer.size()} transitions stored per env")


if __name__ == "__main__":
    main()
