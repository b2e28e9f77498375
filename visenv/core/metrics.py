"""Metrics of the papers, as plain functions of numpy arrays (tested against slow references)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from visenv.core.boxes import box_iou

__all__ = [
    "IOU_BIN_EDGES",
    "attention_on_saliency",
    "average_precision",
    "corloc",
    "exact_match",
    "glimpse_coverage",
    "iou_bins",
    "localization_ap",
    "macro_f1",
    "mean_average_precision",
    "multilabel_prf",
    "multiset_matches",
    "overall_precision_recall",
    "salient_correct",
    "sequence_errors",
    "top_n_label_recall",
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


# --- Ranking metrics: VOC average precision (paper 003 Table 1, paper 004 sec. 3.2) ----------

_AP_MODES = ("area", "voc07")


def _precision_recall(
    scores: np.ndarray, targets: np.ndarray, num_positives: int
) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at each distinct score threshold, highest threshold first.

    Tied scores form one operating point (everything scoring ``>= t`` is predicted), so the
    result does not depend on the order of the inputs. The VOC devkit instead breaks ties by
    input order; without ties the two agree.
    """
    order = np.argsort(-scores, kind="stable")
    scores, targets = scores[order], targets[order]
    tp = np.cumsum(targets)
    # the last position of each run of equal scores closes one operating point
    last = np.r_[scores[1:] != scores[:-1], True]
    tp = tp[last].astype(np.float64)
    predicted = (np.flatnonzero(last) + 1).astype(np.float64)
    return tp / predicted, tp / num_positives


def _interpolated_ap(precision: np.ndarray, recall: np.ndarray, mode: str) -> float:
    """AP of a PR curve (recall non-decreasing) from its interpolated precision.

    Interpolated precision at recall ``r`` is the best precision at any recall ``>= r``.
    ``"voc07"``: its mean at the 11 recalls 0, 0.1, ..., 1 (VOC2007 devkit). ``"area"``: the
    area under it, summing the precision at each point where recall rises (VOC2010+ devkit).
    """
    if mode == "voc07":
        # k / 10 is the double nearest to the decimal, as is a recall of 3 / 10; the devkit's
        # 3 * 0.1 lies a hair above 0.3 and would drop a recall of exactly 0.3 at t = 0.3
        points = [precision[recall >= k / 10].max(initial=0.0) for k in range(11)]
        return float(np.mean(points))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.r_[0.0, recall])
    return float(np.sum(steps * envelope))


def average_precision(
    scores: np.ndarray,
    targets: np.ndarray,
    mode: str = "area",
    *,
    num_positives: int | None = None,
) -> float:
    """Average precision of a ranking, as the PASCAL VOC devkit computes it.

    Args:
        scores (ndarray[N]): Confidence of each item; higher ranks first. Tied scores form
            one operating point, so the result does not depend on the order of the inputs.
        targets (ndarray[N] bool): Whether each item is a positive.
        mode: ``"area"`` (area under the interpolated PR curve, VOC2010 onwards) or
            ``"voc07"`` (the VOC2007 11-point interpolation).
        num_positives: Positives in total, when some are missing from ``scores`` (a detector
            that missed objects); default ``targets.sum()``.

    Returns:
        AP in ``[0, 1]``, or NaN when there are no positives.

    Raises:
        ValueError: Unknown ``mode``, mismatched shapes, or ``num_positives < targets.sum()``.
    """
    if mode not in _AP_MODES:
        raise ValueError(f"unknown AP mode {mode!r}; expected one of {_AP_MODES}")
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets, dtype=bool)
    if scores.ndim != 1 or scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must be [N] each, got {scores.shape}, {targets.shape}"
        )
    found = int(targets.sum())
    num_positives = found if num_positives is None else int(num_positives)
    if num_positives < found:
        raise ValueError(f"num_positives={num_positives} < the {found} positive targets")
    if num_positives == 0:
        return float("nan")
    if len(scores) == 0:
        return 0.0
    return _interpolated_ap(*_precision_recall(scores, targets, num_positives), mode)


