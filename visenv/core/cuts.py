"""Feature-map cuts and heat-map regions of BGCut (paper 004, sec. 2.2 and 2.3).

A **cut state** is four integers ``(top, bottom, left, right)``: how many ``1 / grid`` of the
map's height (top, bottom) or width (left, right) have been cut off each side (the paper's
actions cut ``1/28``, ``2/28`` or ``3/28`` of a 28 x 28 map, so ``grid = 28``). The part that
is kept is the box ``(left / grid, top / grid, 1 - right / grid, 1 - bottom / grid)`` in
fractions of the map, which is also the fraction of the image (a map shares the image's frame,
see :mod:`visenv.core`). Cut cells are zeroed rather than cropped, so the map keeps its size
and aspect (sec. 2.2, "State").

A cell is kept when its centre lies inside the kept box (both edges inclusive). The test is
done in integers, so it is exact: with ``grid == h`` the cut removes exactly ``top`` rows, and
on any other map size a boundary through a cell centre keeps that cell.

**Refinement** (sec. 2.3): the heat map is the sum of all channels of a map; it is binarised at
``threshold * max`` and the bounding box of its largest connected region (8-connectivity,
most cells; the first in raster order on ties) is intersected with the agent's box.

Every function takes numpy arrays or torch tensors and returns the same kind on the same
device; cell boxes are half-open ``(x1, y1, x2, y2)`` in cells (column, row), the pixel-edge
convention of :mod:`visenv.core` applied to the map's grid.
"""

from __future__ import annotations

from typing import TypeVar

import cv2
import numpy as np
import torch

from visenv.core.boxes import box_area, intersect_boxes

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = [
    "kept_boxes",
    "kept_cells",
    "largest_region_boxes",
    "refine_boxes",
    "sum_pool",
    "zero_outside_cells",
]


def kept_boxes(cuts: Array, grid: int) -> Array:
    """The kept part of each map as a box in fractions ``[0, 1]`` of the map (or image).

    Args:
        cuts (Array[..., 4] int): ``(top, bottom, left, right)`` in units of ``1 / grid``.
        grid: Units per side.

    Returns:
        ``float64 [..., 4]`` boxes ``(x1, y1, x2, y2)``.
    """
    units = cuts.double() if isinstance(cuts, torch.Tensor) else cuts.astype(np.float64)
    top, bottom, left, right = (units[..., k] for k in range(4))
    parts = [left / grid, top / grid, 1 - right / grid, 1 - bottom / grid]
    return torch.stack(parts, dim=-1) if isinstance(cuts, torch.Tensor) else np.stack(parts, -1)


