"""cifar10(): the real JPEG class folders, and python batches written in the original format."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from visenv.data import (
    CIFAR10_CLASSES,
    DatasetFormatError,
    DatasetNotFoundError,
    cifar10,
    read_cifar_batch,
)
from visenv.data.imageio import read_rgb

# The label order of the official batches.meta, written out independently of the code.
STANDARD_ORDER = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def write_batch(path: Path, images: np.ndarray, labels: list[int], str_keys: bool = False) -> Path:
    """A batch as the official python version stores it: a Python 2 pickle with bytes keys,
    ``data [N, 3072]`` uint8 as red, green and blue planes, ``labels`` a list of ints."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    batch = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": list(labels),
        b"data": data,
        b"filenames": [f"image_{i}.png".encode() for i in range(len(images))],
    }
    if str_keys:  # as re-pickled by Python 3
        batch = {k.decode(): v for k, v in batch.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return path


def _random_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


# --- real class folders --------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_split(cifar10_root):
    return cifar10(cifar10_root, split="test")


def test_class_folders_give_10000_rgb_images_in_standard_order(test_split, cifar10_root):
    assert test_split.images.shape == (10_000, 32, 32, 3)
    assert test_split.classes == CIFAR10_CLASSES == STANDARD_ORDER
    assert np.bincount(test_split.labels).tolist() == [1000] * 10
    assert (np.diff(test_split.labels) >= 0).all()  # class by class
    assert test_split.name == "cifar10-test"
    for index, folder, file in [(0, "airplane", "0000"), (9999, "truck", "0999")]:
        expected = read_rgb(cifar10_root / "test_jpeg" / folder / f"{file}.jpg")
        np.testing.assert_array_equal(test_split.images[index], expected)


def test_colours_are_rgb_not_bgr(test_split):
    """Sky-and-water classes are bluer than red; BGR order would swap that."""
    for name in ("airplane", "ship"):
        pixels = test_split.images[test_split.labels == CIFAR10_CLASSES.index(name)]
        assert pixels[..., 2].mean() > pixels[..., 0].mean() + 5


def test_train_split_absent_here_names_both_layouts(cifar10_root):
    if (cifar10_root / "train_jpeg").exists():
        pytest.skip("this data folder has a train split")
    with pytest.raises(DatasetNotFoundError, match="train_jpeg") as info:
        cifar10(cifar10_root, split="train")
    assert "data_batch_5" in str(info.value) and "cs.toronto.edu" in str(info.value)


# --- python batches ------------------------------------------------------------------------


@pytest.mark.parametrize("str_keys", [False, True])
def test_batch_round_trip_keeps_pixels_channels_and_labels(tmp_path, str_keys):
    images = _random_images(6)
    images[0] = (255, 0, 0)  # pure red must come back as channel 0
    path = write_batch(tmp_path / "b", images, [3, 1, 4, 1, 5, 9], str_keys=str_keys)
    read_images, labels = read_cifar_batch(path)
    np.testing.assert_array_equal(read_images, images)
    assert read_images[0, 0, 0].tolist() == [255, 0, 0]
    assert labels.tolist() == [3, 1, 4, 1, 5, 9] and labels.dtype == np.int64


def test_train_split_concatenates_the_five_batches_in_order(tmp_path):
    batch_dir = tmp_path / "cifar-10-batches-py"
    for i in range(1, 6):
        write_batch(batch_dir / f"data_batch_{i}", _random_images(2, seed=i), [i, i])
    train = cifar10(tmp_path, split="train")
    assert train.labels.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    np.testing.assert_array_equal(train.images[8:], _random_images(2, seed=5))


def test_batches_are_preferred_over_class_folders(tmp_path):
    write_batch(tmp_path / "cifar-10-batches-py" / "test_batch", _random_images(3), [0, 1, 2])
    for name in CIFAR10_CLASSES:
        (tmp_path / "test_jpeg" / name).mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "test_jpeg" / "cat" / "0.png"), np.zeros((32, 32, 3), np.uint8))
    assert cifar10(tmp_path).labels.tolist() == [0, 1, 2]
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    folders = cifar10(tmp_path)
    assert folders.labels.tolist() == [CIFAR10_CLASSES.index("cat")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a pickle", "not a pickled"),
        (pickle.dumps([1, 2]), "dict"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}), "labels"),
        (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 0]}), "3072"),
        (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), "0..9"),
    ],
)
def test_malformed_batches_name_the_file(tmp_path, content, message):
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(DatasetFormatError, match=message) as info:
        cifar10(tmp_path)
    assert str(path) in str(info.value)


def test_class_folders_must_be_the_cifar10_classes(tmp_path):
    for name in (*CIFAR10_CLASSES[:9], "lorry"):
        (tmp_path / "test_jpeg" / name).mkdir(parents=True)
    with pytest.raises(DatasetFormatError, match="lorry"):
        cifar10(tmp_path)


def test_missing_data_and_bad_split(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="test_batch"):
        cifar10(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"\('train', 'test'\)"):
        cifar10(tmp_path, split="val")