def mean_average_precision(
    scores: np.ndarray,
    targets: np.ndarray,
    mode: str = "area",
    *,
    ignore: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Per-class AP and their mean (mAP) for multi-label scores (paper 003 Table 1).

    Classes with no positive image have no AP (NaN) and are left out of the mean, so a small
    subset in which some classes never occur is not penalised for them.

    Args:
        scores (ndarray[N, K]): Score of each class for each image.
        targets (ndarray[N, K] bool): Whether each class is present in each image.
        mode: ``"area"`` or ``"voc07"``, as in :func:`average_precision`.
        ignore (ndarray[N, K] bool, optional): Entries left out of their class's ranking, e.g.
            VOC's classes present only as "difficult" objects (label 0 in the devkit).

    Returns:
        ``(per_class float [K], mAP)``; mAP is NaN if no class has a positive.
    """
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets, dtype=bool)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must be [N, K] each, got {scores.shape}, {targets.shape}"
        )
    keep = np.ones_like(targets) if ignore is None else ~np.asarray(ignore, dtype=bool)
    per_class = np.array(
        [
            average_precision(scores[keep[:, k], k], targets[keep[:, k], k], mode)
            for k in range(scores.shape[1])
        ]
    )
    valid = ~np.isnan(per_class)
    return per_class, float(per_class[valid].mean()) if valid.any() else float("nan")


def multilabel_prf(
    scores: np.ndarray,
    targets: np.ndarray,
    top_k: int | None = 3,
    threshold: float | None = 0.5,
) -> dict[str, float]:
    """Per-class and overall precision, recall and F1 of predicted label sets (paper 003 Eq. 11).

    A label is predicted for an image if it is among the image's ``top_k`` scores *and* its
    score is ``>= threshold`` (either test alone when the other is ``None``), the COCO
    protocol of paper 003 (top-3, probability threshold). Ties at the ``top_k`` boundary go to
    the lower class index. With ``N^c_i``, ``N^p_i`` and ``N^g_i`` the images correctly
    predicted, predicted and truly labelled with class ``i``:

    * ``OP = sum N^c / sum N^p``, ``OR = sum N^c / sum N^g``, ``OF1`` their harmonic mean;
    * ``CP = mean_i N^c_i / N^p_i``, ``CR = mean_i N^c_i / N^g_i``, ``CF1`` from CP and CR.

    The class means run over classes with at least one ground-truth image (as in
    :func:`mean_average_precision`); a class that is never predicted has precision 0. A ratio
    or F1 with a zero denominator is 0.

    Args:
        scores (ndarray[N, K]): Score (e.g. probability) of each class for each image.
        targets (ndarray[N, K] bool): Ground-truth labels.
        top_k: Labels kept per image, or ``None`` for no limit.
        threshold: Lowest score of a predicted label, or ``None`` for no threshold.

    Returns:
        ``{"CP", "CR", "CF1", "OP", "OR", "OF1"}`` -> float.

    Raises:
        ValueError: Both ``top_k`` and ``threshold`` are ``None``, ``top_k < 1``, or the
            shapes differ.
    """
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets, dtype=bool)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must be [N, K] each, got {scores.shape}, {targets.shape}"
        )
    if top_k is None and threshold is None:
        raise ValueError("give top_k, threshold or both")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    predicted = np.ones_like(targets)
    if top_k is not None:
        rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1, kind="stable")
        predicted &= rank < top_k
    if threshold is not None:
        predicted &= scores >= threshold
    n_correct = (predicted & targets).sum(0).astype(np.float64)
    n_predicted, n_true = predicted.sum(0), targets.sum(0)
    present = n_true > 0
    cp = float(_ratio(n_correct, n_predicted)[present].mean()) if present.any() else 0.0
    cr = float(_ratio(n_correct, n_true)[present].mean()) if present.any() else 0.0
    op = float(_ratio(n_correct.sum(), n_predicted.sum()))
    orc = float(_ratio(n_correct.sum(), n_true.sum()))
    cf1, of1 = _f1(cp, cr), _f1(op, orc)
    return {"CP": cp, "CR": cr, "CF1": cf1, "OP": op, "OR": orc, "OF1": of1}


def top_n_label_recall(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Share of each image's labels among its top-``n`` scores, ``n`` its number of labels.

    RARL's reward (paper 003 Eq. 5): with ``g`` the ``n`` ground-truth labels and ``p`` the
    ``n`` labels of highest fused score, ``|g ∩ p| / n``. Ties at the ``n``-th place go to the
    lower class index (as in :func:`multilabel_prf`).

    Args:
        scores (ndarray[N, K]): Fused label scores.
        targets (ndarray[N, K] bool): Ground-truth labels.

    Returns:
        ndarray[N] float64 in ``[0, 1]``; NaN for an image without labels (``n = 0``).
    """
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets, dtype=bool)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must be [N, K] each, got {scores.shape}, {targets.shape}"
        )
    n = targets.sum(axis=1)
    rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1, kind="stable")
    hits = ((rank < n[:, None]) & targets).sum(axis=1)
    return np.where(n > 0, hits / np.maximum(n, 1), np.nan)


