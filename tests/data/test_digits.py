"""Digit pools: the IDX reader, MNIST pools (real t10k data and tiny official layouts), and the
rendered digits (determinism, balance, disjoint pools, and labels a classifier can learn)."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pytest

from visenv.data import (
    DatasetFormatError,
    DatasetNotFoundError,
    LabelledImages,
    mnist_digits,
    read_idx,
    rendered_digits,
)
from visenv.data.digits import DIGIT_CLASSES, _rendered_pool

NUM_RENDERED = 2000


def write_idx(path: Path, array: np.ndarray) -> Path:
    """``array`` (uint8) as an IDX file, gzip-compressed when ``path`` ends with ``.gz``."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    data = header + np.ascontiguousarray(array, np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_mnist(root: Path, prefix: str, labels: list[int], gz: bool = True) -> np.ndarray:
    """``<prefix>-{images,labels}`` IDX files whose image ``i`` is filled with value ``i``."""
    root.mkdir(parents=True, exist_ok=True)
    images = np.repeat(np.arange(len(labels), dtype=np.uint8), 28 * 28).reshape(-1, 28, 28)
    suffix = ".gz" if gz else ""
    write_idx(root / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte{suffix}", np.array(labels, np.uint8))
    return images


def _hashes(images: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in images}


# --- IDX -----------------------------------------------------------------------------------


def test_read_idx_round_trips_raw_and_gzip(tmp_path):
    array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    for name in ("a-ubyte", "b-ubyte.gz"):
        np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, array)), array)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_names_the_file_of_a_truncated_idx(tmp_path, gz):
    full = bytes([0, 0, 8, 1]) + np.array([10], ">u4").tobytes() + bytes(10)
    path = tmp_path / ("cut-ubyte.gz" if gz else "cut-ubyte")
    path.write_bytes(gzip.compress(full)[:-6] if gz else full[:-3])
    with pytest.raises(DatasetFormatError, match="cut-ubyte") as info:
        read_idx(path)
    assert ("gzip" if gz else "truncated") in str(info.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (bytes([1, 2, 8, 1]), "magic"),
        (bytes([0, 0, 0x0D, 1]), "type code 0x0d"),
        (bytes([0, 0, 8, 3, 0, 0]), "header"),
        (b"\x00\x00", "magic"),
    ],
)
def test_read_idx_rejects_bad_headers(tmp_path, header, message):
    path = tmp_path / "bad-ubyte"
    path.write_bytes(header)
    with pytest.raises(DatasetFormatError, match=message):
        read_idx(path)


# --- MNIST on the real t10k files ----------------------------------------------------------


@pytest.fixture(scope="module")
def t10k(mnist_root):
    return read_idx(mnist_root / "t10k-images-idx3-ubyte.gz"), read_idx(
        mnist_root / "t10k-labels-idx1-ubyte.gz"
    )


def test_t10k_holds_8000_digits_starting_7_2_1_0_4(t10k):
    images, labels = t10k
    assert images.shape == (8000, 28, 28) and labels.shape == (8000,)
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_pools_partition_t10k_into_6000_and_2000_disjoint_digits(mnist_root, t10k, caplog):
    with caplog.at_level(logging.WARNING, logger="visenv.data.digits"):
        train = mnist_digits(mnist_root, pool="train")
        test = mnist_digits(mnist_root, pool="test")
    assert "train files are not in" in caplog.text
    assert (len(train), len(test)) == (6000, 2000)
    assert (train.name, test.name) == ("mnist-train", "mnist-test")
    assert train.classes == DIGIT_CLASSES and train.labels.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([train.images, test.images]), t10k[0])
    np.testing.assert_array_equal(np.concatenate([train.labels, test.labels]), t10k[1])
    assert train.labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert not _hashes(train.images) & _hashes(test.images)


def test_mnist_root_defaults_to_visenv_data(mnist_root, monkeypatch):
    monkeypatch.setenv("VISENV_DATA", str(mnist_root.parent))
    assert len(mnist_digits(pool="test")) == 2000


# --- MNIST on tiny files -------------------------------------------------------------------


def test_official_train_files_make_the_train_pool(tmp_path, caplog):
    train_images = write_mnist(tmp_path, "train", [1, 2, 3], gz=True)
    write_mnist(tmp_path, "t10k", [9, 8], gz=False)
    with caplog.at_level(logging.WARNING, logger="visenv.data.digits"):
        train = mnist_digits(tmp_path, pool="train")
        test = mnist_digits(tmp_path, pool="test")
    assert not caplog.text
    np.testing.assert_array_equal(train.images, train_images)
    assert train.labels.tolist() == [1, 2, 3] and test.labels.tolist() == [9, 8]


def test_missing_files_name_the_path_and_the_source(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"t10k-images-idx3-ubyte\.gz") as info:
        mnist_digits(tmp_path)
    assert "yann.lecun.com" in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="nowhere"):
        mnist_digits(tmp_path / "nowhere")
    write_mnist(tmp_path, "train", [1])
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DatasetNotFoundError, match="t10k-labels"):
        mnist_digits(tmp_path, pool="test")


def test_images_and_labels_that_disagree_are_a_format_error(tmp_path):
    write_mnist(tmp_path, "train", [1, 2])
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([1], np.uint8))
    with pytest.raises(DatasetFormatError, match="disagree"):
        mnist_digits(tmp_path)


