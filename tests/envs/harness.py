"""What the generic env tests need to know per id, and their helpers.

A new env family adds a line to ``HARNESS_KWARGS`` only if its registered defaults need data
that ../shared/data lacks (e.g. the paper's VOC 07+12 where only VOC2007 is on disk).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces

# arguments that make data-backed ids run on the subsets in ../shared/data
HARNESS_KWARGS: dict[str, dict[str, Any]] = {
    "VisAttn/DQSSTN-VOC-v0": {"year": "2007", "split": "test"},
    "VisAttn/DQSSTN-COCO-v0": {"split": "val"},
    "VisAttn/RARL-COCO-v0": {"split": "val"},  # ../shared/data/coco has only val2017
    # ../shared/data/cifar10 holds only the test images (as class folders)
    "VisAttn/UnifiedAttn-CIFAR10-v0": {"split": "test"},
}


def _bad_discrete(n: int, batch: int | None) -> list[tuple[str, Any]]:
    shape = () if batch is None else (batch,)
    return [
        ("float dtype", np.full(shape, 0.5)),
        ("too large", np.full(shape, n, dtype=np.int64)),
        ("negative", np.full(shape, -1, dtype=np.int64)),
        ("wrong shape", np.zeros((*shape, 2), dtype=np.int64)),
    ]


def _bad_box(space: spaces.Box, batch: int | None) -> list[tuple[str, Any]]:
    shape = space.shape if batch is None else (batch, *space.shape)
    valid = np.broadcast_to(space.sample(), shape).astype(space.dtype)
    nan = valid.copy()
    nan.reshape(-1)[0] = np.nan
    high = valid.copy()
    high.reshape(-1)[0] = (
        np.finfo(np.float32).max if not np.isfinite(space.high).all() else space.high.max() + 1
    )
    return [
        ("NaN", nan),
        ("above high", high),
        ("wrong shape", valid.reshape(-1)[:-1] if valid.size > 1 else valid[..., None, None]),
    ]


def bad_actions(space: spaces.Space, batch: int | None = None) -> list[tuple[str, Any]]:
    """Invalid actions for ``space`` (single) or a ``batch`` of it, with a description each."""
    if isinstance(space, spaces.Discrete):
        return _bad_discrete(int(space.n), batch)
    if isinstance(space, spaces.Box):
        return _bad_box(space, batch)
    if isinstance(space, spaces.MultiDiscrete):
        shape = space.shape if batch is None else (batch, *space.shape)
        return [
            ("float dtype", np.full(shape, 0.5)),
            ("too large", np.broadcast_to(space.nvec, shape).astype(np.int64)),
            ("wrong shape", np.zeros((*shape, 2), dtype=np.int64)),
        ]
    if isinstance(space, spaces.Dict):
        out = []
        for key, sub in space.spaces.items():
            for description, bad in bad_actions(sub, batch):
                valid = space.sample() if batch is None else _batched_sample(space, batch)
                valid[key] = bad
                out.append((f"{key}: {description}", valid))
        return out
    raise NotImplementedError(f"no bad actions defined for {space}; extend tests/envs/harness.py")


def _batched_sample(space: spaces.Dict, batch: int) -> dict[str, Any]:
    samples = [space.sample() for _ in range(batch)]
    return {k: np.stack([s[k] for s in samples]) for k in space.spaces}


def leaves(x: Any) -> list[Any]:
    """The arrays/tensors of an observation (itself, or a ``Dict`` observation's values)."""
    return [leaf for v in x.values() for leaf in leaves(v)] if isinstance(x, dict) else [x]


def differ(a: Any, b: Any) -> bool:
    """Whether two observations (arrays, tensors or dicts of them) differ anywhere."""
    pairs = zip(leaves(a), leaves(b), strict=True)
    return any(not np.array_equal(_as_numpy(x), _as_numpy(y)) for x, y in pairs)


def _as_numpy(x: Any) -> Any:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Recursively assert two results (tuples, dicts, arrays, tensors, scalars) are identical."""
    a, b = _as_numpy(a), _as_numpy(b)
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (
            f"{path}: keys {a.keys()} != {b.keys()}"
        )
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{k}]")
    elif isinstance(a, np.ndarray) and a.dtype == object:
        assert isinstance(b, np.ndarray) and a.shape == b.shape, path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{k}]")
    elif a is None or b is None:
        assert a is b, f"{path}: {a!r} != {b!r}"
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=path)
