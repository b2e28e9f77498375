"""HSAL's pure batched core: parameters, the flat action encoding and the three decisions.

No gymnasium here: :mod:`visenv.envs.hsal` wraps these functions into the vector env. Every
function takes numpy arrays or torch tensors of a whole batch (``[N, ...]``). The paper's
equations themselves are in :mod:`visenv.core.saliency` and :mod:`visenv.core.multiset`; this
module decides how an env action becomes their inputs (see :mod:`visenv.envs.hsal` for why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import torch

from visenv.core.multiset import multiset_reward
from visenv.core.saliency import (
    covert_glimpse,
    gaussian_mixture_mask,
    inhibition_of_return,
    mixture_parameters,
    priority_map,
)

__all__ = [
    "HSALParams",
    "Phase",
    "action_layout",
    "action_size",
    "classify_step",
    "encode_actions",
    "glimpse_step",
    "mask_action_values",
    "mask_step",
    "select",
]


class Phase(IntEnum):
    """Which decision an env step takes (``obs["phase"]``)."""

    MASK = 0
    GLIMPSE = 1
    CLASSIFY = 2


@dataclass(frozen=True)
class HSALParams:
    """Constants of the MDP (defaults from sec. 3 and appendix A of the paper)."""

    grid: tuple[int, int] = (7, 7)
    channels: int = 64
    num_classes: int = 10
    num_components: int = 5
    num_glimpses: int = 2
    beta_range: tuple[float, float] = (1.5, 2.0)
    alpha_scale: float = 5.0
    kappa_scale: float = 6.0
    max_meta_steps: int = 6
    end_on_empty: bool = False

    def __post_init__(self) -> None:
        checks = {
            "num_components": self.num_components >= 1,
            "num_glimpses": self.num_glimpses >= 1,
            "max_meta_steps": self.max_meta_steps >= 1,
            "beta_range": 0 < self.beta_range[0] <= self.beta_range[1],
            "alpha_scale": self.alpha_scale > 0,
            "kappa_scale": self.kappa_scale > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name} is out of range: {getattr(self, name)!r}")

    @property
    def num_cells(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def stop_label(self) -> int:
        return self.num_classes


def action_layout(params: HSALParams) -> dict[str, slice]:
    """Slices of the flat action: ``mask`` (4K), ``location`` (h*w), ``label`` (C + stop)."""
    k4, cells = 4 * params.num_components, params.num_cells
    return {
        "mask": slice(0, k4),
        "location": slice(k4, k4 + cells),
        "label": slice(k4 + cells, k4 + cells + params.num_classes + 1),
    }


def action_size(params: HSALParams) -> int:
    return action_layout(params)["label"].stop


def encode_actions(
    params: HSALParams,
    num_envs: int,
    *,
    mask: np.ndarray | None = None,
    location: np.ndarray | None = None,
    label: np.ndarray | None = None,
) -> np.ndarray:
    """Flat actions ``float32 [N, D]`` from per-phase choices (zeros elsewhere).

    Args:
        mask: ``[N, 4K]`` mask slices in ``[-1, 1]`` (see :func:`mask_action_values`).
        location: ``[N]`` flat cells (row-major), written as one-hot scores.
        label: ``[N]`` labels, ``C`` = stop, written as one-hot scores.
    """
    layout = action_layout(params)
    out = np.zeros((num_envs, action_size(params)), dtype=np.float32)
    rows = np.arange(num_envs)
    if mask is not None:
        out[:, layout["mask"]] = mask
    if location is not None:
        out[rows, layout["location"].start + np.asarray(location)] = 1
    if label is not None:
        out[rows, layout["label"].start + np.asarray(label)] = 1
    return out


def mask_action_values(
    params: HSALParams,
    kappa1: np.ndarray,
    kappa2: np.ndarray,
    beta: np.ndarray | float = 1.5,
    alpha_logits: np.ndarray | float = 0.0,
) -> np.ndarray:
    """The mask slice ``[..., 4K]`` that places the components at ``kappa1`` (rows) and
    ``kappa2`` (columns), ``[..., K]`` in grid units, with width ``beta`` and mixture logits
    ``alpha_logits``: the inverse of the env's decoding. Values the box cannot hold (a centre
    within 0.02 cells of the grid's edge, a ``beta`` outside ``beta_range``) are clipped to
    ``[-1, 1]``, i.e. to the nearest mask the env can make."""
    k = params.num_components
    kappa1, kappa2 = np.asarray(kappa1, float), np.asarray(kappa2, float)
    shape = np.broadcast_shapes(kappa1.shape, kappa2.shape)
    if not shape or shape[-1] != k:
        raise ValueError(f"kappa1 and kappa2 must have K={k} components last, got shape {shape}")
    h, w = params.grid
    eps = 1e-6

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, eps, 1 - eps)
        return np.log(p / (1 - p))

    low, high = (math.log(b) for b in params.beta_range)
    beta_a = (np.log(np.asarray(beta, float)) - low) / max(high - low, eps) * 2 - 1
    parts = [
        np.broadcast_to(np.asarray(alpha_logits, float) / params.alpha_scale, shape),
        np.broadcast_to(beta_a, shape),
        np.broadcast_to(logit(kappa1 / h) / params.kappa_scale, shape),
        np.broadcast_to(logit(kappa2 / w) / params.kappa_scale, shape),
    ]
    return np.clip(np.concatenate(parts, axis=-1), -1, 1)


def _raw_mask_parameters(params: HSALParams, mask_actions: Any) -> Any:
    """Mask slices in ``[-1, 1]`` -> the paper's raw ``(alpha, beta, kappa1, kappa2)`` vector."""
    k = params.num_components
    low, high = (math.log(b) for b in params.beta_range)
    a, b, k1, k2 = (mask_actions[..., i * k : (i + 1) * k] for i in range(4))
    cat = torch.cat if isinstance(mask_actions, torch.Tensor) else np.concatenate
    beta_raw = low + (b + 1) / 2 * (high - low)
    return cat(
        [params.alpha_scale * a, beta_raw, params.kappa_scale * k1, params.kappa_scale * k2], -1
    )


