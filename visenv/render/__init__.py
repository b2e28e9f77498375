"""rgb_array frames of episodes and GIFs of them.

Drawing primitives live here; each env family composes its frame in ``render/<family>.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

__all__ = ["dqsstn_frame", "draw_boxes", "put_text", "save_gif", "side_by_side"]

RED = (230, 40, 40)
YELLOW = (255, 215, 0)
BLUE = (60, 120, 255)
WHITE = (255, 255, 255)


def draw_boxes(
    image: np.ndarray,
    boxes: np.ndarray,
    color: tuple[int, int, int],
    thickness: int = 2,
) -> np.ndarray:
    """Draw ``boxes [K, 4]`` (pixel-edge ``x1, y1, x2, y2``) on a copy of ``image [H, W, 3]``."""
    out = np.ascontiguousarray(image).copy()
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        # pixel-edge box -> the inclusive pixel rectangle OpenCV draws
        p1 = (round(x1), round(y1))
        p2 = (round(x2) - 1, round(y2) - 1)
        cv2.rectangle(out, p1, p2, color, thickness, lineType=cv2.LINE_AA)
    return out


def put_text(image: np.ndarray, text: str, origin: tuple[int, int] = (4, 16)) -> np.ndarray:
    """Write ``text`` with a dark outline (readable on any background), in place."""
    for color, width in (((0, 0, 0), 3), (WHITE, 1)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, width, cv2.LINE_AA)
    return image


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 4) -> np.ndarray:
    """``right`` scaled to ``left``'s height and placed beside it, a black gap between."""
    h = left.shape[0]
    scale = h / right.shape[0]
    right = cv2.resize(
        right, (max(1, round(right.shape[1] * scale)), h), interpolation=cv2.INTER_NEAREST
    )
    spacer = np.zeros((h, gap, 3), dtype=np.uint8)
    return np.concatenate([left, spacer, right], axis=1)


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float = 4.0) -> Path:
    """Write ``frames`` (``uint8 [H, W, 3]``, equal sizes) as a looping GIF; returns the path."""
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )
    return path
