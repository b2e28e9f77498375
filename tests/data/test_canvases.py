"""Episode images of the glimpse envs: digit canvases (RAM protocol) and SVHN crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.data.test_svhn import make_svhn_tree
from visenv.data import DatasetNotFoundError, LabelledImages, load_dataset
from visenv.data.canvases import (
    INK_THRESHOLD,
    DigitCanvases,
    SVHNSequences,
    boxes_to_masks,
    episode_images,
)


def _pool(n=12, seed=0):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):  # a bright bar at a random place, faint noise around it
        images[k] = rng.integers(0, 40, (28, 28))
        x, y = rng.integers(4, 16, 2)
        images[k, y : y + 10, x : x + 6] = 200 + k
    return LabelledImages(images, np.arange(n) % 10, tuple("0123456789"), "bars")


def _paint_slowly(pool, plan, size, clutter_size):
    """The cluttered canvas of ``plan`` pasted piece by piece with ``max``."""
    canvas = np.zeros((size, size), np.uint8)
    index, x, y = plan[:3]
    canvas[y : y + 28, x : x + 28] = pool.images[index]
    for source, sx, sy, px, py in plan[3:].reshape(-1, 5):
        piece = pool.images[source, sy : sy + clutter_size, sx : sx + clutter_size]
        region = canvas[py : py + clutter_size, px : px + clutter_size]
        np.maximum(region, piece, out=region)
    return canvas


def test_plain_canvases_are_the_pool_images_and_objects_their_ink():
    pool = _pool()
    canvases = DigitCanvases(pool, "plain")
    rng = np.random.default_rng(0)
    plans = np.stack([canvases.sample(rng) for _ in range(6)])
    np.testing.assert_array_equal(canvases.paint(plans), pool.images[plans[:, 0]])
    np.testing.assert_array_equal(canvases.targets(plans)[:, 0], pool.labels[plans[:, 0]])
    masks = canvases.object_masks(plans)[:, 0]
    np.testing.assert_array_equal(masks, pool.images[plans[:, 0]] >= INK_THRESHOLD)
    for box, mask in zip(canvases.object_boxes(plans)[:, 0], masks, strict=True):
        rows, cols = np.nonzero(mask)  # the tight box of the ink
        np.testing.assert_array_equal(box, [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])


def test_translated_canvas_holds_the_digit_at_its_place_and_nothing_else():
    pool = _pool()
    canvases = DigitCanvases(pool, "translated")
    assert canvases.image_shape == (60, 60, 1) and canvases.num_clutter == 0
    rng = np.random.default_rng(1)
    plans = np.stack([canvases.sample(rng) for _ in range(20)])
    images = canvases.paint(plans)
    for plan, image in zip(plans, images, strict=True):
        index, x, y = plan
        np.testing.assert_array_equal(image[y : y + 28, x : x + 28], pool.images[index])
        assert image.sum() == pool.images[index].sum()
    assert len({tuple(p[1:3]) for p in plans}) > 10  # places vary
    plain = DigitCanvases(pool, "plain").object_boxes(plans * [1, 0, 0])
    shifted = canvases.object_boxes(plans)
    np.testing.assert_array_equal(shifted - plain, np.tile(plans[:, None, 1:3], 2))


@pytest.mark.parametrize(("size", "pieces"), [(100, 10), (60, 4)])
def test_cluttered_canvas_is_the_digit_and_pieces_of_other_digits(size, pieces):
    pool = _pool()
    canvases = DigitCanvases(pool, "cluttered", size=size)
    assert canvases.num_clutter == pieces and canvases.image_shape == (size, size, 1)
    rng = np.random.default_rng(2)
    plans = np.stack([canvases.sample(rng) for _ in range(30)])
    images = canvases.paint(plans)
    for plan, image in zip(plans, images, strict=True):
        np.testing.assert_array_equal(image, _paint_slowly(pool, plan, size, 8))
        sources = plan[3:].reshape(-1, 5)[:, 0]
        assert (sources != plan[0]).all() and (sources < len(pool)).all()
        # clutter combines by max: the target digit is never erased
        x, y = plan[1:3]
        assert (image[y : y + 28, x : x + 28] >= pool.images[plan[0]]).all()
    # the object mask is the target's ink only, not the clutter's
    masks = canvases.object_masks(plans)[:, 0]
    ink = pool.images[plans[:, 0]] >= INK_THRESHOLD
    np.testing.assert_array_equal(masks.sum(axis=(1, 2)), ink.sum(axis=(1, 2)))


def test_canvas_plans_come_from_the_generator_alone():
    canvases = DigitCanvases(_pool(), "cluttered")
    a = [canvases.sample(np.random.default_rng(7)) for _ in range(2)]
    b = canvases.sample(np.random.default_rng(8))
    np.testing.assert_array_equal(a[0], a[1])
    assert not np.array_equal(a[0], b)
    assert canvases.sample(np.random.default_rng(7), index=3)[0] == 3


def test_canvas_arguments_are_validated():
    pool = _pool()
    for kwargs, message in [
        ({"kind": "tiled"}, "canvas kind"),
        ({"kind": "translated", "size": 20}, "smaller"),
        ({"kind": "translated", "num_clutter": 3}, "cluttered"),
        ({"kind": "plain", "size": 40}, "plain"),
        ({"kind": "cluttered", "clutter_size": 40}, "clutter_size"),
    ]:
        with pytest.raises(ValueError, match=message):
            DigitCanvases(pool, **kwargs)


def test_mnist_canvases_use_the_pool_of_their_split(mnist_root):
    train = episode_images("mnist", root=mnist_root, split="train", canvas="cluttered")
    test = episode_images("mnist", root=mnist_root, split="test", canvas="cluttered")
    assert (train.pool.name, test.pool.name) == ("mnist-train", "mnist-test")
    assert (len(train), len(test)) == (6000, 2000)  # t10k only: disjoint 6000 / 2000 split
    # every piece of a test canvas is cut from a test digit
    rng = np.random.default_rng(0)
    plan = test.sample(rng)
    np.testing.assert_array_equal(test.paint(plan[None])[0], _paint_slowly(test.pool, plan, 100, 8))
    # one pool per (root, split) and process, shared by every env
    again = episode_images("mnist", root=mnist_root, split="test", canvas="plain")
    assert again.pool is test.pool


def _scene_entries():
    # (file name, digits (label, left, top, width, height)); 10 is the digit 0
    six = [(k, 5 + 7 * (k - 1), 5, 6, 12) for k in range(1, 7)]
    return [
        ("1.png", [(4, 20, 10, 10, 20), (2, 32, 10, 10, 20)]),
        ("2.png", [(10, 15, 8, 12, 24)]),
        ("3.png", six),
    ]


def make_digit_boxes_tree(root, split="test"):
    """A format-1 split of 3 scenes (2, 1 and 6 digits) whose digits are white boxes."""
    root = make_svhn_tree(root, _scene_entries(), split=split)
    for name, digits in _scene_entries():  # white digit boxes on black, to find them again
        image = np.zeros((40, 60, 3), np.uint8)
        for _, left, top, width, height in digits:
            image[top : top + height, left : left + width] = 255
        cv2.imwrite(str(root / split / name), image)
    return root


def _svhn(tmp_path, **kwargs):
    root = make_digit_boxes_tree(tmp_path)
    return SVHNSequences(load_dataset("svhn", root=root, split="test"), **kwargs)


def test_svhn_sequences_crop_54_of_64_around_the_digits(tmp_path):
    seqs = _svhn(tmp_path, jitter=False)
    rng = np.random.default_rng(0)
    plans = np.stack([seqs.sample(rng) for _ in range(12)])
    assert set(plans[:, 0]) == {0, 1}  # scene 2 has 6 digits: more than max_digits, dropped
    assert (plans[:, 1:] == 5).all()  # the centre window of the 64x64 frame
    images = seqs.paint(plans)
    assert images.shape == (12, 54, 54, 3) and images.dtype == np.uint8
    targets = seqs.targets(plans)
    first = np.flatnonzero(plans[:, 0] == 0)[0]
    assert targets[first].tolist() == [4, 2, 10, -1, -1, -1]  # digits, end, padding
    boxes = seqs.object_boxes(plans)
    masks = seqs.object_masks(plans)
    for image, box_set, mask_set in zip(images, boxes, masks, strict=True):
        union = mask_set.any(axis=0)
        bright = image[..., 0] > 127
        # the digits' boxes are where the white digits landed, up to the resampled edges
        assert (bright & union).sum() / bright.sum() > 0.9
        assert (bright & union).sum() / union.sum() > 0.85
        np.testing.assert_array_equal(union, boxes_to_masks(box_set, 54, 54).any(axis=0))
    # the digits' box grown by 30% is the 64x64 frame, so the digits span 64 / 1.3 pixels
    width = boxes[first, 1, 2] - boxes[first, 0, 0]
    assert width == pytest.approx(64 / 1.3)


def test_svhn_jitter_moves_the_window_on_train(tmp_path):
    seqs = _svhn(tmp_path, jitter=True)
    rng = np.random.default_rng(1)
    offsets = {tuple(seqs.sample(rng)[1:]) for _ in range(30)}
    assert len(offsets) > 5 and all(0 <= o <= 10 for pair in offsets for o in pair)
    with pytest.raises(ValueError, match="max_digits"):
        seqs.sample(rng, index=2)


def test_episode_images_name_the_data(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        episode_images("imagenet")
    with pytest.raises(DatasetNotFoundError):
        episode_images("svhn", root=tmp_path / "nowhere")
    rendered = episode_images("rendered", split="test", canvas="translated")
    assert rendered.pool.name == "rendered-digits-test" and rendered.image_shape == (60, 60, 1)
