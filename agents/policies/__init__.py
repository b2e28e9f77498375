"""Scripted policies over a *batch*: ``policy(obs, info) -> actions`` for all envs at once.

``random`` samples the action space; ``oracle`` reads the ground truth the env puts in
``info`` (e.g. the salient box) and acts on it. Tests use the pair to prove that an env's
reward and geometry reward the right behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym

from agents.policies.bgcut import BGCutOraclePolicy
from agents.policies.dqsstn import DQSSTNOraclePolicy
from agents.policies.hsal import HSALOraclePolicy
from agents.policies.rarl import RARLBackbonePolicy, RARLOraclePolicy
from agents.policies.unifiedattn import UnifiedAttnOraclePolicy

__all__ = [
    "POLICIES",
    "BGCutOraclePolicy",
    "DQSSTNOraclePolicy",
    "HSALOraclePolicy",
    "Policy",
    "RARLBackbonePolicy",
    "RARLOraclePolicy",
    "RandomPolicy",
    "UnifiedAttnOraclePolicy",
    "make_policy",
]


class Policy(Protocol):
    """Maps a batch of observations and the vector info dict to a batch of actions."""

    def __call__(self, obs: Any, info: dict[str, Any]) -> Any: ...


class RandomPolicy:
    """Uniform random actions from the env's batched action space.

    Args:
        action_space: The vector env's ``action_space`` (batched).
        seed: Seed of the sampler.
    """

    def __init__(self, action_space: gym.Space, seed: int | None = None) -> None:
        self.action_space = action_space
        self.action_space.seed(seed)

    def __call__(self, obs: Any, info: dict[str, Any]) -> Any:
        return self.action_space.sample()


# oracle policy of each env family, by native vector env class name
_ORACLES: dict[str, Callable[..., Policy]] = {
    "BGCutVectorEnv": lambda env, **options: BGCutOraclePolicy(env.params, **options),
    "DQSSTNVectorEnv": lambda env, **options: DQSSTNOraclePolicy(env.params, **options),
    "HSALVectorEnv": lambda env, **options: HSALOraclePolicy(env.params, **options),
    "UnifiedAttnVectorEnv": UnifiedAttnOraclePolicy,
    "RARLVectorEnv": RARLOraclePolicy,
}
POLICIES = ("random", "oracle")


def make_policy(
    name: str, env: gym.vector.VectorEnv, seed: int | None = None, **options: Any
) -> Policy:
    """The scripted policy ``name`` (one of :data:`POLICIES`) for a native vector env.

    ``options`` go to the family's oracle (e.g. ``rule="enclose"`` for BGCut's); the random
    policy takes none.
    """
    if name == "random":
        if options:
            raise TypeError(f"the random policy takes no options, got {sorted(options)}")
        return RandomPolicy(env.action_space, seed)
    if name != "oracle":
        raise ValueError(f"unknown policy {name!r}; expected one of {POLICIES}")
    env = env.unwrapped
    family = type(env).__name__
    if family not in _ORACLES:
        raise ValueError(f"no oracle for {family}; oracles exist for {sorted(_ORACLES)}")
    return _ORACLES[family](env, **options)
