"""Scenes on disk or generated on the fly -> :class:`Scene` records.

Readers register under a short name; :func:`load_dataset` returns one shared instance per
configuration. Roots come from ``root=``, else ``$VISENV_DATA/<folder>`` (see
:mod:`visenv.data.paths`).

Registered readers: ``"voc"`` (:class:`VOCDetection`), ``"coco"`` (:class:`COCODetection`) and
``"shapes"`` (:class:`ShapesScenes`, procedural, the embedded default that needs no download).
"""

# Importing the reader modules also registers them (@register_reader) for load_dataset.
from visenv.data.coco import COCODetection
from visenv.data.paths import DATA_ENV_VAR, resolve_root
from visenv.data.registry import available_datasets, load_dataset, register_reader
from visenv.data.scene import DatasetFormatError, DatasetNotFoundError, Scene, SceneDataset
from visenv.data.shapes import ShapesScenes
from visenv.data.voc import VOCDetection

__all__ = [
    "DATA_ENV_VAR",
    "COCODetection",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "Scene",
    "SceneDataset",
    "ShapesScenes",
    "VOCDetection",
    "available_datasets",
    "load_dataset",
    "register_reader",
    "resolve_root",
]
