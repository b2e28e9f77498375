"""Feature maps of dataset scenes, computed once per scene and kept in a bounded LRU.

RARL crops anchor regions from a scene's top map at every iteration (paper 003 Eq. 1) and BGCut
cuts a scene's mid map at every step (paper 004 sec. 2.2); both read the same scene's maps many
times, and N sub-envs often hold scenes the cache has seen. :class:`FeatureCache` runs the
backbone once per scene (batched over the scenes a call misses, without gradients) and keeps the
most recently used scenes' maps on the backbone's device.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from visenv.data import SceneDataset
from visenv.models.backbone import FeatureBackbone, scene_images

__all__ = ["FEATURE_LEVELS", "FeatureCache"]

#: The maps a :class:`FeatureCache` can keep.
FEATURE_LEVELS = ("mid", "top")

Entry = dict[str, torch.Tensor]


class FeatureCache:
    """Mid and top feature maps of a dataset's scenes with a bounded, thread-safe LRU.

    The backbone is put in eval mode and treated as frozen: call :meth:`clear` after changing
    its weights. Scenes are resized with :func:`~visenv.models.backbone.scene_images`. The
    cache is dropped when the object is pickled (a worker process recomputes what it needs).

    Args:
        backbone: The :class:`~visenv.models.backbone.FeatureBackbone` to run.
        dataset: The scenes, indexed like ``dataset[i]``.
        image_size: Side the scenes are resized to; default ``backbone.image_size``.
        capacity: Scenes kept (least recently used dropped first); 0 keeps none.
        levels: Which maps to compute and keep, a subset of :data:`FEATURE_LEVELS`.
        batch_size: Scenes per backbone call when several are missing.

    Attributes:
        hits, misses: Scene look-ups served from the cache and computed, since creation.
    """

    def __init__(
        self,
        backbone: FeatureBackbone,
        dataset: SceneDataset,
        image_size: int | None = None,
        *,
        capacity: int = 256,
        levels: Sequence[str] = FEATURE_LEVELS,
        batch_size: int = 16,
    ) -> None:
        unknown = sorted(set(levels) - set(FEATURE_LEVELS))
        if unknown or not levels:
            raise ValueError(f"levels must be a non-empty subset of {FEATURE_LEVELS}, got {levels}")
        image_size = image_size or backbone.image_size
        if not image_size or image_size < 1:
            raise ValueError("image_size must be given (the backbone does not record one)")
        if capacity < 0 or batch_size < 1:
            raise ValueError(
                f"need capacity >= 0 and batch_size >= 1, got {capacity}, {batch_size}"
            )
        self.backbone = backbone.eval()
        self.dataset = dataset
        self.image_size = int(image_size)
        self.capacity = capacity
        self.levels = tuple(level for level in FEATURE_LEVELS if level in levels)
        self.batch_size = batch_size
        self.hits = self.misses = 0
        self._cache: OrderedDict[int, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, indices: Sequence[int] | np.ndarray, level: str = "top") -> torch.Tensor:
        """Maps of scenes ``indices`` at ``level``: ``[B, C, h, w]`` on the backbone's device."""
        if level not in self.levels:
            raise ValueError(f"level must be one of {self.levels}, got {level!r}")
        return self.features(indices)[level]

    def features(self, indices: Sequence[int] | np.ndarray) -> dict[str, torch.Tensor]:
        """Every kept level for scenes ``indices`` (repeats allowed): ``{level: [B, C, h, w]}``."""
        indices = [int(i) for i in indices]
        found = self._lookup(indices)
        missing = sorted(set(indices) - found.keys())
        if missing:
            computed = self._compute(missing)
            found.update(computed)
            self._store(computed)
        return {level: torch.stack([found[i][level] for i in indices]) for level in self.levels}

    def _lookup(self, indices: list[int]) -> dict[int, Entry]:
        found: dict[int, Entry] = {}
        with self._lock:
            unique = set(indices)
            for index in unique:
                entry = self._cache.get(index)
                if entry is not None:
                    self._cache.move_to_end(index)
                    found[index] = entry
            self.hits += len(found)
            self.misses += len(unique) - len(found)
        return found

    @torch.no_grad()
    def _compute(self, indices: list[int]) -> dict[int, Entry]:
        """Run the backbone outside the lock, so other threads keep reading cached scenes."""
        device = next(self.backbone.parameters()).device
        computed: dict[int, Entry] = {}
        for start in range(0, len(indices), self.batch_size):
            chunk = indices[start : start + self.batch_size]
            images = scene_images(self.dataset, chunk, self.image_size, device)
            maps = {"mid": self.backbone.mid(images)}
            if "top" in self.levels:  # BGCut keeps only the mid map: skip the rest
                maps["top"] = self.backbone.top(maps["mid"])
            for row, index in enumerate(chunk):
                # clone: a view would keep the whole batch's storage alive in the cache
                computed[index] = {level: maps[level][row].clone() for level in self.levels}
        return computed

    def _store(self, computed: dict[int, Entry]) -> None:
        if not self.capacity:
            return
        with self._lock:
            for index, entry in computed.items():
                self._cache[index] = entry
                self._cache.move_to_end(index)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)

    def clear(self) -> None:
        """Forget every cached scene (after the backbone's weights change)."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """Scenes currently cached."""
        return len(self._cache)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"FeatureCache({type(self.backbone).__name__}, {self.dataset!r}, "
            f"image_size={self.image_size}, cached={len(self)}/{self.capacity})"
        )
