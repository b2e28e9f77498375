"""BGCut frames: the image with the cut history and the boxes, beside the heat map."""

from __future__ import annotations

import cv2
import numpy as np

from visenv.render import BLUE, RED, YELLOW, draw_boxes, put_text, side_by_side
from visenv.render.hsal import heat_map

__all__ = ["GREEN", "bgcut_frame"]

GREEN = (40, 200, 60)


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

    Left: the image with the kept box after each step so far (green, thin: the cutting
    process), the ground truth of the episode's class (red), the refined box (yellow) and the
    current box (blue, thin, drawn last). Right: the heat map (sum of the uncut map's
    channels, stretched to [0, 1]) with its largest region (yellow).

    Args:
        image: ``uint8 [H, W, 3]``.
        history (ndarray[T, 4]): Kept boxes after steps ``0..t`` (image pixels).
        box, refined_box (ndarray[4]): The agent's and the refined box.
        gt_boxes (ndarray[G, 4]): Boxes of the episode's class.
        heat (ndarray[h, w]): The heat map.
        heat_box (ndarray[4]): Its largest region's box, image pixels.
        title: Text written on the image.
    """
    frame = draw_boxes(image, history, GREEN, 1)
    frame = draw_boxes(frame, gt_boxes, RED, 2)
    frame = draw_boxes(frame, refined_box, YELLOW, 2)
    frame = draw_boxes(frame, box, BLUE, 1)  # on top: where the two agree, both stay visible
    put_text(frame, title)
    low, high = float(heat.min()), float(heat.max())
    side = frame.shape[0]
    panel = heat_map((heat - low) / (high - low) if high > low else heat * 0, side=side)
    scale = np.array([side / image.shape[1], side / image.shape[0]] * 2)
    panel = draw_boxes(panel, np.asarray(heat_box, float) * scale, YELLOW, 1)
    put_text(panel, "heat map")
    return side_by_side(frame, cv2.resize(panel, (side, side)))
