"""Multiset bookkeeping for sequential multiset prediction (HSAL, paper 001, sec. 4.2).

A multiset of labels is held as counts ``int64 [..., C]`` (``counts[c]`` copies of label
``c``), which makes "is the label still available" and "remove one copy" one gather and one
scatter for a whole batch. Functions accept numpy arrays or torch tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

__all__ = ["multiset_counts", "multiset_reward"]


def multiset_counts(labels: Sequence[Sequence[int]] | np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``int64 [N, C]`` of ``N`` label lists (or an ``[N, L]`` array padded with -1)."""
    out = np.zeros((len(labels), num_classes), dtype=np.int64)
    for row, values in zip(out, labels, strict=True):
        values = np.asarray(values, dtype=np.int64)
        np.add.at(row, values[values >= 0], 1)
    return out


def multiset_reward(remaining: Array, labels: Array, stop_label: int) -> tuple[Array, Array, Array]:
    """The classification reward and the multiset update of eq. (sec. 4.2), for a batch.

    ``R = +1`` if the predicted label is in the remaining multiset ``A`` (which then loses one
    copy), else ``-1``. The "stop" label (``stop_label``, = C) is right, ``+1``, exactly when
    ``A`` is empty (the paper's supervised stop target after the m-th label), else ``-1``.

    Args:
        remaining: ``A`` as counts ``[N, C]``.
        labels: Predicted labels ``[N]`` in ``0..C`` (``C`` = stop).
        stop_label: The index of "stop" (= C).

    Returns:
        ``(rewards float64 [N], remaining after [N, C], stopped bool [N])``; ``remaining`` is
        not modified in place.
    """
    is_stop = labels == stop_label
    rows = np.arange(len(labels)) if isinstance(labels, np.ndarray) else torch.arange(len(labels))
    if isinstance(labels, torch.Tensor):
        rows = rows.to(labels.device)
        safe = torch.where(is_stop, torch.zeros_like(labels), labels)
        available = remaining[rows, safe] > 0
        right = torch.where(is_stop, remaining.sum(-1) == 0, available)
        rewards = right.double() * 2 - 1
        take = (~is_stop & available).to(remaining.dtype)
        after = remaining.clone()
        after[rows, safe] -= take
    else:
        safe = np.where(is_stop, 0, labels)
        available = remaining[rows, safe] > 0
        right = np.where(is_stop, remaining.sum(-1) == 0, available)
        rewards = right.astype(np.float64) * 2 - 1
        after = remaining.copy()
        after[rows, safe] -= (~is_stop & available).astype(remaining.dtype)
    return rewards, after, is_stop
