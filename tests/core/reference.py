"""Slow, obvious reference implementations that the fast kernels are tested against."""

from __future__ import annotations

import math

import numpy as np


def bilinear_sample(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """Bilinear value of ``image [H, W, C]`` at pixel-edge point ``(x, y)``; outside reads 0."""
    height, width = image.shape[:2]
    # pixel (r, c) has its centre at (c + 0.5, r + 0.5)
    cx, cy = x - 0.5, y - 0.5
    c0, r0 = int(np.floor(cx)), int(np.floor(cy))
    fx, fy = cx - c0, cy - r0
    value = np.zeros(image.shape[2:], dtype=np.float64)
    for dr, wy in ((0, 1 - fy), (1, fy)):
        for dc, wx in ((0, 1 - fx), (1, fx)):
            r, c = r0 + dr, c0 + dc
            if 0 <= r < height and 0 <= c < width:
                value += wy * wx * image[r, c].astype(np.float64)
    return value


def crop_and_resize_reference(image: np.ndarray, box, out_size) -> np.ndarray:
    """One crop of ``box`` from ``image [H, W, C]`` at ``out_size (h, w)``, as float64."""
    h, w = out_size
    x1, y1, x2, y2 = (float(v) for v in box)
    out = np.zeros((h, w, *image.shape[2:]))
    for i in range(h):
        for j in range(w):
            x = x1 + (j + 0.5) * (x2 - x1) / w
            y = y1 + (i + 0.5) * (y2 - y1) / h
            out[i, j] = bilinear_sample(image, x, y)
    return out


def binary_entropy_reference(patch: np.ndarray, threshold: float) -> float:
    """Entropy in bits of one patch ``[h, w, C]`` binarised at ``threshold``, pixel by pixel."""
    h, w = patch.shape[:2]
    bright = 0
    for i in range(h):
        for j in range(w):
            if float(np.mean(patch[i, j])) >= threshold:
                bright += 1
    entropy = 0.0
    for count in (bright, h * w - bright):
        if count:
            p = count / (h * w)
            entropy -= p * math.log2(p)
    return entropy


def coverage_reference(mask: np.ndarray, boxes: np.ndarray) -> float:
    """Share of ``mask``'s pixels whose centres lie in some box, pixel by pixel."""
    inside = total = 0
    for i in range(mask.shape[0]):
        for j in range(mask.shape[1]):
            if not mask[i, j]:
                continue
            total += 1
            x, y = j + 0.5, i + 0.5
            inside += any(b[0] <= x < b[2] and b[1] <= y < b[3] for b in boxes)
    return inside / total if total else float("nan")


def iou_reference(a, b) -> float:
    """IoU of two ``(x1, y1, x2, y2)`` boxes, written out."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def average_precision_reference(scores, targets, mode="area", num_positives=None) -> float:
    """AP from the definition: precision and recall at every distinct threshold, one by one."""
    scores, targets = list(map(float, scores)), list(map(bool, targets))
    npos = sum(targets) if num_positives is None else num_positives
    if npos == 0:
        return float("nan")
    points = []  # (recall, precision), highest threshold first
    for t in sorted(set(scores), reverse=True):
        chosen = [i for i in range(len(scores)) if scores[i] >= t]
        tp = sum(targets[i] for i in chosen)
        points.append((tp / npos, tp / len(chosen)))

    def interpolated(r: float) -> float:
        return max([p for rec, p in points if rec >= r], default=0.0)

    if mode == "voc07":
        return sum(interpolated(k / 10) for k in range(11)) / 11
    area, previous = 0.0, 0.0
    for rec, _ in points:
        area += (rec - previous) * interpolated(rec)
        previous = rec
    return area
