"""HSAL frames: the canvas with digits and glimpses, beside the saliency, mask and priority maps."""

from __future__ import annotations

import numpy as np

from visenv.render import (
    BLUE,
    PANEL_SIDE,
    RED,
    YELLOW,
    LegendEntry,
    compose_frame,
    draw_boxes,
    heat_map,
    letterbox,
    text_box,
)

__all__ = ["LEGEND", "hsal_frame"]

_PHASES = ("mask", "glimpse", "classify")
_INFERNO_MID = (188, 55, 84)  # what the colour map shows at 0.5

LEGEND = (
    LegendEntry(BLUE, "every digit of the canvas"),
    LegendEntry(YELLOW, "cells glimpsed in this meta step"),
    LegendEntry(RED, "the mask's highest cell"),
    LegendEntry(_INFERNO_MID, "maps S, M, P: black 0, red 0.5, yellow-white 1", "colour map"),
)


def _cell_boxes(cells: np.ndarray, grid: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Pixel boxes ``[k, 4]`` of flat grid ``cells`` on an image of ``size = (H, W)``."""
    h, w = grid
    rows, cols = np.divmod(np.asarray(cells, dtype=np.int64), w)
    sy, sx = size[0] / h, size[1] / w
    return np.stack([cols * sx, rows * sy, (cols + 1) * sx, (rows + 1) * sy], axis=1)


def _counts_text(counts: np.ndarray) -> str:
    labels = [str(c) for c, n in enumerate(counts) for _ in range(int(n))]
    return " ".join(labels) or "-"


def hsal_frame(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    *,
    saliency: np.ndarray,
    mask: np.ndarray,
    priority: np.ndarray,
    cells: np.ndarray,
    phase: int,
    meta_step: int,
    remaining: np.ndarray,
    predicted: np.ndarray,
) -> np.ndarray:
    """One ``rgb_array`` frame of an HSAL env: four panels, a caption and the legend.

    1. The canvas with every digit box (blue), the glimpsed cells of the current meta step
       (yellow) and the highest cell of the mask (red). 2. The saliency map ``S_t``. 3. The
       covert mask ``M_t``. 4. The priority map ``P_t``. Caption: meta step, next phase, the
       canvas's digits, the labels said so far and those left.

    Args:
        image: The canvas ``[H, W, 3]`` uint8.
        boxes (ndarray[D, 4]), labels (ndarray[D]): The digits, canvas pixels.
        saliency, mask, priority: ``[h, w]`` maps over the whole canvas.
        cells: ``[k]`` flat glimpse cells of this meta step (-1: not taken).
        phase: The :class:`~visenv.envs.hsal.Phase` of the next decision.
        meta_step: Meta steps done.
        remaining, predicted: ``[C]`` label counts.
    """
    grid = saliency.shape
    canvas, fit = letterbox(image, nearest=True)
    canvas = draw_boxes(canvas, fit.boxes(np.asarray(boxes, float).reshape(-1, 4)), BLUE, 1)
    h, w = image.shape[:2]
    taken = np.asarray(cells)[np.asarray(cells) >= 0]
    canvas = draw_boxes(canvas, fit.boxes(_cell_boxes(taken, grid, (h, w))), YELLOW, 2)
    if mask.max() > 0:
        peak = np.array([int(np.argmax(mask))])
        canvas = draw_boxes(canvas, fit.boxes(_cell_boxes(peak, grid, (h, w))), RED, 1)
    panels = [canvas]
    for values, title in ((saliency, "saliency S"), (mask, "mask M"), (priority, "priority P")):
        panels.append(text_box(heat_map(values, PANEL_SIDE, fit), title))
    caption = [
        f"meta step {meta_step}   next: {_PHASES[int(phase)]}   digits: "
        + " ".join(str(v) for v in labels),
        f"said: {_counts_text(predicted)}   left: {_counts_text(remaining)}",
    ]
    return compose_frame(panels, caption, LEGEND)
