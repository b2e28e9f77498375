"""PASCAL VOC detection data in the VOCdevkit layout -> :class:`~visenv.data.scene.Scene`.

Only the ``ImageSets/Main/<split>.txt`` lists are read at construction, so even the 16k-image
07+12 combination opens instantly; each item's XML is parsed (and its JPEG decoded) when it is
first asked for. Boxes follow the convention of :mod:`visenv.core`: VOC's 1-based inclusive
``(xmin, ymin, xmax, ymax)`` becomes ``(xmin - 1, ymin - 1, xmax, ymax)``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from visenv.data.imageio import read_rgb
from visenv.data.paths import require_path, resolve_root
from visenv.data.registry import register_reader
from visenv.data.scene import DatasetFormatError, Scene, SceneDataset

__all__ = ["VOC_CLASSES", "VOCDetection", "parse_voc_xml"]

VOC_CLASSES: tuple[str, ...] = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
_CLASS_INDEX = {name: i for i, name in enumerate(VOC_CLASSES)}

VOC_YEARS: dict[str, tuple[str, ...]] = {
    "2007": ("2007",),
    "2012": ("2012",),
    "2007+2012": ("2007", "2012"),
}
VOC_SPLITS: tuple[str, ...] = ("train", "val", "trainval", "test")
VOC_URL = "http://host.robots.ox.ac.uk/pascal/VOC/"
VOC_LAYOUT = (
    "<root>/VOCdevkit/VOC<year>/{Annotations/<id>.xml, JPEGImages/<id>.jpg, "
    "ImageSets/Main/<split>.txt} (as unpacked from the VOCdevkit download)"
)


def _child_text(node: ET.Element, tag: str, path: Path) -> str:
    text = node.findtext(tag)
    if text is None or not text.strip():
        raise DatasetFormatError(f"{path}: an <object> has no <{tag}> (or it is empty)")
    return text.strip()


def _parse_object(obj: ET.Element, path: Path) -> tuple[list[float], int, bool]:
    """One ``<object>`` -> (box in pixel-edge coordinates, label, difficult)."""
    name = _child_text(obj, "name", path)
    if name not in _CLASS_INDEX:
        raise DatasetFormatError(
            f"{path}: unknown class name {name!r}; expected one of {VOC_CLASSES}"
        )
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise DatasetFormatError(f"{path}: object {name!r} has no <bndbox>")
    texts = [_child_text(bndbox, k, path) for k in ("xmin", "ymin", "xmax", "ymax")]
    try:
        # float(): a few VOC2012 files write coordinates such as "273.0".
        xmin, ymin, xmax, ymax = (float(t) for t in texts)
    except ValueError as err:
        raise DatasetFormatError(
            f"{path}: object {name!r} has a non-numeric <bndbox>: {err}"
        ) from err
    if xmax < xmin or ymax < ymin:
        raise DatasetFormatError(
            f"{path}: object {name!r} has an inverted <bndbox> "
            f"(xmin={xmin}, ymin={ymin}, xmax={xmax}, ymax={ymax})"
        )
    # Some VOC2012 objects omit <difficult>; VOC's own devkit then treats them as not difficult.
    difficult = (obj.findtext("difficult") or "0").strip() == "1"
    return [xmin - 1.0, ymin - 1.0, xmax, ymax], _CLASS_INDEX[name], difficult


def parse_voc_xml(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one VOC annotation file.

    Args:
        path: ``Annotations/<id>.xml``.

    Returns:
        ``(boxes, labels, difficult)``: ndarray[K, 4] float32 ``(x1, y1, x2, y2)`` in pixel-edge
        coordinates, ndarray[K] int64 indices into :data:`VOC_CLASSES`, ndarray[K] bool.

    Raises:
        DatasetFormatError: The file is missing, is not XML, or an object lacks a name or a
            numeric ``<bndbox>``, or names a class outside :data:`VOC_CLASSES`.
    """
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError as err:
        raise DatasetFormatError(f"{path} is missing (its id is listed in ImageSets/Main)") from err
    except ET.ParseError as err:
        raise DatasetFormatError(f"{path} is not valid XML: {err}") from err
    parsed = [_parse_object(obj, path) for obj in root.iter("object")]
    boxes = np.array([p[0] for p in parsed], dtype=np.float32).reshape(-1, 4)
    labels = np.array([p[1] for p in parsed], dtype=np.int64)
    difficult = np.array([p[2] for p in parsed], dtype=bool)
    return boxes, labels, difficult