def _first_kept(cut: Array, size: int, grid: int) -> Array:
    """First cell index whose centre ``(i + 0.5) / size`` is ``>= cut / grid``."""
    # (i + 0.5) / size >= cut / grid  <=>  i >= (2 size cut - grid) / (2 grid); ceil by -(-a // b)
    return -((grid - 2 * size * cut) // (2 * grid))


def kept_cells(cuts: Array, size: tuple[int, int], grid: int) -> Array:
    """The cells each cut state keeps, as a half-open cell box ``(x1, y1, x2, y2)``.

    Args:
        cuts (Array[N, 4] int): ``(top, bottom, left, right)`` in units of ``1 / grid``.
        size: ``(h, w)`` of the map.
        grid: Units per side.

    Returns:
        ``int64 [N, 4]``; an extent with no cell centre inside gives ``x2 <= x1`` (nothing kept).
    """
    h, w = size
    top, bottom, left, right = (cuts[..., k] for k in range(4))
    # the last kept cell is one before the first cell past the far edge, (grid - cut) / grid
    y1, y2 = _first_kept(top, h, grid), _first_kept(grid - bottom, h, grid)
    x1, x2 = _first_kept(left, w, grid), _first_kept(grid - right, w, grid)
    # a centre exactly on the far edge is kept too
    y2 = y2 + ((2 * y2 + 1) * grid == 2 * h * (grid - bottom))
    x2 = x2 + ((2 * x2 + 1) * grid == 2 * w * (grid - right))
    if isinstance(cuts, torch.Tensor):
        return torch.stack([x1, y1, x2, y2], dim=-1).long().clamp(0, None)
    return np.clip(np.stack([x1, y1, x2, y2], axis=-1).astype(np.int64), 0, None)


def zero_outside_cells(maps: Array, cells: Array) -> Array:
    """A copy of ``maps`` with every cell outside each map's cell box set to 0.

    Args:
        maps (Array[N, C, h, w]): Feature maps, one per env.
        cells (Array[N, 4] int): Half-open cell boxes ``(x1, y1, x2, y2)`` to keep.

    Returns:
        ``[N, C, h, w]``, same dtype; ``-0.0`` never appears (values are selected, not scaled).
    """
    h, w = maps.shape[-2:]
    if isinstance(maps, torch.Tensor):
        rows = torch.arange(h, device=maps.device)
        cols = torch.arange(w, device=maps.device)
        in_rows = (rows >= cells[:, 1:2]) & (rows < cells[:, 3:4])  # [N, h]
        in_cols = (cols >= cells[:, 0:1]) & (cols < cells[:, 2:3])  # [N, w]
        keep = in_rows[:, None, :, None] & in_cols[:, None, None, :]
        return torch.where(keep, maps, torch.zeros((), dtype=maps.dtype, device=maps.device))
    rows, cols = np.arange(h), np.arange(w)
    in_rows = (rows >= cells[:, 1:2]) & (rows < cells[:, 3:4])
    in_cols = (cols >= cells[:, 0:1]) & (cols < cells[:, 2:3])
    keep = in_rows[:, None, :, None] & in_cols[:, None, None, :]
    return np.where(keep, maps, maps.dtype.type(0))


def sum_pool(maps: Array) -> Array:
    """The heat map of each feature map: the sum over channels. ``[N, C, h, w] -> [N, h, w]``."""
    return maps.sum(1) if isinstance(maps, torch.Tensor) else maps.sum(axis=1)


def largest_region_boxes(heat: Array, threshold: float) -> Array:
    """Cell box of the largest connected region of each heat map at ``threshold * max``.

    All maps are labelled in one OpenCV call: they are stacked with a row of zeros between
    them, which no 8-connected region can cross. A map with no cell at or above the threshold
    (possible only where its maximum is negative) gives the whole map.

    Args:
        heat (Array[N, h, w]): Heat maps.
        threshold: Fraction of each map's maximum at which it is binarised (``>=``).

    Returns:
        ``int64 [N, 4]`` half-open cell boxes ``(x1, y1, x2, y2)`` (a tensor on ``heat``'s
        device for a tensor input).
    """
    values = heat.detach().cpu().numpy() if isinstance(heat, torch.Tensor) else np.asarray(heat)
    n, h, w = values.shape
    peak = values.reshape(n, -1).max(axis=1)
    binary = np.zeros((n, h + 1, w), dtype=np.uint8)
    binary[:, :h] = values >= threshold * peak[:, None, None]
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        binary.reshape(n * (h + 1), w), connectivity=8
    )
    stats = stats[1:count]  # label 0 is the background
    env = stats[:, cv2.CC_STAT_TOP] // (h + 1)
    # per env, the largest region; on ties the lowest label, i.e. the first in raster order
    order = np.lexsort((np.arange(len(stats)), -stats[:, cv2.CC_STAT_AREA], env))
    first = order[np.r_[True, env[order][1:] != env[order][:-1]]] if len(order) else order
    boxes = np.tile(np.array([0, 0, w, h], dtype=np.int64), (n, 1))
    x1, top = stats[first, cv2.CC_STAT_LEFT], stats[first, cv2.CC_STAT_TOP] % (h + 1)
    boxes[env[first]] = np.stack(
        [x1, top, x1 + stats[first, cv2.CC_STAT_WIDTH], top + stats[first, cv2.CC_STAT_HEIGHT]],
        axis=1,
    )
    return torch.as_tensor(boxes, device=heat.device) if isinstance(heat, torch.Tensor) else boxes


def refine_boxes(agent_boxes: Array, region_boxes: Array) -> Array:
    """The agent's boxes intersected with the heat map's region boxes (same frame).

    Where the two are disjoint the intersection would be empty, so the agent's box is kept:
    an empty box can never localise anything.

    Args:
        agent_boxes (Array[..., 4]), region_boxes (Array[..., 4]): ``(x1, y1, x2, y2)``.
    """
    inter = intersect_boxes(agent_boxes, region_boxes)
    empty = (box_area(inter) <= 0)[..., None]
    if isinstance(inter, torch.Tensor):
        return torch.where(empty, agent_boxes.to(inter.dtype), inter)
    return np.where(empty, agent_boxes, inter)