def mask_step(params: HSALParams, mask_actions: Any, saliency: Any, volume: Any) -> tuple[Any, ...]:
    """The meta-controller's step: ``(M [N, h, w], P [N, h, w], g0 [N, C])``.

    ``M`` is the Gaussian mixture of the decoded parameters, kept at most 1 (a softmax sums to
    1 only up to rounding); ``P = M * S`` stretched to ``[0, 1]``; ``g0 = sum M V``.
    """
    raw = _raw_mask_parameters(params, mask_actions)
    mask = gaussian_mixture_mask(
        *mixture_parameters(raw, params.grid, params.beta_range), params.grid
    )
    mask = mask.clip(0, 1)
    return mask, priority_map(mask, saliency), covert_glimpse(mask, volume)


def glimpse_step(priority: Any, volume: Any, cells: Any) -> tuple[Any, Any]:
    """A controller glimpse at flat ``cells [N]``: ``(rewards P[cell] [N], columns V[:, cell]
    [N, C])``."""
    n, c = volume.shape[:2]
    rows = torch.arange(n, device=cells.device) if isinstance(cells, torch.Tensor) else np.arange(n)
    rewards = priority.reshape(n, -1)[rows, cells]
    return rewards, volume.reshape(n, c, -1)[rows, :, cells]


def classify_step(
    params: HSALParams, remaining: Any, labels: Any, saliency: Any, mask: Any, glimpsed: Any
) -> tuple[Any, Any, Any, Any]:
    """The controller's label and the update: ``(rewards, remaining after, stopped,
    next saliency)`` (see :func:`~visenv.core.multiset.multiset_reward` and
    :func:`~visenv.core.saliency.inhibition_of_return`)."""
    rewards, after, stopped = multiset_reward(remaining, labels, params.stop_label)
    return rewards, after, stopped, inhibition_of_return(saliency, mask, glimpsed)


def select(cond: Any, a: Any, b: Any) -> Any:
    """Per-env select: ``cond [N]`` broadcast over the trailing axes of ``a`` and ``b``."""
    shape = cond.shape + (1,) * (a.ndim - 1)
    if isinstance(a, torch.Tensor):
        return torch.where(cond.reshape(shape), a, b)
    return np.where(cond.reshape(shape), a, b)
