"""Glimpse-sensor geometry and patch statistics of the recurrent attention model (RAM).

Mnih et al. (2014) and paper 002 (sec. 4.2, 5): a glimpse at a location ``l`` in ``[-1, 1]^2``
is ``m`` concentric square patches, the first ``g x g`` pixels and each next one twice as large,
all resampled to ``g x g``. The top-down half of paper 002 (sec. 4.1) splits a region into its
2 x 2 quadrants at every level of an image pyramid. Coordinates follow :mod:`visenv.core`:
pixel-edge boxes ``(x1, y1, x2, y2)``; ``(-1, -1)`` is the top-left corner, ``(1, 1)`` the
bottom-right one.

Every function takes numpy arrays or torch tensors and returns the same kind.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = [
    "ENTROPY_THRESHOLD",
    "all_quadrants",
    "binary_patch_entropy",
    "glimpse_boxes",
    "quadrant_view_size",
]

#: Grey level at which :func:`binary_patch_entropy` splits a patch into its two bins.
ENTROPY_THRESHOLD = 128


def glimpse_boxes(
    locations: Array,
    image_size: tuple[int, int],
    size: float,
    num_scales: int,
    scale_factor: float = 2.0,
) -> Array:
    """Boxes of RAM's glimpse sensor, smallest first.

    Args:
        locations: Glimpse centres in ``[-1, 1]^2``, ``[..., 2]`` as ``(x, y)``.
        image_size: ``(height, width)`` of the image the locations refer to.
        size: Side ``g`` of the smallest patch, in image pixels.
        num_scales: Number of patches ``m``.
        scale_factor: Ratio of consecutive sides (2 in RAM and paper 002).

    Returns:
        Pixel boxes ``[..., m, 4]``; patch ``s`` has side ``g * scale_factor**s``.
    """
    height, width = image_size
    # the same boxes as multiscale_square_boxes(normalized_to_pixel(...)), in fewer array ops:
    # every env step computes them, so they are on the hot path
    offsets = _corner_offsets(float(size), num_scales, float(scale_factor))  # [m, 4]
    if isinstance(locations, torch.Tensor):
        offsets_t = torch.tensor(offsets.tolist(), dtype=locations.dtype, device=locations.device)
        scale = torch.as_tensor([width / 2, height / 2], dtype=locations.dtype)
        centers = (locations + 1) * scale.to(locations.device)
        return torch.cat([centers, centers], dim=-1)[..., None, :] + offsets_t
    centers = (np.asarray(locations, dtype=np.float64) + 1) * [width / 2, height / 2]
    return np.concatenate([centers, centers], axis=-1)[..., None, :] + offsets


@lru_cache(maxsize=32)
def _corner_offsets(size: float, num_scales: int, scale_factor: float) -> np.ndarray:
    """``(-s/2, -s/2, s/2, s/2)`` for each patch side ``s`` (read-only, shared)."""
    half = np.array([size * scale_factor**s for s in range(num_scales)])[:, None] / 2
    offsets = np.concatenate([-half, -half, half, half], axis=1)
    offsets.flags.writeable = False
    return offsets


def all_quadrants(regions: Array) -> Array:
    """The 2 x 2 split of each region (sec. 4.1): ``[..., 4]`` -> ``[..., 4, 4]``.

    Quadrant ``q`` is :func:`visenv.core.boxes.quadrant_boxes`'s: 0 top-left, 1 top-right,
    2 bottom-left, 3 bottom-right.
    """
    # quadrant_boxes' arithmetic (left + col * half_width ...), for all four at once
    cols = _like(regions, [0.0, 1.0, 0.0, 1.0])
    rows = _like(regions, [0.0, 0.0, 1.0, 1.0])
    half_w = (regions[..., 2:3] - regions[..., 0:1]) / 2
    half_h = (regions[..., 3:4] - regions[..., 1:2]) / 2
    x1 = regions[..., 0:1] + cols * half_w  # [..., 4]
    y1 = regions[..., 1:2] + rows * half_h
    parts = [x1, y1, x1 + half_w, y1 + half_h]
    if isinstance(regions, torch.Tensor):
        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _like(x: Array, values: list[float]) -> Array:
    if isinstance(x, torch.Tensor):
        return torch.as_tensor(values, dtype=x.dtype, device=x.device)
    return np.asarray(values, dtype=x.dtype)


def quadrant_view_size(image_size: tuple[int, int], levels: int) -> tuple[int, int]:
    """Pixel size ``(h, w)`` of one quadrant as the top-down agent sees it.

    Level ``l`` (1 = coarsest) of an ``L``-level pyramid shows the current region, ``1/2^(l-1)``
    of the image, at ``1/2^(L-l)`` of the full resolution: ``H / 2^(L-1)`` pixels at every
    level, so each quadrant is ``H / 2^L`` pixels (rounded) on every level.
    """
    return tuple(max(1, round(s / 2**levels)) for s in image_size)  # type: ignore[return-value]


def binary_patch_entropy(patches: Array, threshold: float = ENTROPY_THRESHOLD) -> Array:
    """Entropy in bits of each patch binarised at ``threshold`` (sec. 4.2, eq. 12).

    "For each region we extracted, we threshold it and binarize it into 2 bins and then
    compute its entropy": with ``p`` the share of pixels ``>= threshold`` (after averaging
    colour channels), ``H = -p log2 p - (1 - p) log2 (1 - p)``, in ``[0, 1]``; all-black and
    all-white patches score 0, half-and-half patches 1.

    Args:
        patches: ``[..., h, w, C]`` patches (``C`` channels last, grey ``C = 1``).
        threshold: Grey level splitting the two bins.

    Returns:
        float64 ``[...]``.
    """
    if isinstance(patches, torch.Tensor):
        grey = patches.double().mean(dim=-1)
        p = (grey >= threshold).double().mean(dim=(-2, -1))
        q = 1 - p
        terms = torch.special.xlogy(p, p) + torch.special.xlogy(q, q)
        return -terms / math.log(2)
    patches = np.asarray(patches)
    h, w, channels = patches.shape[-3:]
    # mean >= threshold  <=>  sum >= channels * threshold; integer sums stay exact
    total = patches[..., 0] if channels == 1 else patches.sum(axis=-1, dtype=np.float64)
    bright = (total >= channels * threshold).reshape(*total.shape[:-2], h * w)
    # a patch of h * w pixels has only h * w + 1 possible entropies: look them up
    return _entropy_table(h * w)[bright.sum(axis=-1)]


@lru_cache(maxsize=32)
def _entropy_table(num_pixels: int) -> np.ndarray:
    """Binary entropy in bits of ``k`` bright pixels out of ``num_pixels``, for every ``k``."""
    p = np.arange(num_pixels + 1) / num_pixels
    table = -(_xlog2x(p) + _xlog2x(1 - p)) + 0.0  # + 0.0 turns -0.0 into 0.0
    table.flags.writeable = False
    return table


def _xlog2x(x: np.ndarray) -> np.ndarray:
    """``x * log2(x)`` with ``0 log 0 = 0``."""
    return x * np.log2(np.where(x > 0, x, 1.0))
