"""Metrics of the papers, as plain functions of numpy arrays (tested against slow references)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "IOU_BIN_EDGES",
    "attention_on_saliency",
    "exact_match",
    "glimpse_coverage",
    "iou_bins",
    "macro_f1",
    "multiset_matches",
    "overall_precision_recall",
    "salient_correct",
    "sequence_errors",
]

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


def sequence_errors(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Whether each prediction is wrong, as the error rate of paper 002 counts it.

    A single label is wrong when it differs from the target; a digit sequence (SVHN, Table 3:
    "whole sequence recognition") when any label up to and including the terminal one
    differs, or when it has a different length.

    Args:
        predictions (ndarray[N, S]): Predicted labels, ``-1`` after the last one.
        targets (ndarray[N, S]): True labels, ``-1`` after the last one.

    Returns:
        bool ``[N]``; its mean is the error rate.
    """
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.shape != targets.shape or predictions.ndim != 2:
        raise ValueError(
            f"predictions and targets must both be [N, S], got {predictions.shape} and "
            f"{targets.shape}"
        )
    return (predictions != targets).any(axis=1)


def glimpse_coverage(
    masks: np.ndarray, boxes: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """Share of each image's object pixels that lie inside at least one glimpse box.

    A pixel ``(row i, column j)`` is inside a box when its centre ``(j + 0.5, i + 0.5)`` is:
    ``x1 <= j + 0.5 < x2`` and ``y1 <= i + 0.5 < y2`` (pixel-edge boxes, :mod:`visenv.core`).

    Args:
        masks (ndarray[N, H, W] bool): Object pixels (e.g. the digit's ink) of each image.
        boxes (ndarray[N, K, 4]): Glimpse boxes in pixels (e.g. the finest patch of each
            glimpse, or every scale of every glimpse flattened to ``K``).
        valid (ndarray[N, K] bool): Which boxes count; default all.

    Returns:
        float64 ``[N]`` in ``[0, 1]``; NaN where a mask is empty.
    """
    masks = np.asarray(masks, dtype=bool)
    boxes = np.asarray(boxes, dtype=np.float64)
    n, height, width = masks.shape
    if boxes.ndim != 3 or boxes.shape[0] != n or boxes.shape[2] != 4:
        raise ValueError(f"boxes must be [N={n}, K, 4], got {boxes.shape}")
    if valid is None:
        valid = np.ones(boxes.shape[:2], dtype=bool)
    cols = np.arange(width) + 0.5
    rows = np.arange(height) + 0.5
    in_x = (boxes[..., 0:1] <= cols) & (cols < boxes[..., 2:3]) & valid[..., None]  # [N, K, W]
    in_y = (boxes[..., 1:2] <= rows) & (rows < boxes[..., 3:4])  # [N, K, H]
    # a pixel is covered if some box holds both its row and its column: a boolean matmul
    covered = np.einsum("nkh,nkw->nhw", in_y.astype(np.float32), in_x.astype(np.float32)) > 0
    total = masks.sum(axis=(1, 2))
    hit = (covered & masks).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hit / np.maximum(total, 1), np.nan)


# -- HSAL (paper 001, sec. 5): multiset prediction --------------------------------------------
def multiset_matches(predicted: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-class true positives, false positives and false negatives of multiset predictions.

    A class predicted ``p`` times in an image that holds it ``t`` times scores ``min(p, t)``
    true positives, ``p - min`` false positives and ``t - min`` false negatives (for sets this is
    the usual count).

    Args:
        predicted (ndarray[N, C] int): Predicted label counts per image.
        true (ndarray[N, C] int): True label counts per image.

    Returns:
        ``(tp, fp, fn)``, each ``int64 [C]`` summed over the images.
    """
    predicted, true = np.asarray(predicted, np.int64), np.asarray(true, np.int64)
    if predicted.shape != true.shape or predicted.ndim != 2:
        raise ValueError(f"counts must both be [N, C], got {predicted.shape} and {true.shape}")
    hit = np.minimum(predicted, true)
    return hit.sum(0), (predicted - hit).sum(0), (true - hit).sum(0)


def macro_f1(predicted: np.ndarray, true: np.ndarray) -> float:
    """Macro-F1: the mean over classes of ``F1_c = 2 TP / (2 TP + FP + FN)``.

    Counts follow :func:`multiset_matches`. Classes that are neither present nor predicted
    anywhere have no F1 and are left out of the mean (``nan`` if no class is left).
    """
    tp, fp, fn = multiset_matches(predicted, true)
    denominator = 2 * tp + fp + fn
    seen = denominator > 0
    return float((2 * tp[seen] / denominator[seen]).mean()) if seen.any() else float("nan")


def exact_match(predicted: np.ndarray, true: np.ndarray) -> float:
    """Exact match (0-1): the share of images whose predicted multiset equals the true one."""
    predicted, true = np.asarray(predicted), np.asarray(true)
    return float(np.all(predicted == true, axis=1).mean()) if len(true) else float("nan")


def overall_precision_recall(predicted: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Overall precision and recall (OP, OR): true positives over all predicted, resp. all true,
    labels of all classes (``nan`` when the denominator is 0)."""
    tp, fp, fn = (x.sum() for x in multiset_matches(predicted, true))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return float(precision), float(recall)


def attention_on_saliency(saliency: np.ndarray, cells: np.ndarray) -> float:
    """The paper's ``attn_saliency``: ``1/k sum_i S_t[(x, y)_i]`` per meta step, averaged.

    Args:
        saliency (ndarray[M, h, w]): The saliency map ``S_t`` of each of ``M`` meta steps
            (pooled over examples).
        cells (ndarray[M, k] int): The ``k`` glimpse cells of each meta step, flat row-major.

    Returns:
        The mean over all meta steps (``nan`` if ``M = 0``).
    """
    saliency, cells = np.asarray(saliency), np.asarray(cells, np.int64)
    if not len(cells):
        return float("nan")
    flat = saliency.reshape(len(saliency), -1)
    return float(np.take_along_axis(flat, cells, axis=1).mean())
