"""RARL frames: the N x N image with the 9 anchor regions of the current iteration."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from visenv.render import BLUE, RED, YELLOW, draw_boxes, put_text

__all__ = ["SCALE_COLORS", "rarl_frame"]

#: Colour of the anchors of each scale, smallest first (aspect ratios share their scale's).
SCALE_COLORS = (YELLOW, (255, 140, 0), RED)


def rarl_frame(
    image: np.ndarray,
    *,
    regions: np.ndarray,
    locations: np.ndarray,
    iteration: int,
    num_iterations: int,
    objects: tuple[np.ndarray, np.ndarray],
    fused_scores: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
) -> np.ndarray:
    """The image the backbone sees, its objects (blue), the regions shown (coloured by scale)
    and the earlier locations (numbered dots); once the episode is over, its top-``n`` labels.

    Args:
        image (ndarray[N, N, 3] uint8): The scene resized to the env's ``N x N``.
        regions (ndarray[k, 4]): The regions shown, pixels of ``image``.
        locations (ndarray[t, 2]): ``l_1 .. l_t`` in ``[-1, 1]^2``.
        iteration: The iteration shown (0 whole image, ``T + 1`` over).
        num_iterations: ``T``.
        objects: ``(boxes [M, 4], labels [M])`` in pixels of ``image``.
        fused_scores (ndarray[K]): Category-wise max of the scores so far.
        labels (ndarray[K] bool): The true labels.
        classes: Class names.
    """
    size = image.shape[0]
    frame = draw_boxes(image, objects[0], BLUE, 1)
    per_scale = max(1, len(regions) // len(SCALE_COLORS))
    for scale, color in enumerate(SCALE_COLORS):
        frame = draw_boxes(frame, regions[scale * per_scale : (scale + 1) * per_scale], color, 1)
    for t, (x, y) in enumerate(np.asarray(locations), start=1):
        centre = (round((x + 1) / 2 * size), round((y + 1) / 2 * size))
        cv2.circle(frame, centre, 3, RED, -1, lineType=cv2.LINE_AA)
        put_text(frame, str(t), (centre[0] + 4, centre[1] - 4))
    stage = "whole image" if iteration == 0 else f"t={iteration}/{num_iterations}"
    if iteration > num_iterations:
        n = int(labels.sum())
        top = np.argsort(-fused_scores, kind="stable")[:n]
        hits = int(labels[top].sum())
        stage = f"done: {hits}/{n} right"
        put_text(frame, "top-n: " + ", ".join(classes[c] for c in top), (4, 34))
        put_text(frame, "true: " + ", ".join(classes[c] for c in np.flatnonzero(labels)), (4, 52))
    put_text(frame, stage)
    return frame