def _read_id_list(path: Path) -> list[str]:
    # Main/<split>.txt holds one id per line; the per-class lists add a flag column, so keep
    # only the first token of each line.
    lines = path.read_text().splitlines()
    return [line.split()[0] for line in lines if line.strip()]


def _check_year_split(year: str, split: str) -> tuple[str, ...]:
    """The VOC years to concatenate for ``year``; ``ValueError`` for bad arguments."""
    if year not in VOC_YEARS:
        raise ValueError(f"unknown VOC year {year!r}; expected one of {tuple(VOC_YEARS)}")
    if split not in VOC_SPLITS:
        raise ValueError(f"unknown VOC split {split!r}; expected one of {VOC_SPLITS}")
    years = VOC_YEARS[year]
    if split == "test" and "2012" in years:
        raise ValueError(
            f"VOC2012 has no public test list (its test annotations are withheld), so "
            f'year={year!r} cannot be read with split="test". Use split="val" instead: the '
            f'07+12 protocol of DQ-SSTN tests on year="2007+2012", split="val".'
        )
    return years


@register_reader("voc")
class VOCDetection(SceneDataset):
    """PASCAL VOC 2007 / 2012 object detection, read from a VOCdevkit folder.

    ``year="2007+2012"`` concatenates the two years' lists for ``split`` (2007 first). This is
    the 07+12 combination of DQ-SSTN (Dembinsky et al., Sec. 4.1.1): its training set of 8218
    images is 07 ``train`` + 12 ``train`` (2501 + 5717) and its test set of 8333 images is
    07 ``val`` + 12 ``val`` (2510 + 5823). VOC2012 publishes no test annotations, so that
    protocol tests on ``val``, and ``split="test"`` is refused for any year including 2012.

    Difficult objects are kept and flagged in ``Scene.difficult``. ``Scene.image_id`` is the
    file stem (e.g. ``"000005"`` or ``"2008_000002"``; all stems in ``image_ids``) and
    ``Scene.extras["year"]`` the year.

    Args:
        root: Folder holding ``VOCdevkit/``; default ``$VISENV_DATA/voc``.
        year: One of ``"2007"``, ``"2012"``, ``"2007+2012"``.
        split: One of ``"train"``, ``"val"``, ``"trainval"``, ``"test"`` (2007 only).
        cache_size: Number of decoded scenes kept in memory.

    Raises:
        ValueError: Unknown ``year`` or ``split``, or ``split="test"`` with VOC2012.
        DatasetNotFoundError: The root, a year's folder or the split list is missing.
    """

    name = "voc"
    classes = VOC_CLASSES

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        year: str | int = "2007",
        split: str = "trainval",
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        year = str(year)  # year=2007 from a command line means "2007"
        years = _check_year_split(year, split)
        self.root = resolve_root(root, "voc")
        self.year = year
        self.split = split
        ids: list[str] = []
        self._years: list[str] = []
        for y in years:
            year_ids = _read_id_list(self._find_list(y, split))
            ids += year_ids
            self._years += [y] * len(year_ids)
        self.image_ids: tuple[str, ...] = tuple(ids)

    def _find_list(self, year: str, split: str) -> Path:
        require_path(self.root, "VOC dataset root", VOC_LAYOUT, VOC_URL)
        year_dir = require_path(
            self.root / "VOCdevkit" / f"VOC{year}", f"PASCAL VOC {year}", VOC_LAYOUT, VOC_URL
        )
        return require_path(
            year_dir / "ImageSets" / "Main" / f"{split}.txt",
            f"PASCAL VOC {year} {split!r} image list",
            VOC_LAYOUT,
            VOC_URL,
        )

    def __len__(self) -> int:
        return len(self.image_ids)

    def _file(self, index: int, folder: str, suffix: str) -> Path:
        year_dir = self.root / "VOCdevkit" / f"VOC{self._years[index]}"
        return year_dir / folder / f"{self.image_ids[index]}{suffix}"

    def annotation(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes, labels, difficult)`` of scene ``index``, from the XML alone (no JPEG)."""
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} scenes, index {index} is out of range")
        return parse_voc_xml(self._file(index, "Annotations", ".xml"))

    def _load(self, index: int) -> Scene:
        boxes, labels, difficult = self.annotation(index)
        image = read_rgb(self._file(index, "JPEGImages", ".jpg"))
        return Scene(
            image=image,
            boxes=boxes,
            labels=labels,
            difficult=difficult,
            image_id=self.image_ids[index],
            extras={"year": self._years[index]},
        )

    def __repr__(self) -> str:
        return (
            f"VOCDetection(root={os.fspath(self.root)!r}, year={self.year!r}, "
            f"split={self.split!r}, scenes={len(self)})"
        )
