"""skrl's DQN on a visenv native vector env.

    python examples/interop/skrl_dqn.py VisAttn/DQSSTN-Shapes-v0 --steps 2000 --set obs_size=48
    python examples/interop/skrl_dqn.py VisAttn/BGCut-Shapes-v0 --steps 1000

What matters for visenv:

* skrl's Gymnasium wrapper takes a ``VectorEnv`` but ignores its ``autoreset_mode``: it records
  every step's ``(obs, next_obs)`` as a transition and carries ``next_obs`` over as the next
  observation. Under Gymnasium's default ``NextStep`` mode the step after an episode's end is
  the reset step (final observation -> first observation, reward 0), so 1 in ``T + 1`` stored
  transitions is fake (9% at DQ-SSTN's T = 10). Make the env with ``autoreset_mode="SameStep"``:
  finished envs reset inside the step, and every stored transition is a real one.
* Under ``SameStep`` the ``next_obs`` of a finished env is already the new episode's first
  observation. DQN masks terminated transitions, so that is harmless there, but a *truncated*
  transition (BG-Cut's 40-step limit) bootstraps from the wrong state: skrl has no place for
  ``info["final_obs"]``. The recipe counts those transitions (``truncated`` in the result).
* skrl flattens ``Dict`` observations into one float vector (keys in sorted order); the
  network unflattens it with ``unflatten_tensorized_space``.
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import torch
from skrl.agents.torch.dqn import DQN, DQN_CFG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, Model
from skrl.trainers.torch import SequentialTrainer
from skrl.utils.spaces.torch import unflatten_tensorized_space

import visenv

try:  # run as a script or imported as examples.interop.skrl_dqn
    from examples.interop.qnet import QNetwork
except ImportError:
    from qnet import QNetwork

gym.register_envs(visenv)


class SkrlQNetwork(DeterministicMixin, Model):
    """:class:`QNetwork` as an skrl model: flat observations in, action values out."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        Model.__init__(
            self, observation_space=observation_space, action_space=action_space, device="cpu"
        )
        DeterministicMixin.__init__(self)
        self.net = QNetwork(observation_space, action_space.n)

    def compute(self, inputs: dict[str, Any], role: str = "") -> tuple[torch.Tensor, dict]:
        obs = unflatten_tensorized_space(self.observation_space, inputs["observations"])
        parts = [obs[k] for k in self.net.keys] if isinstance(obs, dict) else [obs]
        return self.net(*parts), {}


def make_env(
    env_id: str, num_envs: int, autoreset_mode: str = "SameStep", **env_kwargs: Any
) -> Any:
    """The native batched env of ``env_id``, wrapped for skrl (``SameStep``: see above)."""
    base = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
        autoreset_mode=autoreset_mode, **env_kwargs,
    )  # fmt: skip
    return wrap_env(base, wrapper="gymnasium")


def train(
    env_id: str,
    steps: int = 2000,
    num_envs: int = 4,
    seed: int = 0,
    autoreset_mode: str = "SameStep",
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Train skrl's DQN for ``steps`` env transitions; returns the memory and the counts.

    ``autoreset_mode="NextStep"`` is there to show the fake transitions it stores.
    """
    torch.manual_seed(seed)
    env = make_env(env_id, num_envs, autoreset_mode, **env_kwargs)
    obs_space, act_space = env.observation_space, env.action_space
    models = {
        "q_network": SkrlQNetwork(obs_space, act_space),
        "target_q_network": SkrlQNetwork(obs_space, act_space),
    }
    timesteps = steps // num_envs
    memory = RandomMemory(memory_size=timesteps, num_envs=num_envs, device="cpu")
    cfg = DQN_CFG(
        batch_size=32, discount_factor=0.95, learning_starts=50, target_update_interval=50,
        exploration_scheduler=lambda t, total: max(0.05, 1.0 - t / max(total, 1)),
    )  # fmt: skip
    agent = DQN(
        models=models, memory=memory, observation_space=obs_space, action_space=act_space,
        device="cpu", cfg=cfg,
    )  # fmt: skip
    truncated = 0

    def count_truncations(*args: Any, **kwargs: Any) -> None:
        nonlocal truncated
        truncated += int(kwargs["truncated"].sum())
        record(*args, **kwargs)

    record, agent.record_transition = agent.record_transition, count_truncations
    trainer_cfg = {
        "timesteps": timesteps, "headless": True, "disable_progressbar": True,
        "close_environment_at_exit": False,  # closed below, not by an atexit hook
    }  # fmt: skip
    SequentialTrainer(env=env, agents=agent, cfg=trainer_cfg).train()
    env.close()
    return {"memory": memory, "transitions": len(memory), "truncated": truncated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_id")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    kwargs = {k: int(v) if v.isdigit() else v for k, v in (p.split("=", 1) for p in args.set)}
    result = train(args.env_id, args.steps, args.envs, **kwargs)
    print(f"{result['transitions']} transitions stored, {result['truncated']} truncated")


if __name__ == "__main__":
    main()
