"""BGCut frames: the image with the cut history and the boxes, beside the heat map."""

from __future__ import annotations

import numpy as np

from visenv.render import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    LegendEntry,
    compose_frame,
    draw_boxes,
    heat_map,
    letterbox,
    stretch,
    text_box,
)

__all__ = ["GREEN", "LEGEND", "bgcut_frame"]

LEGEND = (
    LegendEntry(GREEN, "the kept box after each step so far (the cutting process)"),
    LegendEntry(RED, "ground truth: the boxes of the episode's class"),
    LegendEntry(YELLOW, "the refined box; right: the heat map's largest region"),
    LegendEntry(BLUE, "the agent's current box (what is left after the cuts)"),
)


def bgcut_frame(
    image: np.ndarray,
    history: np.ndarray,
    box: np.ndarray,
    refined_box: np.ndarray,
    gt_boxes: np.ndarray,
    *,
    heat: np.ndarray,
    heat_box: np.ndarray,
    title: str = "",
) -> np.ndarray:
    """One ``rgb_array`` frame of a BGCut env, as the paper draws its Fig. 3 and 4.

    Left: the image with the kept box after each step so far (green, thin), the ground truth of
    the episode's class (red), the refined box (yellow) and the current box (blue, thin, drawn
    last so that where the two agree both stay visible). Right: the heat map (sum of the uncut
    map's channels, stretched to [0, 1]) with its largest region (yellow).

    Args:
        image: ``uint8 [H, W, 3]``.
        history (ndarray[T, 4]): Kept boxes after steps ``0..t`` (image pixels).
        box, refined_box (ndarray[4]): The agent's and the refined box.
        gt_boxes (ndarray[G, 4]): Boxes of the episode's class.
        heat (ndarray[h, w]): The heat map.
        heat_box (ndarray[4]): Its largest region's box, image pixels.
        title: The caption.
    """
    panel, fit = letterbox(image)
    panel = draw_boxes(panel, fit.boxes(history), GREEN, 1)
    panel = draw_boxes(panel, fit.boxes(gt_boxes), RED, 2)
    panel = draw_boxes(panel, fit.boxes(refined_box), YELLOW, 2)
    panel = draw_boxes(panel, fit.boxes(box), BLUE, 1)
    heat_panel = draw_boxes(heat_map(stretch(heat), fit=fit), fit.boxes(heat_box), YELLOW, 1)
    text_box(heat_panel, "heat map")
    return compose_frame([panel, heat_panel], [title], LEGEND)