def test_a_t10k_too_small_to_split_is_refused(tmp_path):
    write_mnist(tmp_path, "t10k", [0] * 10)
    with pytest.raises(DatasetFormatError, match="6000"):
        mnist_digits(tmp_path, pool="test")


def test_unknown_pool_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"\('train', 'test'\)"):
        mnist_digits(tmp_path, pool="val")


# --- LabelledImages ------------------------------------------------------------------------


def test_labelled_images_are_read_only_and_subset_keeps_classes():
    images = np.zeros((4, 5, 5, 3), np.uint8)
    pool = LabelledImages(images, np.array([0, 1, 2, 1], np.uint8), ("a", "b", "c"), "toy")
    assert pool.labels.dtype == np.int64 and len(pool) == 4
    with pytest.raises(ValueError, match="read-only"):
        pool.images[0, 0, 0, 0] = 1
    images[0] = 7  # the caller's own array stays writable
    part = pool.subset(pool.labels == 1)
    assert len(part) == 2 and part.classes == ("a", "b", "c") and part.name == "toy"
    assert pool.subset([3, 0]).labels.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((2, 5, 5), np.float32), [0, 1], "uint8"),
        (np.zeros((2, 5, 5, 4), np.uint8), [0, 1], "uint8"),
        (np.zeros((2, 5, 5), np.uint8), [0], "shape"),
        (np.zeros((2, 5, 5), np.uint8), [0.0, 1.0], "integers"),
        (np.zeros((2, 5, 5), np.uint8), [0, 3], "index classes"),
    ],
)
def test_labelled_images_reject_bad_arrays(images, labels, message):
    with pytest.raises(ValueError, match=message):
        LabelledImages(images, np.array(labels), ("a", "b"))


# --- rendered digits -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered():
    return rendered_digits("train", NUM_RENDERED), rendered_digits("test", NUM_RENDERED)


def test_rendered_digits_are_28x28_white_on_black_and_centred(rendered):
    train, _ = rendered
    images = train.images.astype(np.float32)
    assert train.images.shape == (NUM_RENDERED, 28, 28) and train.images.dtype == np.uint8
    assert (train.images.max(axis=(1, 2)) == 255).all()
    border = np.concatenate([images[:, :2].ravel(), images[:, -2:].ravel()])
    assert border.mean() < 2 and images[:, 8:20, 8:20].mean() > 4 * images.mean() / 3
    grid = np.arange(28, dtype=np.float32)
    mass = images.sum(axis=(1, 2))
    centre_x = (images.sum(axis=1) * grid).sum(axis=1) / mass
    centre_y = (images.sum(axis=2) * grid).sum(axis=1) / mass
    assert np.abs(centre_x - 13.5).max() < 1.5 and np.abs(centre_y - 13.5).max() < 1.5


def test_rendered_labels_are_balanced_per_block(rendered):
    for pool in rendered:
        assert np.bincount(pool.labels, minlength=10).tolist() == [NUM_RENDERED // 10] * 10
        assert pool.classes == DIGIT_CLASSES
    assert rendered[0].labels[:20].tolist() != sorted(rendered[0].labels[:20].tolist())


def test_rendering_is_deterministic_and_a_longer_pool_extends_a_shorter_one(rendered):
    _rendered_pool.cache_clear()  # draw afresh, not from the cache
    again = rendered_digits("train", 1500)
    np.testing.assert_array_equal(again.images, rendered[0].images[:1500])
    np.testing.assert_array_equal(again.labels, rendered[0].labels[:1500])
    assert rendered_digits("train", NUM_RENDERED) is rendered_digits("train", NUM_RENDERED)


def test_train_test_and_seeds_share_no_digit(rendered):
    train, test = rendered
    other_seed = rendered_digits("train", 500, seed=1)
    train_hashes = _hashes(train.images)
    assert len(train_hashes) == NUM_RENDERED  # no duplicates within a pool either
    assert not train_hashes & _hashes(test.images)
    assert not train_hashes & _hashes(other_seed.images)


def _nearest_centroid_accuracy(train: LabelledImages, test: LabelledImages) -> float:
    def features(pool: LabelledImages) -> np.ndarray:
        return pool.images.reshape(len(pool), -1).astype(np.float32) / 255

    centroids = np.stack([features(train)[train.labels == k].mean(0) for k in range(10)])
    x = features(test)
    distances = (x**2).sum(1, keepdims=True) - 2 * x @ centroids.T + (centroids**2).sum(1)
    return float((distances.argmin(axis=1) == test.labels).mean())


def test_labels_mean_something_a_classifier_learns_them(rendered):
    """Nearest-centroid on rendered train digits scores far above chance (0.1) on the test
    pool (about 0.95); with shuffled training labels it falls back to chance."""
    train, test = rendered
    assert _nearest_centroid_accuracy(train, test) > 0.8
    shuffled = LabelledImages(
        train.images, np.random.default_rng(0).permutation(train.labels), train.classes
    )
    assert _nearest_centroid_accuracy(shuffled, test) < 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pool": "val"}, "expected one of"),
        ({"num_digits": 0}, "num_digits"),
        ({"seed": -1}, "seed"),
    ],
)
def test_rendered_digits_validate_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rendered_digits(**kwargs)
