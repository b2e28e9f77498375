"""SVHN Multiset on tiny format-1 files written here (no SVHN data reaches this machine)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.data.test_svhn import ENTRIES, make_svhn_tree
from visenv.data import DatasetNotFoundError, SVHNFormat1, SVHNMultiset, load_dataset
from visenv.data.svhn_multiset import square_frame

# 24 house numbers of 3-4 digits, left to right as SVHN lists them (10 = the digit 0)
RNG = np.random.default_rng(0)
LONG_ENTRIES = [
    (f"{i + 1}.png", [(int(RNG.integers(1, 11)), 2 + 6 * j, 3, 5, 16) for j in range(3 + i % 2)])
    for i in range(24)
]


@pytest.fixture
def svhn_root(tmp_path):
    return make_svhn_tree(tmp_path)


def test_scenes_are_square_frames_around_the_digits(svhn_root):
    source = SVHNFormat1(svhn_root, "train")
    data = load_dataset("svhn_multiset", root=svhn_root, split="train")
    assert isinstance(data, SVHNMultiset) and len(data) == len(ENTRIES)
    assert data.classes == source.classes and data.max_digits == 6
    for index in range(len(data)):
        scene, original = data[index], source[index]
        assert scene.image.shape == (100, 100, 3) and scene.image.dtype == np.uint8
        assert sorted(scene.labels.tolist()) == sorted(original.labels.tolist())
        assert scene.extras["multiset"] == tuple(sorted(original.labels.tolist()))
        frame = square_frame(original.boxes.astype(float), 0.3)
        assert frame[2] - frame[0] == pytest.approx(frame[3] - frame[1])  # square: aspect kept
        # each box maps into the frame by the same shift and scale, paired with its label
        scale = 100 / (frame[2] - frame[0])
        mapped = (original.boxes - np.tile(frame[:2], 2)) * scale
        for box, label in zip(scene.boxes, scene.labels, strict=True):
            match = np.isclose(mapped, box, atol=1e-3).all(1) & (original.labels == label)
            assert match.any()
        # the union of the digits fills 1 / 1.3 of the longer side, centred
        union = [scene.boxes[:, 0].min(), scene.boxes[:, 1].min()]
        extent = max(scene.boxes[:, 2].max() - union[0], scene.boxes[:, 3].max() - union[1])
        assert extent == pytest.approx(100 / 1.3, rel=1e-3)


def test_label_order_is_random_but_deterministic(tmp_path):
    root = make_svhn_tree(tmp_path, LONG_ENTRIES)
    data = SVHNMultiset(root, "train", seed=0)
    again = SVHNMultiset(root, "train", seed=0, cache_size=0)
    other = SVHNMultiset(root, "train", seed=1)
    source = SVHNFormat1(root, "train")
    left_to_right = [data[i].boxes[:, 0].tolist() == sorted(data[i].boxes[:, 0]) for i in range(24)]
    assert sum(left_to_right) < 12  # 3-4 digits: only 1/6 or 1/24 of orders are sorted
    for i in range(24):
        np.testing.assert_array_equal(data[i].labels, again[i].labels)
        assert sorted(data[i].labels.tolist()) == sorted(source[i].labels.tolist())
    assert any(not np.array_equal(data[i].boxes, other[i].boxes) for i in range(24))


def test_missing_data_names_the_path(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path / "none")):
        load_dataset("svhn_multiset", root=tmp_path / "none", split="test")


def test_bad_arguments(svhn_root):
    with pytest.raises(ValueError, match="canvas_size"):
        SVHNMultiset(svhn_root, canvas_size=4)
    with pytest.raises(ValueError, match="split"):
        SVHNMultiset(svhn_root, split="validation")
