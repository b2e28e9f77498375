"""BGCut's feature-map kernels against slow references written from the paper (sec. 2.2, 2.3)."""

from __future__ import annotations

from collections import deque
from fractions import Fraction

import numpy as np
import pytest
import torch

from visenv.core.cuts import (
    kept_boxes,
    kept_cells,
    largest_region_boxes,
    refine_boxes,
    sum_pool,
    zero_outside_cells,
)

RNG = np.random.default_rng(0)
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device(name)


def random_cuts(n: int, grid: int) -> np.ndarray:
    """Cut states that leave at least one unit in each direction."""
    top = RNG.integers(0, grid, n)
    bottom = RNG.integers(0, grid - top)
    left = RNG.integers(0, grid, n)
    right = RNG.integers(0, grid - left)
    return np.stack([top, bottom, left, right], axis=1)


def reference_keep(cuts, h: int, w: int, grid: int) -> np.ndarray:
    """``bool [h, w]``: cell (i, j) is kept iff its centre lies in the kept box, in exact
    rational arithmetic."""
    top, bottom, left, right = (int(c) for c in cuts)
    keep = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            cy, cx = Fraction(2 * i + 1, 2 * h), Fraction(2 * j + 1, 2 * w)
            inside_y = Fraction(top, grid) <= cy <= 1 - Fraction(bottom, grid)
            inside_x = Fraction(left, grid) <= cx <= 1 - Fraction(right, grid)
            keep[i, j] = inside_y and inside_x
    return keep


def cells_to_mask(cells: np.ndarray, h: int, w: int) -> np.ndarray:
    x1, y1, x2, y2 = cells
    mask = np.zeros((h, w), dtype=bool)
    mask[y1:y2, x1:x2] = True
    return mask


@pytest.mark.parametrize(("h", "w", "grid"), [(28, 28, 28), (14, 14, 28), (7, 9, 28), (28, 20, 8)])
def test_kept_cells_follow_the_centre_rule(h, w, grid):
    cuts = random_cuts(20, grid)
    cells = kept_cells(cuts, (h, w), grid)
    for c, box in zip(cuts, cells, strict=True):
        np.testing.assert_array_equal(cells_to_mask(box, h, w), reference_keep(c, h, w, grid))
    torch.testing.assert_close(
        kept_cells(torch.as_tensor(cuts), (h, w), grid), torch.as_tensor(cells)
    )


def test_on_a_28_grid_a_cut_removes_exactly_its_rows_and_columns():
    cuts = np.array([[1, 2, 3, 0], [0, 0, 0, 0], [27, 0, 0, 27]])
    np.testing.assert_array_equal(
        kept_cells(cuts, (28, 28), 28), [[3, 1, 28, 26], [0, 0, 28, 28], [0, 27, 1, 28]]
    )


def test_kept_boxes_are_fractions_of_the_map():
    cuts = np.array([[7, 0, 14, 7]])
    np.testing.assert_allclose(kept_boxes(cuts, 28), [[0.5, 0.25, 0.75, 1.0]])
    torch.testing.assert_close(
        kept_boxes(torch.as_tensor(cuts), 28),
        torch.tensor([[0.5, 0.25, 0.75, 1.0]], dtype=torch.float64),
    )


def reference_zero_outside(maps: np.ndarray, cells: np.ndarray) -> np.ndarray:
    out = np.zeros_like(maps)
    for n in range(len(maps)):
        x1, y1, x2, y2 = cells[n]
        for i in range(maps.shape[2]):
            for j in range(maps.shape[3]):
                if y1 <= i < y2 and x1 <= j < x2:
                    out[n, :, i, j] = maps[n, :, i, j]
    return out


@pytest.mark.parametrize("device", DEVICES)
def test_zero_outside_cells_matches_a_loop(device):
    maps = RNG.normal(size=(5, 3, 28, 28)).astype(np.float32)
    cells = kept_cells(random_cuts(5, 28), (28, 28), 28)
    expected, before = reference_zero_outside(maps, cells), maps.copy()
    out = zero_outside_cells(maps, cells)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(maps, before)  # a copy: the input is left alone
    assert not np.signbit(out[out == 0]).any()  # zeros, not -0.0 from negative features
    dev = _device(device)
    got = zero_outside_cells(torch.as_tensor(maps, device=dev), torch.as_tensor(cells, device=dev))
    np.testing.assert_array_equal(got.cpu().numpy(), expected)


