"""The one record every visenv dataset yields, and the base class of all scene datasets."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DatasetFormatError", "DatasetNotFoundError", "Scene", "SceneDataset"]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not where visenv looked; the message names the path, layout and source."""


class DatasetFormatError(ValueError):
    """A dataset file exists but does not have the expected format; the message names it."""


@dataclass(frozen=True, eq=False)
class Scene:
    """One annotated image.

    Attributes:
        image (ndarray[H, W, 3] uint8): RGB pixels.
        boxes (ndarray[K, 4] float32): Object boxes ``(x1, y1, x2, y2)`` in pixel-edge
            coordinates (see :mod:`visenv.core`).
        labels (ndarray[K] int64): Class index of each box into the dataset's ``classes``.
        difficult (ndarray[K] bool): PASCAL VOC's "difficult" flag (all False elsewhere).
        image_id: Identifier of the image within its dataset (file stem, COCO id, index).
        extras: Dataset-specific annotations (e.g. a digit multiset), never needed by the core.
    """

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    difficult: np.ndarray | None = None
    image_id: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        image = self.image
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"Scene.image must be uint8 [H, W, 3], got {image.dtype} {image.shape}"
            )
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        difficult = (
            np.zeros(len(labels), dtype=bool)
            if self.difficult is None
            else np.asarray(self.difficult, dtype=bool).reshape(-1)
        )
        if not len(boxes) == len(labels) == len(difficult):
            raise ValueError(
                f"Scene {self.image_id!r}: {len(boxes)} boxes, {len(labels)} labels and "
                f"{len(difficult)} difficult flags must have the same length"
            )
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "difficult", difficult)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


class SceneDataset(ABC):
    """A random-access sequence of :class:`Scene` with a bounded cache of decoded scenes.

    Subclasses implement :meth:`__len__` and :meth:`_load`. Decoding happens on demand and the
    ``cache_size`` most recently used scenes stay in memory, so large datasets stream from disk.
    The cache is thread-safe and is dropped when the dataset is pickled (workers re-read).

    Attributes:
        name: Short name used in env ids and error messages, e.g. ``"voc"``.
        classes: Class names; ``Scene.labels`` index into this tuple.
        config: The arguments it was opened with through :func:`load_dataset`.
    """

    name: str = "scenes"
    classes: tuple[str, ...] = ()
    config: dict[str, Any] = {}  # noqa: RUF012 - set per instance by load_dataset

    def __init__(self, cache_size: int = 256) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self.cache_size = cache_size
        self._cache: OrderedDict[int, Scene] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _load(self, index: int) -> Scene:
        """Read scene ``index`` (``0 <= index < len(self)``) from disk or generate it."""

    def __getitem__(self, index: int) -> Scene:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} scenes, index {index} is out of range")
        with self._lock:
            scene = self._cache.get(index)
            if scene is not None:
                self._cache.move_to_end(index)
                return scene
        scene = self._load(index)
        if self.cache_size:
            with self._lock:
                self._cache[index] = scene
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return scene

    def annotation(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes, labels, difficult)`` of scene ``index``; readers override this to skip
        decoding the image (statistics, episode enumeration)."""
        scene = self[index]
        return scene.boxes, scene.labels, scene.difficult

    def __iter__(self) -> Iterator[Scene]:
        return (self[i] for i in range(len(self)))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, scenes={len(self)})"
