"""HSAL frames: the canvas with digits and glimpses, beside the saliency, mask and priority maps."""

from __future__ import annotations

import cv2
import numpy as np

from visenv.render import BLUE, RED, YELLOW, draw_boxes, put_text

__all__ = ["heat_map", "hsal_frame"]

PANEL = 210  # side of each panel in the frame, px
_PHASES = ("mask", "glimpse", "classify")


def heat_map(values: np.ndarray, side: int = PANEL, title: str = "") -> np.ndarray:
    """A ``[h, w]`` map with values in ``[0, 1]`` as a ``side x side`` RGB panel (each cell a
    flat square; colour map ``inferno``) with ``title`` written on it."""
    levels = np.clip(np.nan_to_num(values), 0, 1)
    grey = np.round(levels * 255).astype(np.uint8)
    colour = cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)[:, :, ::-1]
    panel = cv2.resize(colour, (side, side), interpolation=cv2.INTER_NEAREST)
    return put_text(np.ascontiguousarray(panel), title) if title else panel


def _cell_boxes(cells: np.ndarray, grid: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Pixel boxes ``[k, 4]`` of flat grid ``cells`` on an image of ``size = (H, W)``."""
    h, w = grid
    rows, cols = np.divmod(cells, w)
    sy, sx = size[0] / h, size[1] / w
    return np.stack([cols * sx, rows * sy, (cols + 1) * sx, (rows + 1) * sy], axis=1)


def _counts_text(counts: np.ndarray) -> str:
    labels = [str(c) for c, n in enumerate(counts) for _ in range(int(n))]
    return "".join(labels) or "-"


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
    """One ``rgb_array`` frame of an HSAL env, four panels in a row.

    1. The canvas with every digit box (blue), the glimpsed cells of the current meta step
       (yellow) and the highest cell of the mask (red); text: meta step and phase.
    2. The saliency map ``S_t``. 3. The covert mask ``M_t``. 4. The priority map ``P_t``
       (text: labels predicted so far and labels remaining).

    Args:
        image: The canvas ``[H, W, 3]`` uint8.
        boxes (ndarray[D, 4]), labels (ndarray[D]): The digits, canvas pixels.
        saliency, mask, priority: ``[h, w]`` maps.
        cells: ``[k]`` flat glimpse cells of this meta step (-1: not taken).
        phase: The :class:`~visenv.envs.hsal.Phase` of the next decision.
        meta_step: Meta steps done.
        remaining, predicted: ``[C]`` label counts.
    """
    grid = saliency.shape
    canvas = cv2.resize(image, (PANEL, PANEL), interpolation=cv2.INTER_NEAREST)
    scale = np.array([PANEL / image.shape[1], PANEL / image.shape[0]] * 2)
    canvas = draw_boxes(canvas, np.asarray(boxes, float).reshape(-1, 4) * scale, BLUE, 1)
    taken = np.asarray(cells)[np.asarray(cells) >= 0]
    canvas = draw_boxes(canvas, _cell_boxes(taken, grid, (PANEL, PANEL)), YELLOW, 2)
    if mask.max() > 0:
        peak = np.array([int(np.argmax(mask))])
        canvas = draw_boxes(canvas, _cell_boxes(peak, grid, (PANEL, PANEL)), RED, 1)
    put_text(canvas, f"t={meta_step} next: {_PHASES[int(phase)]}")
    put_text(canvas, "".join(str(v) for v in labels), (4, PANEL - 8))
    panels = [
        canvas,
        heat_map(saliency, title="saliency S"),
        heat_map(mask, title="mask M"),
        heat_map(priority, title="priority P"),
    ]
    put_text(panels[3], f"said {_counts_text(predicted)}", (4, PANEL - 26))
    put_text(panels[3], f"left {_counts_text(remaining)}", (4, PANEL - 8))
    spacer = np.zeros((PANEL, 4, 3), np.uint8)
    row = [p for panel in panels for p in (panel, spacer)][:-1]
    return np.concatenate(row, axis=1)
