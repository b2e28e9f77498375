"""Behaviour every reader shares: registration, shared instances, pickling, bounded cache."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import visenv.data
from tests.data.test_svhn import make_svhn_tree
from visenv.data import (
    COCODetection,
    ShapesScenes,
    SVHNFormat1,
    VOCDetection,
    available_datasets,
    load_dataset,
)


@pytest.fixture(params=["voc", "coco", "svhn", "shapes"])
def dataset(request):
    """A small instance of each reader (real data readers skip where the data is absent;
    SVHN, which never reaches this machine, reads 12 images written in its format)."""
    if request.param == "voc":
        return VOCDetection(request.getfixturevalue("voc_root"), split="test", cache_size=4)
    if request.param == "coco":
        return COCODetection(request.getfixturevalue("coco_root"), cache_size=4)
    if request.param == "svhn":
        entries = [
            (f"{i + 1}.png", [(i % 10 + 1, i, 2, 5, 9), (1, i + 6, 2, 5, 9)]) for i in range(12)
        ]
        root = make_svhn_tree(request.getfixturevalue("tmp_path"), entries)
        return SVHNFormat1(root, cache_size=4)
    return ShapesScenes(split="val", num_scenes=20, cache_size=4)


def test_importing_visenv_data_registers_the_readers():
    assert {"voc", "coco", "svhn", "shapes"} <= set(available_datasets())
    names = {"VOCDetection", "COCODetection", "SVHNFormat1", "ShapesScenes"}
    assert names <= set(visenv.data.__all__)


def test_load_dataset_shares_one_instance_per_configuration(voc_root):
    first = load_dataset("voc", root=voc_root, split="test")
    assert load_dataset("voc", root=voc_root, split="test") is first
    assert isinstance(first, VOCDetection) and len(first) == 26
    assert load_dataset("voc", root=voc_root, split="trainval") is not first
    shapes = load_dataset("shapes", split="val", num_scenes=10)
    assert load_dataset("shapes", split="val", num_scenes=10) is shapes


def test_pickle_round_trip_keeps_scenes_and_drops_the_cache(dataset):
    before = dataset[1]
    clone = pickle.loads(pickle.dumps(dataset))
    assert len(clone) == len(dataset) and clone.classes == dataset.classes
    assert len(clone._cache) == 0
    after = clone[1]
    np.testing.assert_array_equal(after.image, before.image)
    np.testing.assert_array_equal(after.boxes, before.boxes)
    np.testing.assert_array_equal(after.labels, before.labels)
    assert after.image_id == before.image_id


def test_cache_stays_bounded_and_keeps_the_most_recent(dataset):
    for index in range(10):
        dataset[index]
    assert list(dataset._cache) == [6, 7, 8, 9]
    assert dataset[9] is dataset[9]  # served from the cache
    dataset[6]  # touching 6 makes 7 the least recently used
    dataset[10]
    assert list(dataset._cache) == [8, 9, 6, 10]


def test_scene_records_are_well_formed(dataset):
    scene = dataset[0]
    assert scene.image.dtype == np.uint8 and scene.image.ndim == 3
    assert scene.boxes.dtype == np.float32 and scene.boxes.shape[1] == 4
    assert scene.labels.dtype == np.int64
    assert ((scene.labels >= 0) & (scene.labels < dataset.num_classes)).all()
    with pytest.raises(IndexError):
        dataset[len(dataset)]
