import numpy as np
import pytest
import torch

from visenv.core import boxes as B


def _iou_reference(a, b):
    """IoU by counting: rasterise both boxes on a fine grid (slow and obvious)."""
    step = 0.05
    xs = np.arange(-20, 60, step) + step / 2
    X, Y = np.meshgrid(xs, xs)
    inside_a = (X >= a[0]) & (X < a[2]) & (Y >= a[1]) & (Y < a[3])
    inside_b = (X >= b[0]) & (X < b[2]) & (Y >= b[1]) & (Y < b[3])
    union = (inside_a | inside_b).sum()
    return (inside_a & inside_b).sum() / union if union else 0.0


def test_iou_against_rasterised_reference():
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = np.sort(rng.uniform(0, 40, (2, 2)), axis=0).T.reshape(-1)[[0, 2, 1, 3]]
        b = np.sort(rng.uniform(0, 40, (2, 2)), axis=0).T.reshape(-1)[[0, 2, 1, 3]]
        assert B.box_iou(a, b) == pytest.approx(_iou_reference(a, b), abs=0.01)


def test_numpy_and_torch_agree_and_keep_their_kind():
    rng = np.random.default_rng(1)
    a = np.sort(rng.uniform(0, 50, (7, 2, 2)), axis=1).transpose(0, 2, 1).reshape(7, 4)
    a = a[:, [0, 2, 1, 3]].astype(np.float32)
    b = a[::-1].copy()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    for name, args in [
        ("box_iou", (a, b)),
        ("pairwise_box_iou", (a, b)),
        ("box_area", (a,)),
        ("clip_boxes", (a, 30.0, 20.0)),
        ("zoom_boxes", (a, 0.8)),
        ("intersect_boxes", (a, b)),
    ]:
        fn = getattr(B, name)
        out_np = fn(*args)
        out_t = fn(*[torch.from_numpy(x) if isinstance(x, np.ndarray) else x for x in args])
        assert isinstance(out_np, np.ndarray) and isinstance(out_t, torch.Tensor)
        np.testing.assert_allclose(out_np, out_t.numpy(), rtol=1e-5, atol=1e-5)
    assert B.pairwise_box_iou(ta, tb).shape == (7, 7)


def test_zoom_keeps_centre_and_scales_size():
    box = np.array([10.0, 20.0, 50.0, 40.0])
    z = B.zoom_boxes(box, 0.8)
    np.testing.assert_allclose(B.box_centers(z), B.box_centers(box))
    np.testing.assert_allclose(B.box_sizes(z), 0.8 * B.box_sizes(box))


def test_clip_translate_and_normalised_round_trip():
    box = np.array([[-5.0, 2.0, 30.0, 50.0]])
    np.testing.assert_allclose(B.clip_boxes(box, 20, 40), [[0, 2, 20, 40]])
    np.testing.assert_allclose(B.translate_boxes(box, np.array([1.0, -2.0])), [[-4, 0, 31, 48]])
    loc = np.array([[-1.0, -1.0], [0.0, 0.0], [1.0, 0.5]])
    px = B.normalized_to_pixel(loc, 100, 60)
    np.testing.assert_allclose(px, [[0, 0], [50, 30], [100, 45]])
    np.testing.assert_allclose(B.pixel_to_normalized(px, 100, 60), loc)


def test_quadrants_tile_the_parent():
    parent = np.array([[0.0, 0.0, 8.0, 6.0]] * 4)
    quads = B.quadrant_boxes(parent, np.arange(4))
    np.testing.assert_allclose(quads, [[0, 0, 4, 3], [4, 0, 8, 3], [0, 3, 4, 6], [4, 3, 8, 6]])
    assert B.box_area(quads).sum() == pytest.approx(48)


def test_glimpse_and_anchor_geometry():
    centers = np.array([[50.0, 40.0]])
    g = B.multiscale_square_boxes(centers, 12, 4)
    assert g.shape == (1, 4, 4)
    np.testing.assert_allclose(B.box_sizes(g)[0, :, 0], [12, 24, 48, 96])
    np.testing.assert_allclose(B.box_centers(g)[0], np.repeat(centers, 4, 0))
    a = B.anchor_boxes(torch.tensor([[256.0, 256.0]]), (80, 160, 320), (2.0, 1.0, 0.5))
    assert a.shape == (1, 9, 4)
    sizes = B.box_sizes(a)[0]
    torch.testing.assert_close(
        sizes[:, 0] * sizes[:, 1], torch.tensor([80.0**2] * 3 + [160.0**2] * 3 + [320.0**2] * 3)
    )
    torch.testing.assert_close(sizes[:3, 0] / sizes[:3, 1], torch.tensor([2.0, 1.0, 0.5]))


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 3)), np.array([[3.0, 0, 1, 1]]), np.array([[0, 0, np.inf, 1]])]
)
def test_check_boxes_rejects_bad_boxes(bad):
    with pytest.raises(ValueError):
        B.check_boxes(bad)
