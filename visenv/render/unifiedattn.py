"""UnifiedAttn / RAM frames: the quad-tree picks and every glimpse box, beside the patches."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from visenv.core.glimpses import all_quadrants
from visenv.render import BLUE, RED, YELLOW, draw_boxes, put_text, side_by_side

__all__ = ["unifiedattn_frame"]

GREEN = (60, 200, 90)
MIN_SIDE = 256  # frames are scaled up (nearest) until the image is at least this tall


def _rgb(image: np.ndarray) -> np.ndarray:
    image = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def unifiedattn_frame(
    image: np.ndarray,
    *,
    regions: np.ndarray,
    glimpses: np.ndarray,
    patches: np.ndarray,
    phase: object,
    target: np.ndarray,
    prediction: np.ndarray,
    classes: Sequence[str],
) -> np.ndarray:
    """One ``rgb_array`` frame.

    Args:
        image: The episode's image ``[H, W]`` or ``[H, W, C]``.
        regions: ``[k + 1, 4]`` the whole image, then the region after each of ``k`` picks;
            every region but the last is drawn split into its quadrants (blue), the picked
            region in red.
        glimpses: ``[n, m, 4]`` every glimpse so far at every scale (pixels); the latest in
            yellow, earlier ones' finest patch in green.
        patches: ``[m, g, g, C]`` the current glimpse, shown beside the image, finest on top.
        phase, target, prediction, classes: Written on the frame.
    """
    scale = max(1, -(-MIN_SIDE // image.shape[0]))
    frame = _rgb(image)
    frame = cv2.resize(
        frame, (frame.shape[1] * scale, frame.shape[0] * scale), interpolation=cv2.INTER_NEAREST
    )
    regions = np.asarray(regions, dtype=np.float64) * scale
    for region in regions[:-1]:
        frame = draw_boxes(frame, all_quadrants(region), BLUE, 1)
    if len(regions) > 1:
        frame = draw_boxes(frame, regions[-1], RED, 2)
    glimpses = np.asarray(glimpses, dtype=np.float64).reshape(-1, *np.shape(glimpses)[-2:]) * scale
    if len(glimpses):
        frame = draw_boxes(frame, glimpses[:-1, 0], GREEN, 1)
        frame = draw_boxes(frame, glimpses[-1], YELLOW, 1)
    name = getattr(phase, "name", str(phase)).lower()
    said = " ".join(classes[k] for k in prediction) or "-"
    truth = " ".join(classes[k] for k in target if k >= 0)
    put_text(frame, f"{name}  label {truth}  said {said}")
    strip = np.concatenate([_rgb(p) for p in patches], axis=0)  # finest scale on top
    return side_by_side(frame, strip)
