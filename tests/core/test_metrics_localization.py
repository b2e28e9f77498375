"""Localisation AP and CorLoc (paper 004 sec. 3.2) against devkit-style loops."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.reference import average_precision_reference, iou_reference
from visenv.core.metrics import corloc, localization_ap


def _scene(rng: np.random.Generator, num_classes: int):
    g = int(rng.integers(0, 4))
    xy = rng.uniform(0, 60, (g, 2))
    wh = rng.uniform(10, 40, (g, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    labels = rng.integers(0, num_classes, g)
    return boxes, labels, rng.random(g) < 0.2


def _detections(rng, gt_boxes, gt_labels, num_classes):
    ids, labels, scores, boxes = [], [], [], []
    for i, (gb, gl) in enumerate(zip(gt_boxes, gt_labels, strict=True)):
        for box, label in zip(gb, gl, strict=True):
            for _ in range(int(rng.integers(0, 3))):  # 0-2 jittered hits (duplicates)
                ids.append(i)
                labels.append(label if rng.random() < 0.8 else rng.integers(num_classes))
                boxes.append(box + rng.normal(0, 5, 4))
                scores.append(rng.integers(0, 4) / 3)  # ties
        for _ in range(int(rng.integers(0, 2))):  # background false positives
            xy = rng.uniform(0, 60, 2)
            ids.append(i)
            labels.append(rng.integers(num_classes))
            boxes.append(np.r_[xy, xy + 20])
            scores.append(rng.integers(0, 4) / 3)
    boxes = np.sort(np.reshape(boxes, (-1, 2, 2)), axis=1).reshape(-1, 4)  # keep x1<=x2
    return np.array(ids, int), np.array(labels, int), np.array(scores), boxes


def _ap_reference(ids, labels, scores, boxes, gt_boxes, gt_labels, gt_difficult, k, mode):
    """The VOC devkit's loop for class k: best-overlap ground truth, duplicates are false."""
    npos = sum(int(((gl == k) & ~gd).sum()) for gl, gd in zip(gt_labels, gt_difficult, strict=True))
    order = sorted((d for d in range(len(labels)) if labels[d] == k), key=lambda d: -scores[d])
    taken, kept_scores, tp = set(), [], []
    for d in order:
        i = ids[d]
        best, best_iou = None, -1.0
        for j in range(len(gt_labels[i])):
            if gt_labels[i][j] == k and iou_reference(boxes[d], gt_boxes[i][j]) > best_iou:
                best, best_iou = j, iou_reference(boxes[d], gt_boxes[i][j])
        if best is not None and best_iou >= 0.5 and gt_difficult[i][best]:
            continue  # matched a difficult object: ignored
        hit = best is not None and best_iou >= 0.5 and (i, best) not in taken
        if hit:
            taken.add((i, best))
        kept_scores.append(scores[d])
        tp.append(hit)
    return average_precision_reference(kept_scores, tp, mode, npos)


@pytest.mark.parametrize("mode", ["area", "voc07"])
def test_localization_ap_matches_the_devkit_loop(mode):
    rng = np.random.default_rng(0)
    for _ in range(30):
        k = 3
        gt = [_scene(rng, k) for _ in range(int(rng.integers(1, 6)))]
        gt_boxes, gt_labels, gt_difficult = (list(x) for x in zip(*gt, strict=True))
        dets = _detections(rng, gt_boxes, gt_labels, k)
        per_class, m_ap = localization_ap(
            *dets, gt_boxes, gt_labels, gt_difficult, num_classes=k, mode=mode
        )
        expected = [
            _ap_reference(*dets, gt_boxes, gt_labels, gt_difficult, c, mode) for c in range(k)
        ]
        np.testing.assert_allclose(per_class, expected, rtol=1e-12, atol=1e-12)
        valid = ~np.isnan(per_class)
        assert m_ap == pytest.approx(per_class[valid].mean()) if valid.any() else np.isnan(m_ap)


def test_localization_ap_worked_example():
    gt_boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 10, 10]])]
    gt_labels = [np.array([0, 0]), np.array([1])]
    # image 0 class 0: a hit (0.9), a duplicate of it (0.8, false), a miss (0.7, false);
    # the object at (20, 20) is never found, so recall tops out at 1/2
    ids = np.array([0, 0, 0, 1])
    labels = np.array([0, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.7, 0.5])
    boxes = np.array([[0, 0, 10, 9], [1, 0, 10, 10], [50, 50, 60, 60], [0, 0, 10, 10]])
    per_class, m_ap = localization_ap(ids, labels, scores, boxes, gt_boxes, gt_labels)
    np.testing.assert_allclose(per_class, [0.5, 1.0])
    assert m_ap == pytest.approx(0.75)
    # marking the found object difficult leaves one (missed) positive for class 0: AP 0
    difficult = [np.array([True, False]), np.array([False])]
    per_class, _ = localization_ap(ids, labels, scores, boxes, gt_boxes, gt_labels, difficult)
    assert per_class[0] == 0.0


def test_corloc_matches_a_loop_and_rejects_bad_pairs():
    rng = np.random.default_rng(3)
    gt_boxes, gt_labels, ids, labels, boxes = [], [], [], [], []
    for i in range(40):
        b, lab, _ = _scene(rng, 3)
        b, lab = np.r_[b, [[5, 5, 30, 30]]], np.r_[lab, 0]
        gt_boxes.append(b)
        gt_labels.append(lab)
        for c in sorted(set(lab.tolist())):
            ids.append(i)
            labels.append(c)
            boxes.append(b[lab == c][0] + rng.normal(0, 6, 4))
    boxes = np.sort(np.reshape(boxes, (-1, 2, 2)), axis=1).reshape(-1, 4)
    hits = []
    for i, c, box in zip(ids, labels, boxes, strict=True):
        ious = [iou_reference(box, g) for g, gl in zip(gt_boxes[i], gt_labels[i], strict=True)]
        hits.append(max(iou for iou, gl in zip(ious, gt_labels[i], strict=True) if gl == c) >= 0.5)
    expected = np.mean(hits)
    assert corloc(ids, labels, boxes, gt_boxes, gt_labels) == pytest.approx(expected)
    assert 0 < expected < 1
    with pytest.raises(ValueError, match="exactly one"):
        corloc([0, 0], [0, 0], [[5, 5, 30, 30]] * 2, gt_boxes, gt_labels)
    with pytest.raises(ValueError, match="not in image"):
        corloc([0], [7], [[5, 5, 30, 30]], gt_boxes, gt_labels)


def test_corloc_worked_example():
    gt_boxes = [np.array([[0, 0, 10, 10], [20, 20, 40, 40]])]
    gt_labels = [np.array([0, 0])]
    # IoU with the second box of class 0 is what counts; 0.5 exactly is correct
    assert corloc([0], [0], [[20, 20, 40, 30]], gt_boxes, gt_labels) == 1.0
    assert corloc([0], [0], [[20, 20, 40, 29]], gt_boxes, gt_labels) == 0.0
