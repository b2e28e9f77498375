"""SVHNFormat1 on tiny format-1 datasets written here (no SVHN data reaches this machine)."""

from __future__ import annotations

from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest

from visenv.data import (
    DatasetFormatError,
    DatasetNotFoundError,
    SVHNFormat1,
    load_dataset,
    read_digitstruct,
    write_digitstruct,
)
from visenv.data.svhn import DigitStructFile

# (file name, digits as (label, left, top, width, height)) as the file stores them: 10 = digit 0.
ENTRIES = [
    ("1.png", [(10, 5, 4, 9, 20)]),
    ("2.png", [(1, 3, 2, 7, 21), (9, 11, 3, 8, 20)]),
    ("3.png", [(10, 2, 1, 8, 22), (5, 10, 2, 8, 22), (10, 19, -1, 9, 23)]),
]
IMAGE_SIZE = (24, 30)  # height, width


def make_svhn_tree(root: Path, entries: list = ENTRIES, split: str = "train") -> Path:
    """``root/<split>/`` with ``digitStruct.mat`` and one PNG per entry (image i is a
    vertical ramp whose blue channel is i * 40 mod 256 and whose red channel is 200)."""
    folder = root / split
    folder.mkdir(parents=True, exist_ok=True)
    write_digitstruct(folder / "digitStruct.mat", entries)
    for index, (name, _) in enumerate(entries):
        image = np.zeros((*IMAGE_SIZE, 3), np.uint8)
        image[..., 0] = index * 40 % 256  # blue in OpenCV's BGR order
        image[..., 1] = np.arange(IMAGE_SIZE[0])[:, None]
        image[..., 2] = 200
        cv2.imwrite(str(folder / name), image)
    return root


@pytest.fixture
def svhn_root(tmp_path):
    return make_svhn_tree(tmp_path)


# --- the file layout ---------------------------------------------------------------------


def test_written_file_has_the_matlab_v73_layout(tmp_path):
    """Checked with plain h5py as the usual real-file readers do, not with our reader."""
    path = write_digitstruct(tmp_path / "digitStruct.mat", ENTRIES)
    raw = path.read_bytes()
    assert raw.startswith(b"MATLAB 7.3 MAT-file") and raw[124:128] == b"\x00\x02IM"
    assert raw[512:520] == b"\x89HDF\r\n\x1a\n"  # the HDF5 file after the 512-byte user block
    with h5py.File(path, "r") as file:
        names, bboxes = file["digitStruct/name"], file["digitStruct/bbox"]
        assert names.shape == bboxes.shape == (3, 1) and names.dtype == h5py.ref_dtype
        codes = file[names[1, 0]]
        assert codes.dtype == np.uint16 and "".join(chr(c[0]) for c in codes[()]) == "2.png"
        single, multi = file[bboxes[0, 0]], file[bboxes[2, 0]]
        assert set(single) == set(multi) == {"label", "left", "top", "width", "height"}
        assert single["label"].shape == (1, 1) and single["label"][0, 0] == 10.0
        assert multi["top"].shape == (3, 1) and multi["top"].dtype == h5py.ref_dtype
        assert [file[r[0]][0, 0] for r in multi["top"][()]] == [1.0, 2.0, -1.0]


def test_read_digitstruct_flattens_every_entry(tmp_path):
    struct = read_digitstruct(write_digitstruct(tmp_path / "d.mat", ENTRIES))
    assert struct.names == ("1.png", "2.png", "3.png")
    assert struct.offsets.tolist() == [0, 1, 3, 6]
    assert struct.labels.tolist() == [0, 1, 9, 0, 5, 0]
    np.testing.assert_array_equal(struct.boxes[1], [3, 2, 10, 23])


# --- scenes ------------------------------------------------------------------------------


def test_scenes_carry_digits_left_to_right_with_ten_as_zero(svhn_root):
    dataset = SVHNFormat1(svhn_root, split="train")
    assert len(dataset) == 3 and dataset.classes == tuple("0123456789")
    labels = [dataset[i].labels.tolist() for i in range(3)]
    assert labels == [[0], [1, 9], [0, 5, 0]]
    assert [dataset[i].extras["sequence"] for i in range(3)] == [(0,), (1, 9), (0, 5, 0)]
    assert [dataset[i].image_id for i in range(3)] == ["1", "2", "3"]


def test_boxes_are_pixel_edge_xyxy_kept_as_in_the_file(svhn_root):
    dataset = SVHNFormat1(svhn_root)
    np.testing.assert_array_equal(dataset[0].boxes, [[5, 4, 14, 24]])
    # The last box starts above the image (top = -1), as a few real ones do: not clipped.
    np.testing.assert_array_equal(
        dataset[2].boxes, [[2, 1, 10, 23], [10, 2, 18, 24], [19, -1, 28, 22]]
    )
    boxes, labels, difficult = dataset.annotation(1)
    np.testing.assert_array_equal(boxes, [[3, 2, 10, 23], [11, 3, 19, 23]])
    assert labels.tolist() == [1, 9] and not difficult.any()
    assert boxes.dtype == np.float32 and labels.dtype == np.int64


