"""DQ-SSTN frames: the image with its boxes beside the agent's current view."""

from __future__ import annotations

import numpy as np

from visenv.data.scene import Scene
from visenv.render import (
    BLUE,
    RED,
    YELLOW,
    LegendEntry,
    compose_frame,
    draw_boxes,
    letterbox,
    text_box,
)

__all__ = ["LEGEND", "dqsstn_frame"]

LEGEND = (
    LegendEntry(BLUE, "every object of the scene"),
    LegendEntry(RED, "the salient (largest) object: the target"),
    LegendEntry(YELLOW, "the view window; right panel: what the agent sees"),
)


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
    (yellow), beside the agent's current observation; a caption and the legend below."""
    panel, fit = letterbox(scene.image)
    panel = draw_boxes(panel, fit.boxes(scene.boxes), BLUE, 1)
    panel = draw_boxes(panel, fit.boxes(salient_box), RED, 2)
    panel = draw_boxes(panel, fit.boxes(view_box), YELLOW, 2)
    observed, _ = letterbox(view)
    text_box(observed, "the agent's view")
    caption = [f"step {step}   salient IoU {iou:.2f}"]
    return compose_frame([panel, observed], caption, LEGEND)
