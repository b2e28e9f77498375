"""ShapesScenes: determinism, layout statistics and textured backgrounds."""

from __future__ import annotations

import numpy as np
import pytest

from visenv.core import box_area, pairwise_box_iou
from visenv.data import ShapesScenes

NUM_STAT_SCENES = 200


@pytest.fixture(scope="module")
def train():
    return ShapesScenes(split="train", cache_size=0)


@pytest.fixture(scope="module")
def layouts(train):
    """``(boxes, labels, (height, width))`` of the first 200 train scenes, without painting."""
    out = []
    for index in range(NUM_STAT_SCENES):
        boxes, labels, _ = train.annotation(index)
        _, size, _ = train._generate_layout(index)
        out.append((boxes, labels, size))
    return out


def test_classes_are_stable_and_at_least_ten():
    assert ShapesScenes.classes == (
        "circle", "triangle", "square", "pentagon", "hexagon", "star",
        "cross", "ring", "diamond", "crescent", "heart", "arrow",
    )  # fmt: skip


def test_same_index_gives_byte_identical_scenes_in_any_order():
    first, second = ShapesScenes(cache_size=0), ShapesScenes(cache_size=0)
    a = first[7]
    for index in (3, 0, 11):  # other scenes in between must not shift the random stream
        second[index]
    b = second[7]
    assert a.image.tobytes() == b.image.tobytes()
    assert a.boxes.tobytes() == b.boxes.tobytes() and a.labels.tobytes() == b.labels.tobytes()


@pytest.mark.parametrize("other", [{"seed": 1}, {"split": "val"}, {"split": "test"}])
def test_seeds_and_splits_are_different_streams(other):
    base = ShapesScenes(cache_size=0)
    changed = ShapesScenes(cache_size=0, **other)
    differ = [
        base[i].image.shape != changed[i].image.shape
        or base[i].image.tobytes() != changed[i].image.tobytes()
        for i in range(3)
    ]
    assert all(differ)


def test_annotation_matches_the_painted_scene(train):
    for index in (0, 1, 2, 50):
        scene = train[index]
        boxes, labels, difficult = train.annotation(index)
        np.testing.assert_array_equal(boxes, scene.boxes)
        np.testing.assert_array_equal(labels, scene.labels)
        assert not difficult.any()
        assert scene.image_id == f"train-{index}"


def test_objects_per_scene_and_boxes_inside_the_image(layouts):
    counts = [len(boxes) for boxes, _, _ in layouts]
    assert min(counts) >= 1 and max(counts) == 6
    assert len(set(counts)) == 6  # every count from 1 to 6 occurs
    labels = np.concatenate([labels for _, labels, _ in layouts])
    assert set(labels.tolist()) == set(range(12))  # every class occurs
    for boxes, _, (height, width) in layouts:
        assert 192 <= height <= 320 and 192 <= width <= 320
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= width).all()
        assert (boxes[:, 3] <= height).all()
        assert (boxes[:, 2:] - boxes[:, :2] >= 1).all()  # non-empty


def test_scenes_have_overlaps_and_small_salient_objects(layouts):
    overlapping, small_salient, large_salient = 0, 0, 0
    for boxes, _, (height, width) in layouts:
        iou = pairwise_box_iou(boxes, boxes)
        np.fill_diagonal(iou, 0)
        overlapping += bool((iou > 0).any())
        salient = box_area(boxes).max() / (height * width)
        small_salient += salient < 0.2
        large_salient += salient > 0.25
    assert overlapping >= 0.2 * len(layouts)
    # DQ-SSTN reports accuracy on objects under 20% of the image: both kinds must be common.
    assert small_salient >= 0.3 * len(layouts)
    assert large_salient >= 0.02 * len(layouts)


def test_every_object_stays_mostly_visible(train):
    fractions = np.concatenate([train[i].extras["visible_fraction"] for i in range(30)])
    assert (fractions >= 0.4).all() and (fractions <= 1).all()
    assert (fractions < 0.95).any()  # occlusion does happen


def test_background_is_textured_not_flat(train):
    for index in range(20):
        scene = train[index]
        outside = np.ones(scene.image.shape[:2], dtype=bool)
        for x1, y1, x2, y2 in scene.boxes.astype(int):
            outside[y1:y2, x1:x2] = False
        pixels = scene.image[outside]
        assert pixels.std(axis=0).max() > 20, f"scene {index}: background nearly flat"
        packed = pixels.astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.int32)
        assert len(np.unique(packed)) > 2000, f"scene {index}: few background colours"
        # Neighbouring pixels differ (fine noise / texture), not just a smooth gradient.
        grey = scene.image.astype(np.float32).mean(axis=2)
        step = np.abs(np.diff(grey, axis=1))[:, :-1][outside[:, 1:-1]]
        assert step.mean() > 1.0, f"scene {index}: no fine texture"


def test_fixed_image_size_and_object_range():
    square = ShapesScenes(image_size=128, min_objects=2, max_objects=3, cache_size=0)
    for index in range(10):
        scene = square[index]
        assert scene.image.shape == (128, 128, 3)
        assert 2 <= len(scene.boxes) <= 3
    assert ShapesScenes(image_size=(100, 150))[0].image.shape == (100, 150, 3)


def test_default_lengths():
    assert [len(ShapesScenes(split=s)) for s in ("train", "val", "test")] == [20000, 2000, 2000]
    assert len(ShapesScenes(num_scenes=5)) == 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "dev"}, "expected one of \\('train', 'val', 'test'\\)"),
        ({"min_objects": 4, "max_objects": 2}, "min_objects"),
        ({"min_objects": 0}, "min_objects"),
        ({"image_size": 10}, "image_size"),
        ({"image_size": (64, 64, 3)}, "image_size"),
        ({"num_scenes": 0}, "num_scenes"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShapesScenes(**kwargs)
