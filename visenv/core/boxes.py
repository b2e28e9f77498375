"""Box algebra on batches of ``(x1, y1, x2, y2)`` boxes in pixel-edge coordinates.

See :mod:`visenv.core` for the coordinate convention. Every function here accepts numpy arrays
or torch tensors (on any device) and returns the same kind, so one implementation serves the
OpenCV path and the CUDA path. Shapes are written as ``[..., 4]``: any leading batch shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)
Scalar = float | int

__all__ = [
    "anchor_boxes",
    "box_area",
    "box_centers",
    "box_iou",
    "box_sizes",
    "boxes_from_centers",
    "check_boxes",
    "clip_boxes",
    "intersect_boxes",
    "multiscale_square_boxes",
    "normalized_to_pixel",
    "pairwise_box_iou",
    "pixel_to_normalized",
    "quadrant_boxes",
    "scale_boxes",
    "translate_boxes",
    "zoom_boxes",
]


def _stack(parts: Sequence[Array], dim: int = -1) -> Array:
    if isinstance(parts[0], torch.Tensor):
        return torch.stack(list(parts), dim=dim)
    return np.stack(parts, axis=dim)


def _max(a: Array, b: Array | Scalar) -> Array:
    if isinstance(a, torch.Tensor):
        return torch.clamp(a, min=b) if not isinstance(b, torch.Tensor) else torch.maximum(a, b)
    return np.maximum(a, b)


def _min(a: Array, b: Array | Scalar) -> Array:
    if isinstance(a, torch.Tensor):
        return torch.clamp(a, max=b) if not isinstance(b, torch.Tensor) else torch.minimum(a, b)
    return np.minimum(a, b)


def _like(x: Array, values: Sequence[float] | np.ndarray) -> Array:
    """``values`` as an array of ``x``'s kind, dtype and device."""
    if isinstance(x, torch.Tensor):
        return torch.as_tensor(np.asarray(values), dtype=x.dtype, device=x.device)
    return np.asarray(values, dtype=x.dtype)


def check_boxes(boxes: np.ndarray | torch.Tensor, name: str = "boxes") -> None:
    """Raise ``ValueError`` unless ``boxes`` is a ``[..., 4]`` array of finite, ordered boxes.

    Args:
        boxes: Boxes ``(x1, y1, x2, y2)``.
        name: How the error message refers to the argument.
    """
    if boxes.shape[-1:] != (4,):
        raise ValueError(
            f"{name} must have shape [..., 4] (x1, y1, x2, y2), got {tuple(boxes.shape)}"
        )
    arr = boxes.detach().cpu().numpy() if isinstance(boxes, torch.Tensor) else np.asarray(boxes)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr).all(-1)][:3]}")
    bad = (arr[..., 2] < arr[..., 0]) | (arr[..., 3] < arr[..., 1])
    if np.any(bad):
        raise ValueError(f"{name} must satisfy x1 <= x2 and y1 <= y2, got {arr[bad][:3].tolist()}")


def box_area(boxes: Array) -> Array:
    """Area of each box; empty (inverted) boxes have area 0. ``[..., 4] -> [...]``."""
    w = _max(boxes[..., 2] - boxes[..., 0], 0)
    h = _max(boxes[..., 3] - boxes[..., 1], 0)
    return w * h


def intersect_boxes(a: Array, b: Array) -> Array:
    """Element-wise intersection box (broadcasting); disjoint pairs give a zero-area box."""
    x1 = _max(a[..., 0], b[..., 0])
    y1 = _max(a[..., 1], b[..., 1])
    x2 = _max(_min(a[..., 2], b[..., 2]), x1)
    y2 = _max(_min(a[..., 3], b[..., 3]), y1)
    return _stack([x1, y1, x2, y2])


def box_iou(a: Array, b: Array) -> Array:
    """Element-wise intersection over union of ``a`` and ``b`` (broadcasting), in ``[0, 1]``.

    Two empty boxes have IoU 0.
    """
    inter = box_area(intersect_boxes(a, b))
    union = box_area(a) + box_area(b) - inter
    return inter / _max(union, 1e-12)


def pairwise_box_iou(a: Array, b: Array) -> Array:
    """IoU of every box in ``a [N, 4]`` with every box in ``b [M, 4]``: ``[N, M]``."""
    return box_iou(a[:, None, :], b[None, :, :])


def box_centers(boxes: Array) -> Array:
    """Centre ``(cx, cy)`` of each box. ``[..., 4] -> [..., 2]``."""
    return _stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2])


def box_sizes(boxes: Array) -> Array:
    """Size ``(w, h)`` of each box. ``[..., 4] -> [..., 2]``."""
    return _stack([boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]])


def boxes_from_centers(centers: Array, sizes: Array) -> Array:
    """Boxes from centres ``[..., 2]`` and sizes ``(w, h)`` ``[..., 2]`` (broadcasting)."""
    half_w, half_h = sizes[..., 0] / 2, sizes[..., 1] / 2
    cx, cy = centers[..., 0], centers[..., 1]
    return _stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h])


