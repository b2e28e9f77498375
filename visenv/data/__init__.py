"""Scenes on disk or generated on the fly -> :class:`Scene` records.

Readers register under a short name; :func:`load_dataset` returns one shared instance per
configuration. Roots come from ``root=``, else ``$VISENV_DATA/<folder>`` (see
:mod:`visenv.data.paths`).
"""

from visenv.data.paths import DATA_ENV_VAR, resolve_root
from visenv.data.registry import available_datasets, load_dataset, register_reader
from visenv.data.scene import DatasetFormatError, DatasetNotFoundError, Scene, SceneDataset

__all__ = [
    "DATA_ENV_VAR",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "Scene",
    "SceneDataset",
    "available_datasets",
    "load_dataset",
    "register_reader",
    "resolve_root",
]
