"""Where default models come from: shipped weights, else the on-disk cache, else train now.

Every default model (the DQ-SSTN view classifier, the feature backbone of RARL and BGCut) is
looked up by a file name that encodes the model kind, the training dataset's fingerprint and any
size it depends on: first in ``visenv/models/weights/`` (shipped with the package, for the
embedded Shapes scenes), then in ``$VISENV_CACHE/models``. The default for an evaluation split is
trained on the matching training split (VOC ``test`` -> ``trainval``, Shapes ``test`` ->
``train``), so a model never sees the scenes it is evaluated on.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import torch

from visenv.data import DatasetNotFoundError, SceneDataset, load_dataset

__all__ = [
    "WEIGHTS_DIR",
    "cache_dir",
    "dataset_fingerprint",
    "find_weights",
    "save_to_cache",
    "training_dataset",
]

logger = logging.getLogger(__name__)

#: Weights shipped with the package (``package-data`` in pyproject.toml).
WEIGHTS_DIR = Path(__file__).parent / "weights"
# training split to use for an evaluation split, most preferred first
_TRAIN_SPLITS = {"test": ("trainval", "train"), "val": ("train",)}


def cache_dir() -> Path:
    """Where trained default models are cached: ``$VISENV_CACHE`` or ``~/.cache/visenv``."""
    return Path(os.environ.get("VISENV_CACHE", "~/.cache/visenv")).expanduser()


def dataset_fingerprint(dataset: SceneDataset) -> str:
    """Identifies the training data: reader, classes, size and arguments (bar the cache).

    A root is fingerprinted as the folder the reader resolved, so ``root=None`` (found through
    ``$VISENV_DATA``) and the same folder passed explicitly share one cached model.
    """
    config = {k: v for k, v in sorted(dataset.config.items()) if k != "cache_size"}
    if "root" in config and getattr(dataset, "root", None) is not None:
        config["root"] = str(Path(dataset.root).resolve())
    text = f"{dataset.name}|{dataset.classes}|{config}|{len(dataset)}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def training_dataset(dataset: SceneDataset) -> SceneDataset:
    """The training split that matches ``dataset``'s split, else ``dataset`` itself."""
    config = dict(getattr(dataset, "config", {}))
    for split in _TRAIN_SPLITS.get(config.get("split", ""), ()):
        try:
            return load_dataset(dataset.name, **{**config, "split": split})
        except (DatasetNotFoundError, ValueError):
            continue
    if config.get("split") in _TRAIN_SPLITS:
        logger.warning(
            "no training split found next to %s; the default model trains on the "
            "evaluation split itself",
            dataset,
        )
    return dataset


def find_weights(filename: str) -> Path | None:
    """The shipped weights file ``filename``, else the cached one, else ``None``."""
    for path in (WEIGHTS_DIR / filename, cache_dir() / "models" / filename):
        if path.is_file():
            return path
    return None


def save_to_cache(state_dict: dict[str, torch.Tensor], filename: str) -> Path:
    """Write ``state_dict`` to ``$VISENV_CACHE/models/filename`` atomically; return the path.

    The write goes to a temporary file that is then renamed, so a process reading the cache
    never sees half a file even when several envs train the same default at once.
    """
    path = cache_dir() / "models" / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(state_dict, tmp)
    tmp.replace(path)
    return path
