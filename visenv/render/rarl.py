"""RARL frames: the N x N image with the 9 anchor regions of the current iteration."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from visenv.render import (
    BLUE,
    ORANGE,
    RED,
    WHITE,
    YELLOW,
    LegendEntry,
    compose_frame,
    draw_boxes,
    letterbox,
    text_box,
)

__all__ = ["LEGEND", "SCALE_COLORS", "rarl_frame"]

PANEL = 384  # one large panel: the regions are small at the paper's N = 512

#: Colour of the anchors of each scale, smallest first (aspect ratios share their scale's).
SCALE_COLORS = (YELLOW, ORANGE, RED)

LEGEND = (
    LegendEntry(BLUE, "every object of the image"),
    LegendEntry(YELLOW, "smallest anchors (3 aspect ratios)"),
    LegendEntry(ORANGE, "middle anchors"),
    LegendEntry(RED, "largest anchors"),
    LegendEntry(WHITE, "dots: the locations chosen so far"),
)


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
    and the locations so far (numbered dots); the caption names the stage and, once the
    episode is over, its top-``n`` labels against the true ones.

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
    panel, fit = letterbox(image, side=PANEL)
    panel = draw_boxes(panel, fit.boxes(objects[0]), BLUE, 1)
    per_scale = max(1, len(regions) // len(SCALE_COLORS))
    for scale, color in enumerate(SCALE_COLORS):
        chunk = regions[scale * per_scale : (scale + 1) * per_scale]
        panel = draw_boxes(panel, fit.boxes(chunk), color, 1)
    for t, xy in enumerate(np.asarray(locations, dtype=np.float64).reshape(-1, 2), start=1):
        x, y = fit.points((xy + 1) / 2 * size)
        cv2.circle(panel, (round(x), round(y)), 3, WHITE, -1, lineType=cv2.LINE_AA)
        text_box(panel, str(t), (round(x) + 4, round(y) - 16))
    stage = f"iteration {iteration} of {num_iterations}"
    if iteration == 0:
        stage = "iteration 0: the whole image"
    top_line = true_line = ""
    if iteration > num_iterations:
        n = int(labels.sum())
        top = np.argsort(-fused_scores, kind="stable")[:n]
        stage = f"done: {int(labels[top].sum())} of {n} labels right"
        top_line = "top-n fused: " + ", ".join(classes[c] for c in top)
        true_line = "true: " + ", ".join(classes[c] for c in np.flatnonzero(labels))
    return compose_frame([panel], [stage, top_line, true_line], LEGEND)