def reference_largest_region(heat: np.ndarray, threshold: float) -> np.ndarray:
    """Breadth-first flood fill with 8 neighbours; the largest region, first in raster order."""
    h, w = heat.shape
    on = heat >= threshold * heat.max()
    seen = np.zeros_like(on)
    best, best_box = 0, [0, 0, w, h]
    for i in range(h):
        for j in range(w):
            if not on[i, j] or seen[i, j]:
                continue
            queue, cells = deque([(i, j)]), []
            seen[i, j] = True
            while queue:
                y, x = queue.popleft()
                cells.append((y, x))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if 0 <= ny < h and 0 <= nx < w and on[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            queue.append((ny, nx))
            if len(cells) > best:
                ys, xs = zip(*cells, strict=True)
                best, best_box = len(cells), [min(xs), min(ys), max(xs) + 1, max(ys) + 1]
    return np.array(best_box)


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.9])
def test_largest_region_boxes_match_a_flood_fill(threshold):
    heat = RNG.random((12, 14, 11)) ** 3  # sparse bright cells: many regions per map
    boxes = largest_region_boxes(heat, threshold)
    for map_, box in zip(heat, boxes, strict=True):
        np.testing.assert_array_equal(box, reference_largest_region(map_, threshold))


def test_refinement_on_a_synthetic_heat_map_with_a_known_answer():
    """Two blobs: the larger (12 cells, rows 2-4, columns 5-8) wins over the brighter small one;
    the refined box is its box (in image pixels) intersected with the agent's box."""
    heat = np.zeros((1, 10, 10))
    heat[0, 2:5, 5:9] = 0.6  # 3 x 4 = 12 cells
    heat[0, 7:9, 0:2] = 1.0  # 2 x 2 = 4 cells, the maximum
    heat[0, 0, 0] = 0.2  # under 0.5 * max: not part of any region
    cells = largest_region_boxes(heat, 0.5)
    np.testing.assert_array_equal(cells, [[5, 2, 9, 5]])
    # a 200 x 100 image: one cell is 20 x 10 pixels
    region = cells * np.array([20.0, 10.0, 20.0, 10.0])
    np.testing.assert_array_equal(region, [[100, 20, 180, 50]])
    agent = np.array([[60.0, 0.0, 150.0, 100.0]])
    np.testing.assert_array_equal(refine_boxes(agent, region), [[100, 20, 150, 50]])
    # a higher threshold keeps only the bright blob
    np.testing.assert_array_equal(largest_region_boxes(heat, 0.8), [[0, 7, 2, 9]])
    # torch in, torch out
    got = largest_region_boxes(torch.as_tensor(heat), 0.5)
    assert isinstance(got, torch.Tensor) and got.tolist() == [[5, 2, 9, 5]]


def test_ties_go_to_the_first_region_and_regions_do_not_cross_maps():
    heat = np.zeros((2, 4, 4))
    heat[0, 0, 3] = heat[0, 3, 0] = 1.0  # two single cells
    heat[1, 0, :] = 1.0  # the top row of map 1 touches map 0's bottom row once stacked
    heat[0, 3, :] = 0.5
    boxes = largest_region_boxes(heat, 0.5)
    np.testing.assert_array_equal(boxes, [[0, 3, 4, 4], [0, 0, 4, 1]])
    heat = np.zeros((1, 3, 3))
    heat[0, 0, 2] = heat[0, 2, 0] = 1.0
    np.testing.assert_array_equal(largest_region_boxes(heat, 0.5), [[2, 0, 3, 1]])


def test_refined_box_falls_back_to_the_agent_box_when_disjoint():
    agent = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]], dtype=torch.float64)
    region = torch.tensor([[20.0, 20.0, 30.0, 30.0], [5.0, 5.0, 30.0, 30.0]], dtype=torch.float64)
    out = refine_boxes(agent, region)
    assert out.tolist() == [[0, 0, 10, 10], [5, 5, 10, 10]]


def test_sum_pool_sums_channels():
    maps = RNG.random((2, 4, 3, 5))
    np.testing.assert_allclose(sum_pool(maps), maps.sum(1))
    torch.testing.assert_close(sum_pool(torch.as_tensor(maps)), torch.as_tensor(maps.sum(1)))
