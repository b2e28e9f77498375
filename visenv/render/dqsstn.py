"""DQ-SSTN frames: the image with its boxes beside the agent's current view."""

from __future__ import annotations

import numpy as np

from visenv.data.scene import Scene
from visenv.render import BLUE, RED, YELLOW, draw_boxes, put_text, side_by_side

__all__ = ["dqsstn_frame"]


def dqsstn_frame(
    scene: Scene,
    view_box: np.ndarray,
    salient_box: np.ndarray,
    view: np.ndarray,
    *,
    step: int,
    iou: float,
) -> np.ndarray:
    """Original image with every object (blue), the salient box (red) and the view window
    (yellow), beside the agent's current observation."""
    frame = draw_boxes(scene.image, scene.boxes, BLUE, 1)
    frame = draw_boxes(frame, salient_box, RED, 2)
    frame = draw_boxes(frame, view_box, YELLOW, 2)
    put_text(frame, f"t={step} IoU={iou:.2f}")
    return side_by_side(frame, view)
