"""Saliency, covert attention masks and inhibition of return on a grid (HSAL, paper 001, sec. 3).

Every function takes a batch (any leading shape ``[...]``) of numpy arrays or torch tensors
and returns the same kind on the same device, so the OpenCV path and the torch path of the HSAL
env run the same lines. Maps are ``[..., h, w]`` with cell ``(i, j)`` (row ``i``, column ``j``,
0-based) centred at ``(i + 0.5, j + 0.5)`` in grid units: the pixel-edge convention of
:mod:`visenv.core`, applied to the grid of the activation volume. Flat cell indices are
row-major, ``i * w + j``.

The equations, with the paper's names:

* saliency ``F(V) = sum_c V_c^2`` (sec. 3, "Saliency Model");
* the mask ``M_ij = sum_k alpha_k exp(-beta_k [(kappa1_k - i)^2 + (kappa2_k - j)^2])`` with
  ``alpha = softmax``, ``beta = exp``, ``kappa1 = sigmoid * h``, ``kappa2 = sigmoid * w`` of a
  raw ``4K`` vector ``(alpha, beta, kappa1, kappa2)`` ("Gaussian Attention Mechanism");
* priority ``P = M * S`` and the initial glimpse ``g0 = sum_ij M_ij V_:ij`` ("Interface");
* the update ``S_ij <- 0`` at glimpsed cells, ``max(S_ij - M_ij, 0)`` elsewhere ("Update
  Mechanism", inhibition of return).
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = [
    "beta_bounds_raw",
    "cell_centers",
    "covert_glimpse",
    "gaussian_mixture_mask",
    "inhibition_of_return",
    "mixture_parameters",
    "normalize_min_max",
    "priority_map",
    "saliency_map",
]


def _exp(x: Array) -> Array:
    return torch.exp(x) if isinstance(x, torch.Tensor) else np.exp(x)


def _amax(x: Array, axes: tuple[int, ...], keepdims: bool = True) -> Array:
    if isinstance(x, torch.Tensor):
        return torch.amax(x, dim=axes, keepdim=keepdims)
    return np.max(x, axis=axes, keepdims=keepdims)


def _amin(x: Array, axes: tuple[int, ...]) -> Array:
    if isinstance(x, torch.Tensor):
        return torch.amin(x, dim=axes, keepdim=True)
    return np.min(x, axis=axes, keepdims=True)


def _where(cond: Array, a: Array | float, b: Array | float) -> Array:
    if isinstance(cond, torch.Tensor):
        return torch.where(cond, a, b)
    return np.where(cond, a, b)


def saliency_map(volume: Array) -> Array:
    """``F(V) = sum_c V_c^2``: activation volumes ``[..., C, h, w]`` -> saliency ``[..., h, w]``."""
    return (volume * volume).sum(-3)


def normalize_min_max(maps: Array) -> Array:
    """Stretch each ``[h, w]`` map of ``maps [..., h, w]`` to minimum 0 and maximum 1.

    A constant map (nothing stands out, e.g. all zero after inhibition of return) becomes all
    zeros rather than a division by zero.
    """
    low, high = _amin(maps, (-2, -1)), _amax(maps, (-2, -1))
    span = high - low
    safe = _where(span > 0, span, 1.0)
    return _where(span > 0, (maps - low) / safe, 0.0 * maps)


def cell_centers(size: tuple[int, int], like: Array) -> tuple[Array, Array]:
    """Row and column coordinates of the cell centres, ``[h]`` and ``[w]``, like ``like``."""
    h, w = size
    if isinstance(like, torch.Tensor):
        rows = torch.arange(h, dtype=like.dtype, device=like.device) + 0.5
        cols = torch.arange(w, dtype=like.dtype, device=like.device) + 0.5
        return rows, cols
    return np.arange(h, dtype=like.dtype) + 0.5, np.arange(w, dtype=like.dtype) + 0.5


def mixture_parameters(
    raw: Array, size: tuple[int, int], beta_range: tuple[float, float] = (1.5, 2.0)
) -> tuple[Array, Array, Array, Array]:
    """The paper's transforms of a raw ``[..., 4K]`` vector ``(alpha, beta, kappa1, kappa2)``.

    ``alpha = softmax(alpha)``, ``beta = exp(beta)`` kept in ``beta_range`` (appendix A: "each
    beta constrained to [1.5, 2.0]"; a raw beta inside ``[log 1.5, log 2]`` is used as is),
    ``kappa1 = sigmoid(kappa1) * h`` (rows), ``kappa2 = sigmoid(kappa2) * w`` (columns), so the
    centres range over the whole grid, ``(0, h) x (0, w)``.

    Returns:
        ``(alpha, beta, kappa1, kappa2)``, each ``[..., K]``.
    """
    k = raw.shape[-1] // 4
    if raw.shape[-1] != 4 * k or k < 1:
        raise ValueError(f"raw mixture parameters must be [..., 4K], got {tuple(raw.shape)}")
    a, b, k1, k2 = (raw[..., i * k : (i + 1) * k] for i in range(4))
    a = _exp(a - _amax(a, (-1,)))
    alpha = a / a.sum(-1)[..., None]
    beta = _exp(b).clip(*beta_range)
    kappa1 = size[0] / (1 + _exp(-k1))
    kappa2 = size[1] / (1 + _exp(-k2))
    return alpha, beta, kappa1, kappa2


def gaussian_mixture_mask(
    alpha: Array, beta: Array, kappa1: Array, kappa2: Array, size: tuple[int, int]
) -> Array:
    """``M_ij = sum_k alpha_k exp(-beta_k [(kappa1_k - i)^2 + (kappa2_k - j)^2])``.

    Args:
        alpha, beta, kappa1, kappa2: ``[..., K]`` (already transformed, see
            :func:`mixture_parameters`); ``kappa1`` are rows, ``kappa2`` columns, in grid units.
        size: ``(h, w)`` of the mask.

    Returns:
        ``[..., h, w]`` masks. With ``alpha`` summing to 1 every value lies in ``[0, 1]`` (up
        to rounding).
    """
    rows, cols = cell_centers(size, kappa1)
    d_row = (kappa1[..., :, None] - rows) ** 2  # [..., K, h]
    d_col = (kappa2[..., :, None] - cols) ** 2  # [..., K, w]
    dist = d_row[..., :, :, None] + d_col[..., :, None, :]  # [..., K, h, w]
    return (alpha[..., None, None] * _exp(-beta[..., None, None] * dist)).sum(-3)


def priority_map(mask: Array, saliency: Array) -> Array:
    """``P = M * S``, stretched to ``[0, 1]`` (appendix A: "the priority maps ... are normalized
    to have maximum 1 and minimum 0"). ``[..., h, w]`` -> ``[..., h, w]``."""
    return normalize_min_max(mask * saliency)


def covert_glimpse(mask: Array, volume: Array) -> Array:
    """``g0 = sum_ij M_ij V_:ij``: masks ``[..., h, w]``, volumes ``[..., C, h, w]`` ->
    glimpse vectors ``[..., C]``."""
    return (mask[..., None, :, :] * volume).sum((-2, -1))


def inhibition_of_return(saliency: Array, mask: Array, glimpsed: Array) -> Array:
    """The saliency of the next meta step (sec. 3, "Update Mechanism").

    Args:
        saliency: ``S_t [N, h, w]``.
        mask: ``M_t [N, h, w]``.
        glimpsed: ``[N, k]`` flat cell indices (row-major) of the ``k`` glimpses.

    Returns:
        ``S_{t+1} [N, h, w]``: 0 at glimpsed cells, ``max(S_t - M_t, 0)`` elsewhere.
    """
    n, h, w = saliency.shape
    if isinstance(saliency, torch.Tensor):
        out = torch.clamp(saliency - mask, min=0).reshape(n, h * w)
        out = out.scatter(1, glimpsed.long(), 0.0)
    else:
        out = np.maximum(saliency - mask, 0).reshape(n, h * w)
        out[np.arange(n)[:, None], glimpsed] = 0
    return out.reshape(n, h, w)


def beta_bounds_raw(beta_range: tuple[float, float]) -> tuple[float, float]:
    """``(log low, log high)``: the raw betas whose ``exp`` lies in ``beta_range``."""
    return math.log(beta_range[0]), math.log(beta_range[1])
