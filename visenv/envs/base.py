"""What every visenv environment shares: the native batched VectorEnv and its single-env shell.

A family module (``dqsstn.py``, ...) subclasses :class:`BatchedVectorEnv` and implements four
hooks over *all* sub-environments at once:

* ``_reset_envs(env_ids, options)`` - start new episodes for those envs;
* ``_step_envs(actions, active)`` - advance every env, return rewards, terminated, truncated;
* ``_observe(env_ids)`` - observations of those envs (``None``: all); an array, or a dict of
  arrays for a ``Dict`` observation space;
* ``_info()`` - a dict of per-env arrays ``[num_envs, ...]``.

The base class owns what must behave identically everywhere: per-env random generators seeded
like ``SyncVectorEnv`` (env ``i`` gets ``seed + i``), the three Gymnasium autoreset modes,
action checks that name the action space, conversion of outputs to numpy or device tensors,
and rendering. The single env (``gym.make``) is :class:`SingleEnvShell` over a one-env batch,
so the single and vector envs share every line of MDP code and give the same trajectories.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

__all__ = [
    "BatchedVectorEnv",
    "Output",
    "SingleEnvShell",
    "check_box_actions",
    "check_dict_keys",
    "check_discrete_actions",
    "copy_arrays",
]

Output = Literal["numpy", "torch"]
_OUTPUTS = ("numpy", "torch")


def check_dict_keys(actions: Any, keys: frozenset[str], space: gym.Space) -> None:
    """Check that a ``Dict``-space batch is a mapping with exactly the space's ``keys``.

    Raises:
        TypeError: ``actions`` is not a mapping (e.g. a flat ``Box`` array).
        ValueError: Missing or unknown keys.
    """
    if type(actions) is not dict and not isinstance(actions, Mapping):  # ABC checks are slow
        raise TypeError(
            f"actions must be a dict of batches with keys {sorted(keys)} (action space "
            f"{space}), got {type(actions).__name__}; a flat Box action needs "
            "action_format='flat'"
        )
    if actions.keys() != keys:
        raise ValueError(
            f"actions must have the keys {sorted(keys)} of the action space {space}, "
            f"got {sorted(actions)}"
        )


def check_discrete_actions(
    actions: Any,
    n: int,
    num_envs: int,
    space: gym.Space,
    device: torch.device | None = None,
    name: str = "actions",
) -> np.ndarray | torch.Tensor:
    """Validate a batch of ``Discrete(n)`` actions once, then hand back a fast int64 array.

    Args:
        actions: ``[num_envs]`` integers as a numpy array, torch tensor or sequence.
        n: Number of discrete actions.
        num_envs: Batch size the env expects.
        space: The single action space, named in error messages.
        device: If given, return a tensor on this device; else a numpy array.
        name: How the error messages call the actions (e.g. ``"actions['quadrant']"``).

    Raises:
        TypeError: The actions are not integers.
        ValueError: Wrong shape, or a value outside ``[0, n)``.
    """
    if isinstance(actions, torch.Tensor):
        arr = actions.detach()
        is_int = not (arr.is_floating_point() or arr.is_complex() or arr.dtype == torch.bool)
    else:
        arr = np.asarray(actions)
        is_int = arr.dtype.kind in "iu"  # np.issubdtype(..., np.integer), without its overhead
    if not is_int:
        raise TypeError(
            f"{name} must be integers of the action space {space}, got dtype {arr.dtype}"
        )
    if tuple(arr.shape) != (num_envs,):
        raise ValueError(
            f"{name} must have shape ({num_envs},) for {num_envs} envs with action space {space}, "
            f"got shape {tuple(arr.shape)}"
        )
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high >= n:
        raise ValueError(f"{name} must lie in {space} (0..{n - 1}), got values in [{low}, {high}]")
    if device is None:
        if isinstance(arr, torch.Tensor):
            return arr.cpu().numpy().astype(np.int64)
        return arr.astype(np.int64)
    return torch.as_tensor(arr, dtype=torch.int64, device=device)


def _take(value: Any, ids: np.ndarray | int) -> Any:
    """Rows ``ids`` of an array, tensor or (``Dict`` observation) dict of them."""
    if isinstance(value, dict):
        return {k: _take(v, ids) for k, v in value.items()}
    if isinstance(value, torch.Tensor) and not isinstance(ids, int | np.integer):
        return value[torch.as_tensor(ids, device=value.device)]
    return value[ids]


def copy_arrays(value: Any) -> Any:
    """A copy of an array, a tensor or a dict of them: state arrays are updated in place at
    the next step or reset, so what an env hands out must not alias them."""
    if isinstance(value, dict):
        return {k: copy_arrays(v) for k, v in value.items()}
    return value.clone() if isinstance(value, torch.Tensor) else value.copy()


def _put(target: Any, ids: np.ndarray, rows: Any) -> None:
    """``target[ids] = rows`` for arrays, tensors and dicts of them (in place)."""
    if isinstance(target, dict):
        for key in target:
            _put(target[key], ids, rows[key])
    elif isinstance(target, torch.Tensor):
        target[torch.as_tensor(ids, device=target.device)] = torch.as_tensor(
            rows, device=target.device
        )
    else:
        target[ids] = rows


def _zero_rows(value: Any, rows: np.ndarray) -> Any:
    """A copy of a batch (or dict of batches) with rows ``rows`` (bool ``[N]``) set to 0."""
    if isinstance(value, dict):
        return {k: _zero_rows(v, rows) for k, v in value.items()}
    value = copy_arrays(value)
    value[
        torch.as_tensor(rows, device=value.device) if isinstance(value, torch.Tensor) else rows
    ] = 0
    return value


class BatchedVectorEnv(VectorEnv):
    """Base class of visenv's native batched environments (see the module docstring).

    Args:
        num_envs: Number of sub-environments.
        device: Where the step runs: ``"cpu"`` (OpenCV kernels) or a torch device such as
            ``"cuda"`` (torch kernels, images resident on the device).
        output: ``"numpy"`` (default; works with any RL library) or ``"torch"`` (observations,
            rewards, terminations and truncations as tensors on ``device``, no host copy).
        autoreset_mode: Gymnasium autoreset mode (``"NextStep"``, ``"SameStep"``, ``"Disabled"``).
        render_mode: ``None`` or ``"rgb_array"``.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 4,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int,
        *,
        device: str | torch.device = "cpu",
        output: Output = "numpy",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.num_envs = int(num_envs)
        self.device = torch.device(device)
        self.output: Output = output
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        self._rngs = [np.random.default_rng() for _ in range(self.num_envs)]
        self._done = np.zeros(self.num_envs, dtype=bool)  # finished, awaiting reset
        self._has_reset = False

    def _set_spaces(
        self, single_observation_space: gym.Space, single_action_space: gym.Space
    ) -> None:
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, self.num_envs)
        self.action_space = batch_space(single_action_space, self.num_envs)

    # -- hooks -------------------------------------------------------------------------------
    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def _step_envs(self, actions: Any, active: np.ndarray) -> tuple[Any, Any, Any]:
        raise NotImplementedError

    def _observe(self, env_ids: np.ndarray | None) -> np.ndarray | torch.Tensor:
        raise NotImplementedError

    def _info(self) -> dict[str, Any]:
        raise NotImplementedError

    def _check_actions(self, actions: Any) -> Any:
        raise NotImplementedError

    def _render_env(self, env_id: int) -> np.ndarray:
        raise NotImplementedError

    # -- Gymnasium API -----------------------------------------------------------------------
    @property
    def np_random(self) -> tuple[np.random.Generator, ...]:
        """One generator per sub-environment (what ``SyncVectorEnv.np_random`` returns)."""
        return tuple(self._rngs)

    def _seed(self, seed: int | list[int | None] | None) -> None:
        if seed is None:
            return
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(
                f"seed list must have num_envs={self.num_envs} entries, got {len(seeds)}"
            )
        for i, s in enumerate(seeds):
            if s is not None:
                self._rngs[i] = np.random.default_rng(s)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset all sub-environments, or those in ``options["reset_mask"]``.

        Args:
            seed: ``int`` seeds env ``i`` with ``seed + i`` (as ``SyncVectorEnv``); a list
                seeds each env; ``None`` keeps the current generators.
            options: Family-specific options, plus ``reset_mask`` (bool ``[num_envs]``).
        """
        self._seed(seed)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
        elif not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_):
            raise TypeError(f"options['reset_mask'] must be a numpy bool array, got {type(mask)}")
        elif mask.shape != (self.num_envs,) or not mask.any():
            raise ValueError(
                f"options['reset_mask'] must have shape ({self.num_envs},) and a True value, "
                f"got {mask}"
            )
        env_ids = np.flatnonzero(mask)
        self._reset_envs(env_ids, options)
        self._done[env_ids] = False
        self._has_reset = True
        info = self._pack_info(self._info(), mask)
        return self._output(self._observe(None)), info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step every sub-environment with ``actions`` (a batch from ``action_space``)."""
        if not self._has_reset:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        resetting = self._done.copy() if self.autoreset_mode == AutoresetMode.NEXT_STEP else None
        if self.autoreset_mode == AutoresetMode.DISABLED and self._done.any():
            raise RuntimeError(
                f"envs {np.flatnonzero(self._done).tolist()} finished: call reset() (a vector env "
                "can reset some envs with options={'reset_mask': mask}) before stepping them again"
            )
        active = ~resetting if resetting is not None else np.ones(self.num_envs, dtype=bool)
        rewards, terminated, truncated = self._step_envs(actions, active)
        if resetting is not None and resetting.any():
            ids = np.flatnonzero(resetting)
            self._reset_envs(ids, {})
            rewards, terminated, truncated = (
                _zero_at(x, resetting) for x in (rewards, terminated, truncated)
            )
        self._done = _numpy(terminated) | _numpy(truncated)
        obs = self._observe(None)
        info = self._pack_info(self._info(), np.ones(self.num_envs, dtype=bool))
        if self.autoreset_mode == AutoresetMode.SAME_STEP and self._done.any():
            obs, info = self._same_step_reset(obs, info)
        return self._output(obs), *(self._output(x) for x in (rewards, terminated, truncated)), info

    def _same_step_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Record final observations/infos of finished envs, then reset them in this step."""
        done, ids = self._done.copy(), np.flatnonzero(self._done)
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in ids:
            final_obs[i] = self._output(_take(obs, int(i)))
        # as SyncVectorEnv: final_info holds the finished envs' values, zeros elsewhere
        final_info = {k: _zero_rows(v, ~done) for k, v in info.items() if not k.startswith("_")}
        final_info = self._pack_info(final_info, done)
        self._reset_envs(ids, {})
        self._done[ids] = False
        obs = copy_arrays(obs)
        _put(obs, ids, self._observe(ids))
        info = self._pack_info(self._info(), np.ones(self.num_envs, dtype=bool))
        info.update(final_obs=final_obs, _final_obs=done.copy(), final_info=final_info)
        info["_final_info"] = done.copy()
        return obs, info

    def _pack_info(self, info: dict[str, Any], mask: np.ndarray) -> dict[str, Any]:
        """Gymnasium's vector info layout: every key ``k`` has a bool mask ``_k``.

        The masks of one call are one fresh array shared by every key (Gymnasium's wrappers
        read masks; none writes into them): a copy per key cost more than the rest of a
        small batch's info.
        """
        packed: dict[str, Any] = {}
        mask = mask.copy()
        as_is = self.output == "numpy"
        for key, value in info.items():
            if isinstance(value, dict):
                packed[key] = self._pack_info(value, mask)
            elif as_is and type(value) is np.ndarray:
                packed[key] = value
            else:
                packed[key] = self._output(value)
            packed["_" + key] = mask
        return packed

    def _output(self, x: Any) -> Any:
        if isinstance(x, dict):  # a Dict observation
            return {k: self._output(v) for k, v in x.items()}
        if self.output == "numpy":
            return _numpy(x)
        return x if isinstance(x, torch.Tensor) else torch.as_tensor(x, device=self.device)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One ``rgb_array`` frame per sub-environment (``None`` without a render mode)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; pass render_mode='rgb_array'")
            return None
        return tuple(self._render_env(i) for i in range(self.num_envs))


def check_box_actions(
    actions: Any,
    space: gym.spaces.Box,
    num_envs: int,
    device: torch.device | None = None,
    name: str = "actions",
) -> np.ndarray | torch.Tensor:
    """Validate a batch of continuous ``Box`` actions once; nothing is clipped.

    Args:
        actions: ``[num_envs, *space.shape]`` numbers (numpy array, tensor or sequence).
        space: The single action space, named in error messages.
        num_envs: Batch size the env expects.
        device: If given, return a float tensor on this device; else a float64 numpy array.
        name: How the error messages call the actions (e.g. ``"actions['location']"``).

    Raises:
        TypeError: Not real numbers.
        ValueError: Wrong shape, NaN/inf, or outside ``[space.low, space.high]``.
    """
    arr = (
        actions.detach().cpu().numpy() if isinstance(actions, torch.Tensor) else np.asarray(actions)
    )
    if arr.dtype.kind not in "fiu":  # real numbers (np.issubdtype, without its overhead)
        raise TypeError(
            f"{name} must be real numbers of the action space {space}, got dtype {arr.dtype}"
        )
    expected = (num_envs, *space.shape)
    if arr.shape != expected:
        raise ValueError(
            f"{name} must have shape {expected} for action space {space}, got {arr.shape}"
        )
    # one test for the common (valid) case; the error is worked out only on failure
    if not (np.isfinite(arr) & (arr >= space.low) & (arr <= space.high)).all():
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite (action space {space}), got NaN or inf")
        outside = (arr < space.low) | (arr > space.high)
        raise ValueError(
            f"{name} must lie in the action space {space} (low {space.low.min()}, high "
            f"{space.high.max()}), got {arr[outside][:4].tolist()}"
        )
    if device is None:
        return arr.astype(np.float64)
    return torch.as_tensor(arr, dtype=torch.float32, device=device)


def _numpy(x: Any) -> Any:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _zero_at(x: Any, mask: np.ndarray) -> Any:
    if isinstance(x, torch.Tensor):
        return x.masked_fill(torch.as_tensor(mask, device=x.device), 0)
    x = x.copy()
    x[mask] = 0
    return x


class SingleEnvShell(gym.Env):
    """A ``gym.Env`` over a one-env batch of ``vector_env_class`` (same MDP code, same seeds).

    Subclasses set ``vector_env_class``; constructor keyword arguments are passed through.
    """

    vector_env_class: ClassVar[type[BatchedVectorEnv]]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        self._vec = self.vector_env_class(
            num_envs=1, autoreset_mode=AutoresetMode.DISABLED, render_mode=render_mode, **kwargs
        )
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space
        self.metadata = {k: v for k, v in self._vec.metadata.items() if k != "autoreset_mode"}
        self.render_mode = render_mode

    @property
    def vector_env(self) -> BatchedVectorEnv:
        """The one-env batch this shell drives."""
        return self._vec

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        obs, info = self._vec.reset(seed=seed, options=options)
        self._np_random = self._vec.np_random[0]
        return _take(obs, 0), _unbatch(info)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self._vec.step(_batch_of_one(action))
        return (
            _take(obs, 0), float(reward[0]), bool(terminated[0]), bool(truncated[0]),
            _unbatch(info),
        )  # fmt: skip

    def render(self) -> np.ndarray | None:
        frames = self._vec.render()
        return None if frames is None else frames[0]

    def close(self) -> None:
        self._vec.close()


def _batch_of_one(action: Any) -> Any:
    """A single env's action as a batch of one (a ``Dict`` action part by part)."""
    if isinstance(action, Mapping):
        return {k: _batch_of_one(v) for k, v in action.items()}
    return action[None] if isinstance(action, torch.Tensor) else np.asarray(action)[None]


def _unbatch(info: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in info.items():
        if key.startswith("_"):
            continue
        out[key] = _unbatch(value) if isinstance(value, dict) else value[0]
    return out