def test_images_are_decoded_as_rgb(svhn_root):
    scene = SVHNFormat1(svhn_root)[2]
    assert scene.image.shape == (*IMAGE_SIZE, 3)
    assert scene.image[0, 0].tolist() == [200, 0, 80]
    assert scene.image[:, 0, 1].tolist() == list(range(IMAGE_SIZE[0]))


def test_svhn_is_registered_and_shared(svhn_root):
    make_svhn_tree(svhn_root, ENTRIES[:2], split="test")
    test = load_dataset("svhn", root=svhn_root, split="test")
    assert isinstance(test, SVHNFormat1) and len(test) == 2
    assert load_dataset("svhn", root=svhn_root, split="test") is test
    assert load_dataset("svhn", root=svhn_root) is not test


def test_entries_are_parsed_when_asked_for(tmp_path):
    """A broken entry does not stop the others, and names its file and index when read."""
    root = make_svhn_tree(tmp_path)
    with h5py.File(root / "train" / "digitStruct.mat", "r+") as file:
        del file[file["digitStruct/bbox"][1, 0]]["height"]
    dataset = SVHNFormat1(root)
    assert dataset[0].labels.tolist() == [0] and dataset[2].labels.tolist() == [0, 5, 0]
    with pytest.raises(DatasetFormatError, match=r"digitStruct\.mat: entry 1: .*height"):
        dataset.annotation(1)


# --- errors ------------------------------------------------------------------------------


def test_missing_root_split_or_file_names_the_path_and_the_source(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="nowhere") as info:
        SVHNFormat1(tmp_path / "nowhere")
    assert "ufldl.stanford.edu" in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="extra"):
        SVHNFormat1(tmp_path, split="extra")
    (tmp_path / "test").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"test/digitStruct\.mat"):
        SVHNFormat1(tmp_path, split="test")


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"\('train', 'test', 'extra'\)"):
        SVHNFormat1(tmp_path, split="val")


def _corrupt(path: Path, how: str) -> None:
    if how == "not hdf5":
        path.write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
        return
    with h5py.File(path, "w") as file:
        if how == "no struct":
            file.create_dataset("something", data=[1])
        elif how == "not references":
            file.create_dataset("digitStruct/name", data=np.zeros((2, 1)))
            file.create_dataset("digitStruct/bbox", data=np.zeros((2, 1)))
        elif how == "lengths differ":
            refs = np.array([file.create_group(f"g{i}").ref for i in range(3)], h5py.ref_dtype)
            file.create_dataset("digitStruct/name", data=refs[:2, None])
            file.create_dataset("digitStruct/bbox", data=refs[:, None])


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("not hdf5", "not an HDF5"),
        ("no struct", "no /digitStruct"),
        ("not references", "object references"),
        ("lengths differ", "2 names but 3 bboxes"),
    ],
)
def test_corrupt_files_are_format_errors_naming_the_file(tmp_path, how, message):
    root = make_svhn_tree(tmp_path)
    path = root / "train" / "digitStruct.mat"
    _corrupt(path, how)
    with pytest.raises(DatasetFormatError, match=message) as info:
        SVHNFormat1(root)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        ([(11, 0, 0, 5, 5)], "labels must be integers 0-10"),
        ([(2.5, 0, 0, 5, 5)], "labels must be integers 0-10"),
    ],
)
def test_bad_labels_are_format_errors(tmp_path, digits, message):
    path = write_digitstruct(tmp_path / "d.mat", [("1.png", digits)])
    with DigitStructFile(path) as file, pytest.raises(DatasetFormatError, match=message):
        file.entry(0)


def test_fields_of_different_lengths_are_a_format_error(tmp_path):
    path = write_digitstruct(tmp_path / "d.mat", [("1.png", [(1, 0, 0, 5, 5), (2, 5, 0, 5, 5)])])
    with h5py.File(path, "r+") as file:
        group = file[file["digitStruct/bbox"][0, 0]]
        del group["width"]
        group["width"] = np.array([[5.0]])
    with pytest.raises(DatasetFormatError, match="same number"):
        read_digitstruct(path)


@pytest.mark.parametrize(
    "entries",
    [[("1.png", [])], [("", [(1, 0, 0, 1, 1)])], [("1.png", [(1, 0, 0, 1)])]],
)
def test_write_digitstruct_rejects_bad_entries(tmp_path, entries):
    with pytest.raises(ValueError, match="entry 0"):
        write_digitstruct(tmp_path / "d.mat", entries)
