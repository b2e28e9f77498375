"""Scenes on disk or generated on the fly -> :class:`Scene` records.

Readers register under a short name; :func:`load_dataset` returns one shared instance per
configuration. Roots come from ``root=``, else ``$VISENV_DATA/<folder>`` (see
:mod:`visenv.data.paths`).

Registered readers: ``"voc"`` (:class:`VOCDetection`), ``"coco"`` (:class:`COCODetection`),
``"svhn"`` (:class:`SVHNFormat1`, house numbers with digit boxes), ``"shapes"``
(:class:`ShapesScenes`, procedural, the embedded default that needs no download), and HSAL's
multi-digit tasks: ``"mnist_set"``, ``"mnist_multiset"``, ``"digits_set"``,
``"digits_multiset"`` (:class:`DigitCanvases`) and ``"svhn_multiset"`` (:class:`SVHNMultiset`).

Small labelled images load whole into :class:`LabelledImages` pools (:mod:`visenv.data.digits`):
:func:`mnist_digits`, :func:`cifar10`, and :func:`rendered_digits` (drawn by visenv itself).
"""

# Importing the reader modules also registers them (@register_reader) for load_dataset.
from visenv.data.coco import COCODetection
from visenv.data.digits import (
    CIFAR10_CLASSES,
    DIGIT_CLASSES,
    LabelledImages,
    cifar10,
    mnist_digits,
    read_cifar_batch,
    read_idx,
    rendered_digits,
)
from visenv.data.multidigit import DigitCanvases
from visenv.data.paths import DATA_ENV_VAR, resolve_root
from visenv.data.registry import available_datasets, load_dataset, register_reader
from visenv.data.scene import DatasetFormatError, DatasetNotFoundError, Scene, SceneDataset
from visenv.data.shapes import ShapesScenes
from visenv.data.svhn import SVHNFormat1, read_digitstruct, write_digitstruct
from visenv.data.svhn_multiset import SVHNMultiset
from visenv.data.voc import VOCDetection

__all__ = [
    "CIFAR10_CLASSES",
    "DATA_ENV_VAR",
    "DIGIT_CLASSES",
    "COCODetection",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DigitCanvases",
    "LabelledImages",
    "SVHNFormat1",
    "SVHNMultiset",
    "Scene",
    "SceneDataset",
    "ShapesScenes",
    "VOCDetection",
    "available_datasets",
    "cifar10",
    "load_dataset",
    "mnist_digits",
    "read_cifar_batch",
    "read_digitstruct",
    "read_idx",
    "register_reader",
    "rendered_digits",
    "resolve_root",
    "write_digitstruct",
]
