import numpy as np
import pytest
import torch

from tests.core.reference import binary_entropy_reference
from visenv.core.glimpses import (
    all_quadrants,
    binary_patch_entropy,
    glimpse_boxes,
    quadrant_view_size,
)

CUDA = pytest.param(
    "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
)


def test_glimpse_boxes_are_concentric_squares_doubling_in_size():
    # (0, 0) is the centre, (1, 1) the bottom-right corner (paper 002, sec. 5)
    locations = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -0.5]])
    boxes = glimpse_boxes(locations, (100, 80), 12, 4)
    assert boxes.shape == (3, 4, 4)
    centres = (boxes[..., :2] + boxes[..., 2:]) / 2
    np.testing.assert_allclose(centres[0], [[40, 50]] * 4)
    np.testing.assert_allclose(centres[1], [[80, 100]] * 4)
    np.testing.assert_allclose(centres[2], [[0, 25]] * 4)
    sides = boxes[..., 2] - boxes[..., 0]
    np.testing.assert_allclose(sides, [[12, 24, 48, 96]] * 3)
    np.testing.assert_allclose(sides, boxes[..., 3] - boxes[..., 1])
    as_tensor = glimpse_boxes(torch.as_tensor(locations), (100, 80), 12, 4)
    np.testing.assert_allclose(as_tensor.numpy(), boxes)


def test_quadrants_tile_the_region_in_reading_order():
    region = np.array([[10.0, 20.0, 60.0, 40.0]])
    quads = all_quadrants(region)[0]
    np.testing.assert_allclose(
        quads,
        [[10, 20, 35, 30], [35, 20, 60, 30], [10, 30, 35, 40], [35, 30, 60, 40]],
    )
    np.testing.assert_allclose(all_quadrants(torch.as_tensor(region))[0].numpy(), quads)


def test_quadrant_views_keep_one_size_on_every_pyramid_level():
    # level 1 shows the 100x100 image at half resolution (50x50), split into 25x25 quadrants;
    # level 2 shows a 50x50 quadrant at full resolution, again 25x25 per quadrant
    assert quadrant_view_size((100, 100), 2) == (25, 25)
    assert quadrant_view_size((28, 28), 2) == (7, 7)
    assert quadrant_view_size((100, 100), 1) == (50, 50)
    assert quadrant_view_size((54, 54), 2) == (14, 14)


@pytest.mark.parametrize("device", ["numpy", "cpu", CUDA])
def test_binary_entropy_matches_the_pixel_loop(device):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (5, 3, 8, 8, 1), dtype=np.uint8)
    grey[0, 0] = 0  # all black: entropy 0
    grey[0, 1] = 255  # all white: entropy 0
    grey[0, 2, :4], grey[0, 2, 4:] = 0, 200  # half and half: 1 bit
    colour = rng.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    for patches in (grey, colour):
        if device == "numpy":
            got = binary_patch_entropy(patches, 128)
        else:
            got = binary_patch_entropy(torch.as_tensor(patches, device=device), 128).cpu().numpy()
        flat = patches.reshape(-1, *patches.shape[-3:])
        ref = [binary_entropy_reference(p, 128) for p in flat]
        np.testing.assert_allclose(got.reshape(-1), ref, atol=1e-12)
    got = binary_patch_entropy(grey, 128)
    assert got[0, 0] == 0 and got[0, 1] == 0 and got[0, 2] == pytest.approx(1.0)


def test_glimpse_boxes_equal_the_generic_box_helpers():
    from visenv.core.boxes import multiscale_square_boxes, normalized_to_pixel

    locations = np.random.default_rng(0).uniform(-1, 1, (5, 3, 2))
    expected = multiscale_square_boxes(normalized_to_pixel(locations, 60, 40), 7, 3, 1.5)
    np.testing.assert_allclose(glimpse_boxes(locations, (40, 60), 7, 3, 1.5), expected)


def test_all_quadrants_equal_quadrant_boxes_exactly():
    from visenv.core.boxes import quadrant_boxes

    regions = np.random.default_rng(1).uniform(0, 90, (6, 4)) * [1, 1, 0, 0] + [0, 0, 95, 97]
    quads = all_quadrants(regions)
    for q in range(4):
        np.testing.assert_array_equal(quads[:, q], quadrant_boxes(regions, np.full(6, q)))
