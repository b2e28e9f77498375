"""UnifiedAttn / RAM frames: the quad-tree picks and every glimpse box, beside the patches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from visenv.core.glimpses import all_quadrants
from visenv.render import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    LegendEntry,
    compose_frame,
    draw_boxes,
    letterbox,
    text_box,
)

__all__ = ["LEGEND", "unifiedattn_frame"]

LEGEND = (
    LegendEntry(BLUE, "the quadrants offered at each top-down level"),
    LegendEntry(RED, "the region the top-down picks chose"),
    LegendEntry(YELLOW, "the latest glimpse, every scale; right: its patches"),
    LegendEntry(GREEN, "earlier glimpses (finest patch)"),
)


def _patch_strip(patches: np.ndarray) -> np.ndarray:
    """The ``m`` patches ``[m, g, g, C]`` of one glimpse stacked, finest on top, 1 px apart."""
    rows = []
    for patch in patches:
        rows += [np.asarray(patch), np.zeros((1, *np.shape(patch)[1:]), np.uint8)]
    return np.concatenate(rows[:-1], axis=0)


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
    """One ``rgb_array`` frame: the image with the picks and glimpses, the current patches.

    Args:
        image: The episode's image ``[H, W]`` or ``[H, W, C]``.
        regions: ``[k + 1, 4]`` the whole image, then the region after each of ``k`` picks;
            every region but the last is drawn split into its quadrants (blue), the picked
            region in red.
        glimpses: ``[n, m, 4]`` every glimpse so far at every scale (pixels); the latest in
            yellow, earlier ones' finest patch in green.
        patches: ``[m, g, g, C]`` the current glimpse, shown beside the image, finest on top.
        phase, target, prediction, classes: Written in the caption.
    """
    panel, fit = letterbox(image, nearest=True)
    regions = np.asarray(regions, dtype=np.float64)
    for region in regions[:-1]:
        panel = draw_boxes(panel, fit.boxes(all_quadrants(region)), BLUE, 1)
    if len(regions) > 1:
        panel = draw_boxes(panel, fit.boxes(regions[-1]), RED, 2)
    glimpses = np.asarray(glimpses, dtype=np.float64).reshape(-1, *np.shape(glimpses)[-2:])
    if len(glimpses):
        panel = draw_boxes(panel, fit.boxes(glimpses[:-1, 0]), GREEN, 1)
        panel = draw_boxes(panel, fit.boxes(glimpses[-1]), YELLOW, 1)
    strip, _ = letterbox(_patch_strip(patches), nearest=True)
    text_box(strip, "patches, finest on top")
    name = getattr(phase, "name", str(phase)).lower()
    said = " ".join(classes[k] for k in prediction) or "-"
    truth = " ".join(classes[k] for k in target if k >= 0)
    return compose_frame([panel, strip], [f"phase: {name}   label: {truth}   said: {said}"], LEGEND)
