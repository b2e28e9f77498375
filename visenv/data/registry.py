"""Dataset readers by name, and one shared instance per configuration.

``load_dataset("voc", split="test", year="2007")`` returns the same object to every env that
asks for the same configuration in a process, so N environments share one dataset (and one
bounded cache of decoded images) instead of holding N copies.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from visenv.data.scene import SceneDataset

__all__ = ["available_datasets", "load_dataset", "register_reader"]

Reader = Callable[..., SceneDataset]
R = TypeVar("R", bound=Reader)

_READERS: dict[str, Reader] = {}
_SHARED: weakref.WeakValueDictionary[tuple, SceneDataset] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


def register_reader(name: str) -> Callable[[R], R]:
    """Class decorator: make a :class:`SceneDataset` reader available to :func:`load_dataset`."""

    def decorate(reader: R) -> R:
        _READERS[name] = reader
        return reader

    return decorate


def available_datasets() -> tuple[str, ...]:
    return tuple(sorted(_READERS))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return str(value) if not isinstance(value, int | float | bool | type(None)) else value


def _arguments(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Every argument of reader ``name`` for ``kwargs``, defaults filled in."""
    signature = inspect.signature(_READERS[name])
    unknown = sorted(set(kwargs) - set(signature.parameters))
    if unknown:
        raise ValueError(
            f"dataset {name!r} does not take {unknown}; it takes {sorted(signature.parameters)}"
        )
    bound = signature.bind(**kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def load_dataset(name: str | SceneDataset, **kwargs: Any) -> SceneDataset:
    """The shared dataset ``name`` configured by ``kwargs`` (created on first use).

    Args:
        name: A registered reader name (see :func:`available_datasets`), or a dataset object,
            which is returned as is.
        **kwargs: The reader's arguments (``root``, ``split``, ...); ``None`` values are
            dropped so the reader's defaults apply.

    Raises:
        ValueError: ``name`` is not a registered reader, or it does not take an argument.
    """
    if isinstance(name, SceneDataset):
        return name
    if name not in _READERS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {available_datasets()}")
    # None means "the reader's default", so callers can forward optional env arguments blindly
    arguments = _arguments(name, {k: v for k, v in kwargs.items() if v is not None})
    key = (name, _freeze(arguments))
    with _LOCK:
        dataset = _SHARED.get(key)
        if dataset is None:
            dataset = _READERS[name](**arguments)
            dataset.config = arguments
            _SHARED[key] = dataset
    return dataset
