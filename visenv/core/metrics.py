"""Metrics of the papers, as plain functions of numpy arrays (tested against slow references)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["IOU_BIN_EDGES", "iou_bins", "salient_correct"]

#: The five initial-IoU bins of DQ-SSTN's Figure 3.
IOU_BIN_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def salient_correct(
    predictions: np.ndarray,
    salient_label: np.ndarray,
    labels_top2: np.ndarray,
    labels_any: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-image correctness under DQ-SSTN's three accuracies (sec. 4.1.1).

    Args:
        predictions (ndarray[N]): Predicted class of each image.
        salient_label (ndarray[N]): Class of the largest object (Top-1 target).
        labels_top2 (ndarray[N, 2]): Classes of the two largest objects (-1 pads).
        labels_any (ndarray[N, C] bool): Classes present anywhere in the image.

    Returns:
        ``{"top1", "top2", "any"}`` -> bool ``[N]``.
    """
    predictions = np.asarray(predictions)
    return {
        "top1": predictions == salient_label,
        "top2": (predictions[:, None] == labels_top2).any(axis=1),
        "any": labels_any[np.arange(len(predictions)), predictions],
    }


def iou_bins(
    initial_iou: np.ndarray,
    final_iou: np.ndarray,
    correct_before: np.ndarray | None = None,
    correct_after: np.ndarray | None = None,
    edges: Sequence[float] = IOU_BIN_EDGES,
) -> list[dict[str, float]]:
    """Mean salient IoU (and accuracy) before and after, by bins of the initial IoU.

    Bin ``k`` holds images with ``edges[k] <= initial_iou < edges[k + 1]`` (the last bin
    includes its upper edge). Empty bins report NaN means.

    Returns:
        One dict per bin: ``low, high, count, iou_before, iou_after`` and, when correctness is
        given, ``acc_before, acc_after``.
    """
    initial_iou, final_iou = np.asarray(initial_iou), np.asarray(final_iou)
    index = np.clip(np.searchsorted(edges, initial_iou, side="right") - 1, 0, len(edges) - 2)
    rows = []
    for k in range(len(edges) - 1):
        members = index == k
        row = {"low": float(edges[k]), "high": float(edges[k + 1]), "count": int(members.sum())}
        row["iou_before"] = _mean(initial_iou, members)
        row["iou_after"] = _mean(final_iou, members)
        if correct_before is not None and correct_after is not None:
            row["acc_before"] = _mean(np.asarray(correct_before, dtype=float), members)
            row["acc_after"] = _mean(np.asarray(correct_after, dtype=float), members)
        rows.append(row)
    return rows


def _mean(values: np.ndarray, members: np.ndarray) -> float:
    return float(values[members].mean()) if members.any() else float("nan")
