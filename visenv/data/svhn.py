"""SVHN format 1 (full house-number images with digit boxes) -> :class:`~visenv.data.scene.Scene`.

**No SVHN data reaches the machines visenv is developed on** (the archives are over the size
limit of the shared data; see ``../shared/data/MANIFEST.md``). The reader is therefore tested
on small files written by :func:`write_digitstruct` in the layout below, which follows the
published description of format 1 and the readers written for the real files; run it on the
real data before trusting it there.

Layout, as unpacked from ``train.tar.gz``, ``test.tar.gz`` and ``extra.tar.gz``::

    <root>/<split>/digitStruct.mat     # MATLAB v7.3 = HDF5 with a 512-byte MATLAB header
    <root>/<split>/1.png, 2.png, ...

``digitStruct.mat`` holds a struct array ``digitStruct`` with one element per image:

* ``/digitStruct/name``: ``[N, 1]`` object references, each to a ``[len, 1]`` uint16 dataset
  of character codes (``"1.png"``).
* ``/digitStruct/bbox``: ``[N, 1]`` object references, each to a group with the datasets
  ``label``, ``left``, ``top``, ``width``, ``height``. With one digit each is a ``[1, 1]``
  double; with ``k > 1`` digits each is a ``[k, 1]`` array of references to ``[1, 1]``
  doubles. Digits are listed left to right; label 10 means the digit 0.

Reading: :class:`SVHNFormat1` opens the file and reads only the two reference columns, then
parses an image's entry when that scene is asked for, with h5py's low-level calls (the common
per-reference ``f[ref]`` idiom costs about three times as much). Every object of an entry has
to be opened one by one, so a whole-file parse (:func:`read_digitstruct`) takes up to 1 ms per
image (30 s for a synthetic file shaped like the 33k-image train split, on a busy core): fine
for the test split, slow for the 200k-image extra split.
Boxes are ``(left, top, left + width, top + height)`` in pixel-edge coordinates (see
:mod:`visenv.core`), kept as in the file: a few real boxes reach past the image border.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from h5py import h5d, h5r, h5s, h5t

from visenv.data.digits import DIGIT_CLASSES
from visenv.data.imageio import read_rgb
from visenv.data.paths import require_path, resolve_root
from visenv.data.registry import register_reader
from visenv.data.scene import DatasetFormatError, Scene, SceneDataset

__all__ = [
    "BBOX_FIELDS",
    "DigitStruct",
    "DigitStructFile",
    "SVHNFormat1",
    "read_digitstruct",
    "write_digitstruct",
]

SVHN_SPLITS: tuple[str, ...] = ("train", "test", "extra")
SVHN_URL = "http://ufldl.stanford.edu/housenumbers/ (format 1: <split>.tar.gz)"
SVHN_LAYOUT = "<root>/<split>/digitStruct.mat and <root>/<split>/<n>.png (<split>.tar.gz unpacked)"
BBOX_FIELDS: tuple[str, ...] = ("label", "left", "top", "width", "height")
_ZERO_LABEL = 10  # SVHN's label for the digit 0
_FORMAT_ERRORS = (KeyError, ValueError, TypeError, OSError, RuntimeError)

DigitBox = tuple[float, float, float, float, float]  # (label, left, top, width, height)


@dataclass(frozen=True, eq=False)
class DigitStruct:
    """The contents of one ``digitStruct.mat``, flattened.

    Attributes:
        names: Image file name of each entry, in file order.
        offsets (ndarray[N + 1] int64): Entry ``i``'s digits are ``offsets[i]:offsets[i + 1]``.
        labels (ndarray[D] int64): Digit 0-9 (the file's 10 mapped to 0), left to right.
        boxes (ndarray[D, 4] float32): ``(left, top, left + width, top + height)``.
    """

    names: tuple[str, ...]
    offsets: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray


def _read_numbers(dataset: h5d.DatasetID) -> np.ndarray:
    """All values of a numeric dataset, as float64 ``[size]``."""
    out = np.empty(dataset.shape, np.float64)
    dataset.read(h5s.ALL, h5s.ALL, out, mtype=h5t.NATIVE_DOUBLE)
    return out.ravel()


def _read_field(group: h5py.h5g.GroupID, key: str, file_id: h5py.h5f.FileID) -> np.ndarray:
    """One bbox field of one image: the ``[1, 1]`` value itself, or the values it references."""
    dataset = h5d.open(group, key.encode())
    if dataset.get_type().get_class() != h5t.REFERENCE:
        return _read_numbers(dataset)
    refs = np.empty(dataset.shape, h5py.ref_dtype)
    dataset.read(h5s.ALL, h5s.ALL, refs)
    return np.concatenate([_read_numbers(h5r.dereference(r, file_id)) for r in refs.ravel()])


def _read_name(ref: h5r.Reference, file_id: h5py.h5f.FileID) -> str:
    dataset = h5r.dereference(ref, file_id)
    codes = np.empty(dataset.shape, np.uint16)
    dataset.read(h5s.ALL, h5s.ALL, codes, mtype=h5t.NATIVE_UINT16)
    return "".join(map(chr, codes.ravel()))


def _read_rows(
    name_ref: h5r.Reference, bbox_ref: h5r.Reference, file_id: h5py.h5f.FileID
) -> tuple[str, np.ndarray]:
    """``(file name, [k, 5] float64 rows of BBOX_FIELDS)`` of one image."""
    group = h5r.dereference(bbox_ref, file_id)
    columns = [_read_field(group, key, file_id) for key in BBOX_FIELDS]
    if len({len(c) for c in columns}) != 1 or not len(columns[0]):
        counts = dict(zip(BBOX_FIELDS, map(len, columns), strict=True))
        raise ValueError(f"bbox fields must list the same number (>= 1) of digits, got {counts}")
    return _read_name(name_ref, file_id), np.stack(columns, axis=1)


def _digits(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels [k] int64 0-9, boxes [k, 4] float32 xyxy)`` of an image's field rows."""
    raw_labels = rows[:, 0]
    if not np.isin(raw_labels, np.arange(_ZERO_LABEL + 1)).all():
        raise ValueError(f"labels must be integers 0-10 (10 = digit 0), got {raw_labels}")
    left, top, width, height = rows[:, 1:].T
    boxes = np.stack([left, top, left + width, top + height], axis=1).astype(np.float32)
    return (raw_labels % _ZERO_LABEL).astype(np.int64), boxes


def _reference_column(struct: h5py.Group, key: str, path: Path) -> np.ndarray:
    """``/digitStruct/<key>``: the ``[N]`` object references of a struct-array field."""
    dataset = struct.get(key)
    if not isinstance(dataset, h5py.Dataset) or dataset.dtype != h5py.ref_dtype:
        raise DatasetFormatError(
            f"{path}: /digitStruct/{key} must be a dataset of object references (MATLAB v7.3 "
            f"struct array), got {dataset!r}"
        )
    return dataset[()].ravel()


class DigitStructFile:
    """An open ``digitStruct.mat`` whose entries are parsed when asked for.

    Opening reads only the two reference columns (milliseconds, even for the 200k-image extra
    split); :meth:`entry` then parses one image's name and digits (under a millisecond).

    Args:
        path: The ``digitStruct.mat`` file.

    Raises:
        DatasetFormatError: Not an HDF5 file, or no ``/digitStruct/{name,bbox}`` reference
            columns of equal length.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise DatasetFormatError(
                f"{self.path} is not an HDF5 (MATLAB v7.3) file: {err}"
            ) from err
        try:
            self._names, self._bboxes = self._columns()
        except DatasetFormatError:
            self._file.close()
            raise

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        struct = self._file.get("digitStruct")
        if not isinstance(struct, h5py.Group):
            raise DatasetFormatError(
                f"{self.path}: no /digitStruct group; keys are {list(self._file)}"
            )
        names, bboxes = (_reference_column(struct, k, self.path) for k in ("name", "bbox"))
        if len(names) != len(bboxes):
            raise DatasetFormatError(
                f"{self.path}: /digitStruct has {len(names)} names but {len(bboxes)} bboxes"
            )
        return names, bboxes

    def __len__(self) -> int:
        return len(self._names)

    def entry(self, index: int) -> tuple[str, np.ndarray, np.ndarray]:
        """``(file name, labels [k] int64, boxes [k, 4] float32)`` of image ``index``.

        Labels are digits 0-9 (the file's 10 is 0) and boxes ``(left, top, left + width,
        top + height)``, both in file order (left to right).

        Raises:
            DatasetFormatError: The entry is malformed (missing or disagreeing fields, a label
                outside 0-10).
        """
        try:
            name, rows = _read_rows(self._names[index], self._bboxes[index], self._file.id)
            return (name, *_digits(rows))
        except _FORMAT_ERRORS as err:
            raise DatasetFormatError(f"{self.path}: entry {index}: {err}") from err

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> DigitStructFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_digitstruct(path: str | os.PathLike[str]) -> DigitStruct:
    """Parse a whole SVHN format-1 ``digitStruct.mat`` (layout in the module docstring).

    Up to 1 ms per image, so up to 30 s for the 33k-image train split: prefer
    :class:`DigitStructFile` (or :class:`SVHNFormat1`) to read entries as needed.

    Raises:
        DatasetFormatError: As :class:`DigitStructFile` and :meth:`DigitStructFile.entry`.
    """
    with DigitStructFile(path) as file:
        entries = [file.entry(index) for index in range(len(file))]
    lengths = [len(labels) for _, labels, _ in entries]
    return DigitStruct(
        names=tuple(name for name, _, _ in entries),
        offsets=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]),
        labels=np.concatenate([labels for _, labels, _ in entries] or [np.zeros(0, np.int64)]),
        boxes=np.concatenate([boxes for _, _, boxes in entries] or [np.zeros((0, 4), np.float32)]),
    )


# --- writing (tests, and users without the data) ---------------------------------------------

_USERBLOCK_SIZE = 512  # MATLAB v7.3 files start with a 512-byte MATLAB header before the HDF5


def _matlab_header() -> bytes:
    """MATLAB's 128-byte MAT-file header: text, subsystem offset, version 0x0200, ``IM``."""
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: visenv, HDF5 schema 1.00 ."
    return text.ljust(116) + b" " * 8 + b"\x00\x02IM"


class _RefsWriter:
    """Creates the objects that references point to, in ``/#refs#`` as MATLAB does."""

    def __init__(self, file: h5py.File) -> None:
        self._group = file.create_group("#refs#")
        self._count = 0

    def _next_name(self) -> str:
        self._count += 1
        return f"r{self._count}"

    def dataset(self, data: np.ndarray, matlab_class: str) -> h5r.Reference:
        dataset = self._group.create_dataset(self._next_name(), data=data)
        dataset.attrs["MATLAB_class"] = np.bytes_(matlab_class)
        if matlab_class == "char":
            dataset.attrs["MATLAB_int_decode"] = np.int32(2)
        return dataset.ref

    def bbox(self, digits: Sequence[DigitBox]) -> h5r.Reference:
        group = self._group.create_group(self._next_name())
        group.attrs["MATLAB_class"] = np.bytes_("struct")
        for column, key in enumerate(BBOX_FIELDS):
            values = [float(digit[column]) for digit in digits]
            if len(values) == 1:  # MATLAB stores a 1x1 field inline, longer ones as cells
                field = group.create_dataset(key, data=np.array([values]))
                field.attrs["MATLAB_class"] = np.bytes_("double")
            else:
                refs = [self.dataset(np.array([[v]]), "double") for v in values]
                group.create_dataset(key, data=np.array(refs, h5py.ref_dtype).reshape(-1, 1))
        return group.ref


def _check_entries(entries: Sequence[tuple[str, Sequence[DigitBox]]]) -> None:
    for index, (name, digits) in enumerate(entries):
        if not isinstance(name, str) or not name or not name.isascii():
            raise ValueError(f"entry {index}: the name must be a non-empty ASCII str, got {name!r}")
        if not digits or any(len(digit) != len(BBOX_FIELDS) for digit in digits):
            raise ValueError(
                f"entry {index} ({name!r}): give one or more digits, each {BBOX_FIELDS}"
            )


def write_digitstruct(
    path: str | os.PathLike[str], entries: Sequence[tuple[str, Sequence[DigitBox]]]
) -> Path:
    """Write a ``digitStruct.mat`` in SVHN format 1's MATLAB v7.3 layout (module docstring).

    Args:
        path: The file to create (overwritten).
        entries: One ``(file name, digits)`` per image, each digit ``(label, left, top,
            width, height)`` as the file stores it: label 1-9, or 10 for the digit 0.

    Returns:
        ``path``.

    Raises:
        ValueError: An entry has no digits, a digit is not 5 numbers, or a name is not a
            non-empty ASCII str.
    """
    path = Path(path)
    _check_entries(entries)
    with h5py.File(path, "w", userblock_size=_USERBLOCK_SIZE) as file:
        refs = _RefsWriter(file)
        names = np.empty((len(entries), 1), h5py.ref_dtype)
        bboxes = np.empty((len(entries), 1), h5py.ref_dtype)
        for index, (name, digits) in enumerate(entries):
            codes = np.frombuffer(name.encode("ascii"), np.uint8).astype(np.uint16)
            names[index, 0] = refs.dataset(codes.reshape(-1, 1), "char")
            bboxes[index, 0] = refs.bbox(digits)
        struct = file.create_group("digitStruct")
        struct.attrs["MATLAB_class"] = np.bytes_("struct")
        struct.create_dataset("name", data=names)
        struct.create_dataset("bbox", data=bboxes)
    with path.open("r+b") as raw:  # HDF5 leaves the user block to us
        raw.write(_matlab_header())
    return path


# --- the dataset -------------------------------------------------------------------------------


@register_reader("svhn")
class SVHNFormat1(SceneDataset):
    """SVHN format 1: full house-number images with a box and a label per digit.

    One scene per image. ``Scene.labels`` and ``Scene.boxes`` list the digits left to right
    as in the file (label 10 of the file is the digit 0, so classes are ``"0"`` to ``"9"``),
    and ``Scene.extras["sequence"]`` is that label sequence as a tuple of ints (the house
    number, read left to right). ``Scene.image_id`` is the file stem (``"1"`` for ``1.png``).

    Construction reads only ``digitStruct.mat``'s reference columns; each entry is parsed when
    its scene or annotation is first asked for. The open file is per process: pickling drops
    it and the copy reopens the file on first use.

    Args:
        root: Folder holding the split folders; default ``$VISENV_DATA/svhn``.
        split: One of ``"train"``, ``"test"``, ``"extra"``.
        cache_size: Number of decoded scenes kept in memory.

    Raises:
        ValueError: Unknown ``split``.
        DatasetNotFoundError: The root, the split folder or its ``digitStruct.mat`` is missing.
        DatasetFormatError: ``digitStruct.mat`` is not in the layout of the module docstring
            (a malformed entry raises when it is read).
    """

    name = "svhn"
    classes = DIGIT_CLASSES

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        if split not in SVHN_SPLITS:
            raise ValueError(f"unknown SVHN split {split!r}; expected one of {SVHN_SPLITS}")
        self.root = resolve_root(root, "svhn")
        self.split = split
        require_path(self.root, "SVHN dataset root", SVHN_LAYOUT, SVHN_URL)
        self.image_dir = require_path(
            self.root / split, f"SVHN format-1 {split} split", SVHN_LAYOUT, SVHN_URL
        )
        self.digitstruct_path = require_path(
            self.image_dir / "digitStruct.mat",
            f"SVHN {split} digitStruct.mat",
            SVHN_LAYOUT,
            SVHN_URL,
        )
        self._digitstruct: DigitStructFile | None = DigitStructFile(self.digitstruct_path)
        self._num_scenes = len(self._digitstruct)

    def _entry(self, index: int) -> tuple[str, np.ndarray, np.ndarray]:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} scenes, index {index} is out of range")
        with self._lock:
            if self._digitstruct is None:  # unpickled copy: reopen in this process
                self._digitstruct = DigitStructFile(self.digitstruct_path)
            digitstruct = self._digitstruct
        return digitstruct.entry(index)

    def __len__(self) -> int:
        return self._num_scenes

    def annotation(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes, labels, difficult)`` of scene ``index`` without decoding its image."""
        _, labels, boxes = self._entry(index)
        return boxes, labels, np.zeros(len(labels), dtype=bool)

    def _load(self, index: int) -> Scene:
        file_name, labels, boxes = self._entry(index)
        return Scene(
            image=read_rgb(self.image_dir / file_name),
            boxes=boxes,
            labels=labels,
            image_id=Path(file_name).stem,
            extras={"sequence": tuple(labels.tolist())},
        )

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_digitstruct"] = None  # an open HDF5 file does not pickle
        return state

    def __repr__(self) -> str:
        return (
            f"SVHNFormat1(root={os.fspath(self.root)!r}, split={self.split!r}, scenes={len(self)})"
        )
