"""MS-COCO instance boxes (official JSON + image folder) -> :class:`~visenv.data.scene.Scene`.

The JSON is read once with pycocotools at construction and flattened into three arrays (all
boxes, their labels, and per-image offsets), so the dataset pickles small and fast for worker
processes; images are decoded on demand. COCO's ``[x, y, w, h]`` becomes
``(x, y, x + w, y + h)`` (see :mod:`visenv.core`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO

from visenv.data.imageio import read_rgb
from visenv.data.paths import require_path, resolve_root
from visenv.data.registry import register_reader
from visenv.data.scene import DatasetFormatError, Scene, SceneDataset

__all__ = ["COCODetection"]

COCO_SPLITS: tuple[str, ...] = ("train", "val")
COCO_YEARS: tuple[str, ...] = ("2014", "2017")
COCO_URL = "https://cocodataset.org/#download"
COCO_LAYOUT = (
    "<root>/annotations/instances_<split><year>.json and <root>/<split><year>/<file_name> "
    "(the 'annotations' and '<split><year>' archives unpacked side by side)"
)


def _load_coco(path: Path) -> COCO:
    """pycocotools' index of ``path``, with its progress prints silenced."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(os.fspath(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetFormatError(f"{path} is not valid JSON: {err}") from err
    except (KeyError, TypeError, AssertionError) as err:
        raise DatasetFormatError(f"{path} is not a COCO instances file: {err!r}") from err
    missing = [k for k in ("images", "annotations", "categories") if k not in coco.dataset]
    if missing:
        raise DatasetFormatError(f"{path} is not a COCO instances file: no {missing} key(s)")
    return coco


def _image_boxes(
    anns: list[dict[str, Any]], label_of: dict[int, int], path: Path
) -> tuple[list[list[float]], list[int]]:
    """The kept boxes ``(x1, y1, x2, y2)`` and labels of one image's annotations."""
    boxes, labels = [], []
    for ann in anns:
        # Crowd regions cover many instances with one box; detection protocols ignore them.
        if ann.get("iscrowd", 0):
            continue
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError) as err:
            raise DatasetFormatError(
                f"{path}: annotation {ann.get('id')} has no valid 'bbox' [x, y, w, h]: {err!r}"
            ) from err
        if w <= 0 or h <= 0:
            continue
        if ann["category_id"] not in label_of:
            raise DatasetFormatError(
                f"{path}: annotation {ann.get('id')} has category_id {ann['category_id']}, "
                f"which is not in 'categories'"
            )
        boxes.append([x, y, x + w, y + h])
        labels.append(label_of[ann["category_id"]])
    return boxes, labels


@register_reader("coco")
class COCODetection(SceneDataset):
    """MS-COCO object detection boxes (instances annotations).

    Crowd annotations (``iscrowd=1``) and degenerate boxes (``w <= 0`` or ``h <= 0``) are
    dropped, and images left with no box are skipped. Scenes are ordered by COCO image id.
    ``classes`` are the category names ordered by category id; ``Scene.labels`` are contiguous
    indices into them and ``category_ids[label]`` gives back COCO's id. ``Scene.image_id`` is
    the COCO image id as a string and ``Scene.extras["file_name"]`` the image file name.

    Args:
        root: Folder holding ``annotations/`` and the image folders; default
            ``$VISENV_DATA/coco``.
        split: One of ``"train"``, ``"val"`` (COCO's test annotations are not public).
        year: One of ``"2014"``, ``"2017"``.
        cache_size: Number of decoded scenes kept in memory.

    Raises:
        ValueError: Unknown ``split`` or ``year``.
        DatasetNotFoundError: The root, the annotation file or the image folder is missing.
        DatasetFormatError: The annotation file is not a COCO instances JSON.
    """

    name = "coco"

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "val",
        year: str | int = "2017",
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        year = str(year)  # year=2017 from a command line means "2017"
        if split not in COCO_SPLITS:
            raise ValueError(f"unknown COCO split {split!r}; expected one of {COCO_SPLITS}")
        if year not in COCO_YEARS:
            raise ValueError(f"unknown COCO year {year!r}; expected one of {COCO_YEARS}")
        self.root = resolve_root(root, "coco")
        self.split = split
        self.year = year
        ann_file = self._require(
            Path("annotations") / f"instances_{split}{year}.json", "annotations"
        )
        self.image_dir = self._require(Path(f"{split}{year}"), "images")
        self._index(_load_coco(ann_file), ann_file)

    def _require(self, relative: Path, what: str) -> Path:
        require_path(self.root, "COCO dataset root", COCO_LAYOUT, COCO_URL)
        return require_path(
            self.root / relative, f"COCO {self.split}{self.year} {what}", COCO_LAYOUT, COCO_URL
        )

    def _index(self, coco: COCO, ann_file: Path) -> None:
        """Flatten ``coco`` into ``_boxes [N, 4]``, ``_labels [N]`` and ``_offsets [M + 1]``."""
        cat_ids = sorted(coco.getCatIds())
        self.category_ids: tuple[int, ...] = tuple(cat_ids)
        self.classes = tuple(cat["name"] for cat in coco.loadCats(cat_ids))
        label_of = {cat_id: i for i, cat_id in enumerate(cat_ids)}
        image_ids, file_names, boxes, labels, offsets = [], [], [], [], [0]
        for image_id in sorted(coco.getImgIds()):
            kept_boxes, kept_labels = _image_boxes(coco.imgToAnns[image_id], label_of, ann_file)
            if not kept_boxes:
                continue
            image_ids.append(image_id)
            file_names.append(coco.imgs[image_id]["file_name"])
            boxes += kept_boxes
            labels += kept_labels
            offsets.append(len(boxes))
        self.image_ids: tuple[int, ...] = tuple(image_ids)
        self._file_names = tuple(file_names)
        self._boxes = np.array(boxes, dtype=np.float32).reshape(-1, 4)
        self._labels = np.array(labels, dtype=np.int64)
        self._offsets = np.array(offsets, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.image_ids)

    def annotation(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes, labels, difficult)`` of scene ``index`` without decoding its image."""
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} scenes, index {index} is out of range")
        start, stop = self._offsets[index], self._offsets[index + 1]
        # Copies, so a caller that edits the arrays cannot corrupt the index.
        boxes = self._boxes[start:stop].copy()
        return boxes, self._labels[start:stop].copy(), np.zeros(stop - start, dtype=bool)

    def _load(self, index: int) -> Scene:
        boxes, labels, difficult = self.annotation(index)
        file_name = self._file_names[index]
        return Scene(
            image=read_rgb(self.image_dir / file_name),
            boxes=boxes,
            labels=labels,
            difficult=difficult,
            image_id=str(self.image_ids[index]),
            extras={"file_name": file_name},
        )

    def __repr__(self) -> str:
        return (
            f"COCODetection(root={os.fspath(self.root)!r}, split={self.split!r}, "
            f"year={self.year!r}, scenes={len(self)})"
        )
