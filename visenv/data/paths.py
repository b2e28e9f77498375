"""Where datasets live on disk: ``root=`` first, else ``$VISENV_DATA/<dataset folder>``."""

from __future__ import annotations

import os
from pathlib import Path

from visenv.data.scene import DatasetNotFoundError

__all__ = ["DATA_ENV_VAR", "DEFAULT_DATA_DIR", "require_path", "resolve_root"]

DATA_ENV_VAR = "VISENV_DATA"
DEFAULT_DATA_DIR = Path("~/visenv-data")


def resolve_root(root: str | os.PathLike[str] | None, folder: str) -> Path:
    """The root folder of one dataset.

    Args:
        root: Explicit root; wins when given.
        folder: The dataset's folder under the data directory, e.g. ``"voc"``.

    Returns:
        ``root``, else ``$VISENV_DATA/folder``, else ``~/visenv-data/folder`` (expanded).
    """
    if root is not None:
        return Path(root).expanduser()
    base = os.environ.get(DATA_ENV_VAR)
    return (Path(base) if base else DEFAULT_DATA_DIR).expanduser() / folder


def require_path(path: Path, what: str, layout: str, how_to_get: str) -> Path:
    """Return ``path`` if it exists, else raise :class:`DatasetNotFoundError` explaining why.

    Args:
        path: The file or folder that must exist.
        what: What it is, e.g. ``"PASCAL VOC 2007 annotations"``.
        layout: The expected layout below the dataset root.
        how_to_get: Where to obtain the data.
    """
    if path.exists():
        return path
    raise DatasetNotFoundError(
        f"{what} not found: {path} does not exist.\n"
        f"Expected layout: {layout}\n"
        f"Get the data: {how_to_get}\n"
        f"Then pass root=<dataset folder> or set {DATA_ENV_VAR}=<folder holding the datasets> "
        f"(now {DATA_ENV_VAR}={os.environ.get(DATA_ENV_VAR, '<unset>')}; "
        f"the default is {DEFAULT_DATA_DIR})."
    )