def clip_boxes(boxes: Array, width: Array | Scalar, height: Array | Scalar) -> Array:
    """Clip boxes to ``[0, width] x [0, height]``; ``width``/``height`` broadcast over ``[...]``."""
    x1 = _min(_max(boxes[..., 0], 0), width)
    y1 = _min(_max(boxes[..., 1], 0), height)
    x2 = _min(_max(boxes[..., 2], 0), width)
    y2 = _min(_max(boxes[..., 3], 0), height)
    return _stack([x1, y1, x2, y2])


def zoom_boxes(boxes: Array, factor: Array | Scalar) -> Array:
    """Scale each box about its centre: ``factor < 1`` zooms in (a smaller window)."""
    centers = box_centers(boxes)
    sizes = box_sizes(boxes) * (factor[..., None] if hasattr(factor, "shape") else factor)
    return boxes_from_centers(centers, sizes)


def translate_boxes(boxes: Array, offsets: Array) -> Array:
    """Move each box by ``offsets (dx, dy)`` ``[..., 2]`` pixels (broadcasting)."""
    dx, dy = offsets[..., 0], offsets[..., 1]
    return _stack([boxes[..., 0] + dx, boxes[..., 1] + dy, boxes[..., 2] + dx, boxes[..., 3] + dy])


def scale_boxes(boxes: Array, sx: Array | Scalar, sy: Array | Scalar) -> Array:
    """Multiply x coordinates by ``sx`` and y by ``sy``: image frame -> feature-map frame."""
    return _stack([boxes[..., 0] * sx, boxes[..., 1] * sy, boxes[..., 2] * sx, boxes[..., 3] * sy])


def normalized_to_pixel(loc: Array, width: Array | Scalar, height: Array | Scalar) -> Array:
    """Locations in ``[-1, 1]^2`` ``[..., 2]`` to pixel-edge coordinates ``(x, y)``."""
    return _stack([(loc[..., 0] + 1) / 2 * width, (loc[..., 1] + 1) / 2 * height])


def pixel_to_normalized(xy: Array, width: Array | Scalar, height: Array | Scalar) -> Array:
    """Pixel-edge coordinates ``(x, y)`` ``[..., 2]`` to locations in ``[-1, 1]^2``."""
    return _stack([xy[..., 0] / width * 2 - 1, xy[..., 1] / height * 2 - 1])


def quadrant_boxes(boxes: Array, quadrant: Array) -> Array:
    """The quadrant of each box picked by ``quadrant`` (0 top-left, 1 top-right, 2 bottom-left,
    3 bottom-right). ``boxes [..., 4]``, ``quadrant [...]`` integers -> ``[..., 4]``.
    """
    if isinstance(quadrant, torch.Tensor):
        col, row = (quadrant % 2).to(boxes.dtype), (quadrant // 2).to(boxes.dtype)
    else:
        col, row = (quadrant % 2).astype(boxes.dtype), (quadrant // 2).astype(boxes.dtype)
    half_w = (boxes[..., 2] - boxes[..., 0]) / 2
    half_h = (boxes[..., 3] - boxes[..., 1]) / 2
    x1 = boxes[..., 0] + col * half_w
    y1 = boxes[..., 1] + row * half_h
    return _stack([x1, y1, x1 + half_w, y1 + half_h])


def multiscale_square_boxes(
    centers: Array, size: float, num_scales: int, scale_factor: float = 2.0
) -> Array:
    """Concentric squares around each centre, each ``scale_factor`` times the previous.

    The glimpse sensor of RAM (Mnih et al. 2014): patch ``s`` has side ``size * factor**s``.

    Args:
        centers: Centres ``(x, y)`` in pixels, ``[..., 2]``.
        size: Side of the smallest square in pixels.
        num_scales: Number of squares ``m``.
        scale_factor: Ratio between consecutive sides.

    Returns:
        Boxes ``[..., m, 4]``, smallest first.
    """
    sides = _like(centers, [size * scale_factor**s for s in range(num_scales)])
    sizes = _stack([sides, sides])  # [m, 2]
    return boxes_from_centers(centers[..., None, :], sizes)


def anchor_boxes(centers: Array, sides: Sequence[float], aspect_ratios: Sequence[float]) -> Array:
    """Anchor regions of Faster R-CNN around each centre: every (area, aspect ratio) pair.

    A region with side ``s`` and aspect ratio ``r = w / h`` has area ``s * s``, width
    ``s * sqrt(r)`` and height ``s / sqrt(r)``. Scales vary slowest.

    Args:
        centers: Centres ``(x, y)``, ``[..., 2]``.
        sides: Square-root of each anchor area, e.g. ``(80, 160, 320)``.
        aspect_ratios: Width over height, e.g. ``(2.0, 1.0, 0.5)``.

    Returns:
        Boxes ``[..., len(sides) * len(aspect_ratios), 4]``.
    """
    whs = [(s * np.sqrt(r), s / np.sqrt(r)) for s in sides for r in aspect_ratios]
    return boxes_from_centers(centers[..., None, :], _like(centers, whs))
