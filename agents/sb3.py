"""stable-baselines3 on visenv: an adapter that lets SB3 drive a native vector env directly.

SB3 wants its own ``VecEnv`` (auto-reset in the same step, a list of info dicts with
``terminal_observation``). :class:`SB3VecEnv` provides that over a visenv ``BatchedVectorEnv``
run with Gymnasium's ``SameStep`` autoreset, so all ``N`` envs step in one batched call instead
of ``DummyVecEnv``'s loop over single envs::

    from stable_baselines3 import DQN
    from agents.sb3 import make_sb3_vec_env

    venv = make_sb3_vec_env("VisAttn/DQSSTN-Shapes-v0", n_envs=8, seed=0, obs_size=84)
    DQN("CnnPolicy", venv, buffer_size=20_000).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import visenv  # noqa: F401 - registers the ids

__all__ = ["SB3VecEnv", "make_sb3_vec_env"]


class SB3VecEnv(VecEnv):
    """A stable-baselines3 ``VecEnv`` over a visenv native vector env.

    Args:
        env: A ``BatchedVectorEnv`` created with ``autoreset_mode="SameStep"`` and numpy output.
    """

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        base = env.unwrapped
        if base.metadata.get("autoreset_mode") != AutoresetMode.SAME_STEP:
            raise ValueError(
                "SB3VecEnv needs a vector env with autoreset_mode='SameStep' (SB3 resets "
                f"finished envs within the step), got {base.metadata.get('autoreset_mode')}"
            )
        if getattr(base, "output", "numpy") != "numpy":
            raise ValueError("SB3VecEnv needs output='numpy' (SB3 moves data to torch itself)")
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self.render_mode = getattr(env, "render_mode", None)
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        seeds = self._seeds if any(s is not None for s in self._seeds) else None
        options = self._options[0] if self._options and self._options[0] else None
        obs, info = self.env.reset(seed=seeds, options=options)
        self.reset_infos = self._split_info(info)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, rewards, terminated, truncated, info = self.env.step(self._actions)
        dones = terminated | truncated
        infos = self._split_info(info)
        for i in np.flatnonzero(dones):
            infos[i] = self._split_info(info["final_info"])[i]
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def _split_info(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Gymnasium's dict of arrays -> SB3's list of per-env dicts."""
        out: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for key, value in info.items():
            if key.startswith("_") or key in ("final_obs", "final_info"):
                continue
            mask = info.get(f"_{key}", np.ones(self.num_envs, dtype=bool))
            for i in np.flatnonzero(mask):
                out[i][key] = value[i]
        return out

    def close(self) -> None:
        self.env.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.env.render()
        return list(frames) if frames is not None else [None] * self.num_envs

    def _indices(self, indices: int | Iterable[int] | None) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: int | Iterable[int] | None = None) -> list[Any]:
        value = getattr(self.env.unwrapped, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(
        self, attr_name: str, value: Any, indices: int | Iterable[int] | None = None
    ) -> None:
        setattr(self.env.unwrapped, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: int | Iterable[int] | None = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        result = getattr(self.env.unwrapped, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: int | Iterable[int] | None = None
    ) -> list[bool]:
        return [False for _ in self._indices(indices)]


def make_sb3_vec_env(
    env_id: str, n_envs: int = 8, seed: int | None = None, **kwargs: Any
) -> VecEnv:
    """A monitored SB3 ``VecEnv`` over the native batched env of ``env_id``.

    Args:
        env_id: A visenv id, e.g. ``"VisAttn/DQSSTN-Shapes-v0"``.
        n_envs: Number of envs in the batch.
        seed: Seed of the first reset (env ``i`` gets ``seed + i``).
        **kwargs: Env arguments (``obs_size``, ``reward``, ``root``, ...).
    """
    env = gym.make_vec(
        env_id, num_envs=n_envs, vectorization_mode="vector_entry_point",
        autoreset_mode=AutoresetMode.SAME_STEP, **kwargs,
    )  # fmt: skip
    venv = SB3VecEnv(env)
    venv.seed(seed)
    return VecMonitor(venv)
