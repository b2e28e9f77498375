"""Shared fixtures: where the real test data is, and skipping cleanly where it is not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

# Tests (and the envs they make) find real data through VISENV_DATA; default to ../shared/data.
if "VISENV_DATA" not in os.environ and _DEFAULT_DATA.is_dir():
    os.environ["VISENV_DATA"] = str(_DEFAULT_DATA.resolve())


def _dataset_dir(folder: str) -> Path:
    base = os.environ.get("VISENV_DATA")
    if not base:
        pytest.skip("real data absent: set VISENV_DATA to the folder holding voc/, coco/, mnist/")
    path = Path(base) / folder
    if not path.is_dir():
        pytest.skip(f"real data absent: {path} does not exist (VISENV_DATA={base})")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the real datasets (``VISENV_DATA``); skips where absent."""
    return Path(_dataset_dir(""))


@pytest.fixture(scope="session")
def voc_root() -> Path:
    return _dataset_dir("voc")


@pytest.fixture(scope="session")
def coco_root() -> Path:
    return _dataset_dir("coco")


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    return _dataset_dir("mnist")


@pytest.fixture(scope="session")
def cifar10_root() -> Path:
    return _dataset_dir("cifar10")