def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """``num / den`` with 0 where ``den == 0``."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return float(2 * precision * recall / total) if total > 0 else 0.0


# --- Localisation metrics (paper 004 sec. 3.2) ------------------------------------------------


def _check_detections(
    image_ids: np.ndarray, labels: np.ndarray, boxes: np.ndarray, num_images: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    image_ids = np.asarray(image_ids, dtype=np.int64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if not len(image_ids) == len(labels) == len(boxes):
        raise ValueError(
            f"got {len(image_ids)} image ids, {len(labels)} labels and {len(boxes)} boxes"
        )
    if len(image_ids) and (image_ids.min() < 0 or image_ids.max() >= num_images):
        raise ValueError(f"image ids must index the {num_images} ground-truth images")
    return image_ids, labels, boxes


def localization_ap(
    image_ids: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    boxes: np.ndarray,
    gt_boxes: Sequence[np.ndarray],
    gt_labels: Sequence[np.ndarray],
    gt_difficult: Sequence[np.ndarray] | None = None,
    *,
    num_classes: int | None = None,
    iou_threshold: float = 0.5,
    mode: str = "area",
) -> tuple[np.ndarray, float]:
    """Per-class localisation AP and mAP of scored boxes, by the VOC detection rule.

    For each class, detections are taken in decreasing confidence (paper 004 uses the class
    score). As in the VOC devkit, each is compared with the ground-truth box of its class in
    its image that it overlaps most: with IoU ``>= iou_threshold`` it is a true positive if
    that box is still unmatched (which it then takes), is skipped if that box is "difficult",
    and is a false positive if the box was already taken (a duplicate), even when another box
    overlaps it enough. Otherwise it is a false positive. AP then follows
    :func:`average_precision` over all non-difficult ground-truth boxes, so missed objects
    lower recall. Ties in confidence are matched in input order.

    Args:
        image_ids (ndarray[D] int): Image of each detection, indexing ``gt_boxes``.
        labels (ndarray[D] int): Class of each detection.
        scores (ndarray[D]): Confidence of each detection.
        boxes (ndarray[D, 4]): Detected boxes ``(x1, y1, x2, y2)``.
        gt_boxes: Per image, ``ndarray[G_i, 4]`` ground-truth boxes.
        gt_labels: Per image, ``ndarray[G_i]`` their classes.
        gt_difficult: Per image, ``ndarray[G_i] bool`` (default: none difficult).
        num_classes: ``K``; default one more than the largest label seen.
        iou_threshold: Overlap needed for a true positive.
        mode: ``"area"`` or ``"voc07"``, as in :func:`average_precision`.

    Returns:
        ``(per_class float [K], mAP)``; classes without non-difficult ground truth are NaN and
        left out of the mean.
    """
    image_ids, labels, boxes = _check_detections(image_ids, labels, boxes, len(gt_boxes))
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(labels):
        raise ValueError(f"got {len(scores)} scores for {len(labels)} detections")
    gt_boxes, gt_labels, gt_difficult = _ground_truth(gt_boxes, gt_labels, gt_difficult)
    if num_classes is None:
        num_classes = 1 + max([-1, *labels, *(lab.max(initial=-1) for lab in gt_labels)])
    per_class = np.full(num_classes, np.nan)
    for k in range(num_classes):
        num_positives = sum(
            int(((lab == k) & ~dif).sum()) for lab, dif in zip(gt_labels, gt_difficult, strict=True)
        )
        if num_positives == 0:
            continue
        mask = labels == k
        ground_truth = (gt_boxes, gt_labels, gt_difficult)
        keep, tp = _match_class(
            image_ids[mask], scores[mask], boxes[mask], ground_truth, k, iou_threshold
        )
        per_class[k] = average_precision(scores[mask][keep], tp, mode, num_positives=num_positives)
    valid = ~np.isnan(per_class)
    return per_class, float(per_class[valid].mean()) if valid.any() else float("nan")


def _ground_truth(
    gt_boxes: Sequence[np.ndarray],
    gt_labels: Sequence[np.ndarray],
    gt_difficult: Sequence[np.ndarray] | None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per-image ground truth as float64 ``[G_i, 4]``, int64 ``[G_i]``, bool ``[G_i]``."""
    if gt_difficult is None:
        gt_difficult = [np.zeros(len(np.asarray(lab).reshape(-1)), bool) for lab in gt_labels]
    if not len(gt_boxes) == len(gt_labels) == len(gt_difficult):
        raise ValueError("gt_boxes, gt_labels and gt_difficult must list the same images")
    boxes = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in gt_boxes]
    labels = [np.asarray(lab, dtype=np.int64).reshape(-1) for lab in gt_labels]
    difficult = [np.asarray(d, dtype=bool).reshape(-1) for d in gt_difficult]
    if any(
        not len(b) == len(lab) == len(d) for b, lab, d in zip(boxes, labels, difficult, strict=True)
    ):
        raise ValueError("each image needs as many ground-truth labels and flags as boxes")
    return boxes, labels, difficult


