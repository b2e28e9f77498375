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
from typing import TypeVar

import numpy as np
import torch

from visenv.core.boxes import multiscale_square_boxes, normalized_to_pixel, quadrant_boxes

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
    centers = normalized_to_pixel(locations, width, height)
    return multiscale_square_boxes(centers, size, num_scales, scale_factor)


def all_quadrants(regions: Array) -> Array:
    """The 2 x 2 split of each region (sec. 4.1): ``[..., 4]`` -> ``[..., 4, 4]``.

    Quadrant ``q`` is :func:`visenv.core.boxes.quadrant_boxes`'s: 0 top-left, 1 top-right,
    2 bottom-left, 3 bottom-right.
    """
    if isinstance(regions, torch.Tensor):
        picks = [torch.full(regions.shape[:-1], q, device=regions.device) for q in range(4)]
        return torch.stack([quadrant_boxes(regions, p) for p in picks], dim=-2)
    picks = [np.full(regions.shape[:-1], q) for q in range(4)]
    return np.stack([quadrant_boxes(regions, p) for p in picks], axis=-2)


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
    grey = np.asarray(patches, dtype=np.float64).mean(axis=-1)
    p = (grey >= threshold).mean(axis=(-2, -1))
    return -(_xlog2x(p) + _xlog2x(1 - p)) + 0.0  # + 0.0 turns -0.0 into 0.0


def _xlog2x(x: np.ndarray) -> np.ndarray:
    """``x * log2(x)`` with ``0 log 0 = 0``."""
    return x * np.log2(np.where(x > 0, x, 1.0))
