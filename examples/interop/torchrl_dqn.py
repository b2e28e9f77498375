"""torchrl's DQN on a visenv native vector env (``GymWrapper`` over the batched env).

    python examples/interop/torchrl_dqn.py VisAttn/DQSSTN-Shapes-v0 --steps 2000 --set obs_size=48
    python examples/interop/torchrl_dqn.py VisAttn/BGCut-Shapes-v0 --steps 2000

What matters for visenv:

* torchrl's ``GymWrapper`` takes a Gymnasium ``VectorEnv`` directly and refuses the
  ``NextStep`` autoreset mode; make the env with ``autoreset_mode="Disabled"`` and torchrl resets
  finished envs itself through ``reset(options={"reset_mask": ...})``, which visenv supports.
* ``categorical_action_encoding=True`` keeps a ``Discrete`` action (also inside a ``Dict``) as
  an integer index instead of a one-hot vector.
* A ``Dict`` observation becomes one tensordict entry per key (``"features"``, ``"history"``
  for BG-Cut); a plain ``Box`` observation is ``"observation"``.
"""

from __future__ import annotations

import argparse
from typing import Any

import gymnasium as gym
import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from torchrl.collectors import Collector
from torchrl.data import LazyTensorStorage, ReplayBuffer
from torchrl.envs import GymWrapper
from torchrl.modules import EGreedyModule, QValueActor
from torchrl.objectives import DQNLoss, HardUpdate

import visenv

try:  # run as a script or imported as examples.interop.torchrl_dqn
    from examples.interop.qnet import QNetwork, obs_parts
except ImportError:
    from qnet import QNetwork, obs_parts

gym.register_envs(visenv)


def make_env(env_id: str, num_envs: int, **env_kwargs: Any) -> GymWrapper:
    """The native batched env of ``env_id`` as a torchrl env (batch size ``[num_envs]``)."""
    base = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
        autoreset_mode="Disabled", **env_kwargs,
    )  # fmt: skip
    return GymWrapper(base, categorical_action_encoding=True)


def train(
    env_id: str,
    steps: int = 2000,
    num_envs: int = 4,
    seed: int = 0,
    learning_starts: int = 200,
    **env_kwargs: Any,
) -> dict[str, Any]:
    """Train DQN for ``steps`` env transitions; returns the replay buffer and the losses."""
    torch.manual_seed(seed)
    env = make_env(env_id, num_envs, **env_kwargs)
    env.set_seed(seed)
    single = env._env.single_observation_space  # the Gymnasium space, for the network
    keys = list(obs_parts(single))
    n_actions = env.action_spec.space.n
    net = TensorDictModule(QNetwork(single, n_actions), in_keys=keys, out_keys=["action_value"])
    actor = QValueActor(net, in_keys=keys, spec=env.action_spec_unbatched)
    greedy = EGreedyModule(env.action_spec, eps_init=1.0, eps_end=0.05, annealing_num_steps=steps)
    collector = Collector(
        env, TensorDictSequential(actor, greedy), frames_per_batch=num_envs * 10,
        total_frames=steps, auto_register_policy_transforms=False,
    )  # fmt: skip
    buffer = ReplayBuffer(storage=LazyTensorStorage(10_000), batch_size=32)
    loss_fn = DQNLoss(actor, action_space=env.action_spec_unbatched, delay_value=True)
    loss_fn.make_value_estimator(gamma=0.95)  # DQ-SSTN's discount (sec. 4.1.2)
    target = HardUpdate(loss_fn, value_network_update_interval=50)
    optimizer = torch.optim.Adam(loss_fn.parameters(), lr=1e-3)
    losses = []
    for batch in collector:  # batch: [num_envs, frames_per_batch / num_envs]
        buffer.extend(batch.reshape(-1))
        greedy.step(batch.numel())
        if len(buffer) < learning_starts:
            continue
        for _ in range(4):
            loss = loss_fn(buffer.sample())["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            target.step()
            losses.append(loss.item())
    collector.shutdown()
    return {"buffer": buffer, "losses": losses, "frames": len(buffer)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_id")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--envs", type=int, default=4)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    kwargs = {k: int(v) if v.isdigit() else v for k, v in (p.split("=", 1) for p in args.set)}
    result = train(args.env_id, args.steps, args.envs, **kwargs)
    print(f"{result['frames']} transitions stored; last loss {result['losses'][-1]:.4f}")


if __name__ == "__main__":
    main()