def _match_class(
    image_ids: np.ndarray,
    scores: np.ndarray,
    boxes: np.ndarray,
    ground_truth: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]],
    label: int,
    iou_threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """VOC greedy matching of one class's detections: ``(kept bool [D], true_positive [kept])``.

    Detections matched to a difficult box are not kept (neither true nor false positives).
    """
    gt_boxes, gt_labels, gt_difficult = ground_truth
    keep = np.ones(len(scores), dtype=bool)
    tp = np.zeros(len(scores), dtype=bool)
    taken = [np.zeros(len(lab), dtype=bool) for lab in gt_labels]
    for d in np.argsort(-scores, kind="stable"):
        i = image_ids[d]
        candidates = np.flatnonzero(gt_labels[i] == label)
        if not len(candidates):
            continue
        ious = box_iou(boxes[d][None], gt_boxes[i][candidates])
        best = candidates[np.argmax(ious)]
        if ious.max() < iou_threshold:
            continue
        if gt_difficult[i][best]:
            keep[d] = False
        elif not taken[i][best]:
            tp[d] = taken[i][best] = True
    return keep, tp[keep]


def corloc(
    image_ids: np.ndarray,
    labels: np.ndarray,
    boxes: np.ndarray,
    gt_boxes: Sequence[np.ndarray],
    gt_labels: Sequence[np.ndarray],
    *,
    iou_threshold: float = 0.5,
) -> float:
    """Correct localisation: the fraction of (image, class) pairs localised correctly.

    One predicted box per pair (an image and a class present in it, as BGCut's episodes
    enumerate them); it is correct if its IoU with any ground-truth box of that class in that
    image (difficult ones included) is ``>= iou_threshold``. This pools all pairs; restrict
    the inputs to one class for a per-class CorLoc.

    Args:
        image_ids (ndarray[P] int): Image of each pair, indexing ``gt_boxes``.
        labels (ndarray[P] int): Class of each pair.
        boxes (ndarray[P, 4]): Predicted box of each pair.
        gt_boxes: Per image, ``ndarray[G_i, 4]`` ground-truth boxes.
        gt_labels: Per image, ``ndarray[G_i]`` their classes.
        iou_threshold: Overlap needed to count as correct.

    Returns:
        CorLoc in ``[0, 1]``; NaN for no pairs.

    Raises:
        ValueError: A pair appears twice, or its class is absent from its image.
    """
    image_ids, labels, boxes = _check_detections(image_ids, labels, boxes, len(gt_boxes))
    gt_boxes, gt_labels, _ = _ground_truth(gt_boxes, gt_labels, None)
    pairs = set(zip(image_ids.tolist(), labels.tolist(), strict=True))
    if len(pairs) != len(labels):
        raise ValueError("each (image, class) pair must have exactly one predicted box")
    correct = 0
    for i, k, box in zip(image_ids, labels, boxes, strict=True):
        mask = gt_labels[i] == k
        if not mask.any():
            raise ValueError(f"class {k} is not in image {i}: CorLoc needs present classes")
        correct += bool(box_iou(box[None], gt_boxes[i][mask]).max() >= iou_threshold)
    return correct / len(labels) if len(labels) else float("nan")
