"""rgb_array frames of episodes and GIFs of them.

Drawing primitives live here; each env family composes its frame in ``render/<family>.py``.

Every frame is laid out the same way, so that every frame of one env id has one size whatever
the scene (Gymnasium's ``RecordVideo`` and ``AddRenderObservation`` and multi-episode GIFs need
that): a row of square panels of a fixed side (images are letterboxed into them, aspect kept),
then a caption bar of a fixed number of lines, then a legend that says what every colour
means. Text is drawn once, white on a dark bar or box, so glyphs never double-print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

__all__ = [
    "BLUE",
    "GREEN",
    "ORANGE",
    "PANEL_SIDE",
    "RED",
    "WHITE",
    "YELLOW",
    "LegendEntry",
    "Letterbox",
    "caption_bar",
    "compose_frame",
    "draw_boxes",
    "fit_text_scale",
    "heat_map",
    "legend",
    "legend_bar",
    "letterbox",
    "save_gif",
    "stretch",
    "text_box",
]

RED = (230, 40, 40)
YELLOW = (255, 215, 0)
BLUE = (60, 120, 255)
GREEN = (40, 200, 60)
ORANGE = (255, 140, 0)
WHITE = (255, 255, 255)

PANEL_SIDE = 256  # side of every square panel, px
GAP = 4  # black gap between panels, px
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_LINE = 18  # height of one text line in a bar, px
_MARGIN = 4  # text inset from the edges of its bar, px
_SCALE, _MIN_SCALE = 0.45, 0.3  # font scale of captions, and the smallest a long one shrinks to


@dataclass(frozen=True)
class Letterbox:
    """How an image was placed in a panel: panel pixel = ``scale * image pixel + offset``."""

    scale: float
    offset: tuple[float, float]
    size: tuple[int, int]  # the image's (height, width)

    @property
    def area(self) -> tuple[float, float, float, float]:
        """The image's box in the panel, ``(x1, y1, x2, y2)``."""
        h, w = self.size
        return tuple(self.boxes(np.array([0.0, 0.0, w, h])).tolist())

    def boxes(self, boxes: np.ndarray) -> np.ndarray:
        """``boxes [..., 4]`` (image pixel edges) in panel pixels."""
        b = np.asarray(boxes, dtype=np.float64) * self.scale
        return b + np.array([*self.offset, *self.offset])

    def points(self, points: np.ndarray) -> np.ndarray:
        """``points [..., 2]`` (image pixels, x then y) in panel pixels."""
        return np.asarray(points, dtype=np.float64) * self.scale + np.array(self.offset)


def _rgb(image: np.ndarray) -> np.ndarray:
    """An ``[H, W]``, ``[H, W, 1]`` or ``[H, W, 3]`` uint8 image as ``[H, W, 3]``."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def letterbox(
    image: np.ndarray, side: int = PANEL_SIDE, nearest: bool = False
) -> tuple[np.ndarray, Letterbox]:
    """``image`` scaled to fit a ``side x side`` black panel, centred, aspect kept.

    Args:
        image: ``uint8 [H, W]``, ``[H, W, 1]`` or ``[H, W, 3]``.
        side: The panel's side.
        nearest: Nearest-neighbour scaling (small images, maps: keep the pixels visible);
            else area (shrinking) or linear (enlarging) interpolation.

    Returns:
        The panel ``uint8 [side, side, 3]`` and the :class:`Letterbox` that maps image pixels
        into it.
    """
    image = _rgb(image)
    h, w = image.shape[:2]
    scale = side / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if nearest:
        interpolation = cv2.INTER_NEAREST
    else:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(image), (nw, nh), interpolation=interpolation)
    panel = np.zeros((side, side, 3), dtype=np.uint8)
    oy, ox = (side - nh) // 2, (side - nw) // 2
    panel[oy : oy + nh, ox : ox + nw] = resized
    return panel, Letterbox(nw / w, (float(ox), float(oy)), (h, w))


def heat_map(
    values: np.ndarray, side: int = PANEL_SIDE, fit: Letterbox | None = None
) -> np.ndarray:
    """A ``[h, w]`` map with values in ``[0, 1]`` as a ``side x side`` RGB panel: each cell a
    flat rectangle, colour map ``inferno`` (black low, yellow-white high); NaN shows as 0.

    Args:
        values: The map.
        side: The panel's side.
        fit: If given, the map covers the image area that this letterbox placed in the panel
            (a map over a whole non-square image); else it fills the panel.
    """
    levels = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0, 1)
    grey = np.round(levels * 255).astype(np.uint8)
    colour = cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)[:, :, ::-1]
    panel = np.zeros((side, side, 3), dtype=np.uint8)
    x1, y1, x2, y2 = 0, 0, side, side
    if fit is not None:
        x1, y1, x2, y2 = (round(v) for v in fit.area)
    panel[y1:y2, x1:x2] = cv2.resize(colour, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    return panel


def stretch(values: np.ndarray) -> np.ndarray:
    """``values`` min-max stretched to ``[0, 1]`` (a constant map becomes zeros)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


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


def fit_text_scale(text: str, width: int, scale: float = _SCALE) -> float:
    """The largest font scale ``<= scale`` at which ``text`` is at most ``width`` px wide
    (never below the smallest readable scale; :func:`caption_bar` shortens what still does
    not fit)."""
    (w, _), _ = cv2.getTextSize(text, _FONT, scale, 1)
    return max(_MIN_SCALE, scale * min(1.0, width / max(w, 1)))


def _fitted(text: str, width: int) -> tuple[str, float]:
    """``text`` and a scale at which it fits ``width``, shortened with "..." if it must be."""
    scale = fit_text_scale(text, width)
    while text and cv2.getTextSize(text, _FONT, scale, 1)[0][0] > width:
        text = text[: max(0, len(text) - 4)] + "..."
        if text == "...":
            break
    return text, scale


def text_box(image: np.ndarray, text: str, origin: tuple[int, int] = (4, 4)) -> np.ndarray:
    """Write a short ``text`` white on a dark box whose top-left corner is ``origin``, in
    place (panel titles, numbers next to dots); kept inside the image."""
    if not text:
        return image
    text, scale = _fitted(text, image.shape[1] - 2 * _MARGIN)
    (w, h), base = cv2.getTextSize(text, _FONT, scale, 1)
    x = int(np.clip(origin[0], 0, max(0, image.shape[1] - w - 4)))
    y = int(np.clip(origin[1], 0, max(0, image.shape[0] - h - base - 4)))
    cv2.rectangle(image, (x, y), (x + w + 3, y + h + base + 3), (0, 0, 0), -1)
    cv2.putText(image, text, (x + 2, y + h + 2), _FONT, scale, WHITE, 1, cv2.LINE_AA)
    return image


def caption_bar(width: int, lines: Sequence[str]) -> np.ndarray:
    """A black bar ``[len(lines) * 18, width, 3]`` with one line of white text per entry;
    each line shrinks (to font scale 0.3) and then shortens to fit the bar."""
    bar = np.zeros((len(lines) * _LINE, width, 3), dtype=np.uint8)
    for k, line in enumerate(lines):
        text, scale = _fitted(line, width - 2 * _MARGIN)
        baseline = (k + 1) * _LINE - 5
        cv2.putText(bar, text, (_MARGIN, baseline), _FONT, scale, WHITE, 1, cv2.LINE_AA)
    return bar


@dataclass(frozen=True)
class LegendEntry:
    """One colour of a frame and what it means."""

    color: tuple[int, int, int]
    meaning: str
    color_name: str = ""  # for colours not in the palette above

    @property
    def name(self) -> str:
        """The colour's name, for text legends (``visenv render`` prints them)."""
        names = {
            RED: "red", YELLOW: "yellow", BLUE: "blue", GREEN: "green", ORANGE: "orange",
            WHITE: "white",
        }  # fmt: skip
        return self.color_name or names.get(self.color, str(self.color))


def legend_bar(width: int, entries: Sequence[LegendEntry]) -> np.ndarray:
    """A black bar with a colour swatch and its meaning per entry, one entry per line (the
    same entries always give the same height)."""
    bar = np.zeros((len(entries) * _LINE, width, 3), dtype=np.uint8)
    for k, entry in enumerate(entries):
        top = k * _LINE + 4
        cv2.rectangle(bar, (_MARGIN, top), (_MARGIN + 18, top + 9), entry.color, -1)
        text, scale = _fitted(entry.meaning, width - 30 - _MARGIN)
        cv2.putText(bar, text, (30, top + 10), _FONT, scale, WHITE, 1, cv2.LINE_AA)
    return bar


def compose_frame(
    panels: Sequence[np.ndarray], caption: Sequence[str], legend: Sequence[LegendEntry]
) -> np.ndarray:
    """Panels side by side (black gaps between), then the caption, then the legend.

    The size depends only on the number and size of the panels and on the number of caption
    lines and legend entries, never on the scene.
    """
    side = panels[0].shape[0]
    if any(p.shape != (side, side, 3) for p in panels):
        raise ValueError(f"panels must all be [{side}, {side}, 3], got {[p.shape for p in panels]}")
    spacer = np.zeros((side, GAP, 3), dtype=np.uint8)
    row = np.concatenate([p for panel in panels for p in (panel, spacer)][:-1], axis=1)
    width = row.shape[1]
    rule = np.full((1, width, 3), 64, dtype=np.uint8)
    return np.concatenate([row, caption_bar(width, caption), rule, legend_bar(width, legend)])


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float = 4.0) -> Path:
    """Write ``frames`` (``uint8 [H, W, 3]``, equal sizes) as a looping GIF; returns the path.

    Raises:
        ValueError: No frames, or frames of different sizes (a GIF viewer would crop the
            larger ones to the first frame's size).
    """
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    sizes = sorted({tuple(np.shape(f)) for f in frames})
    if len(sizes) > 1:
        raise ValueError(f"save_gif needs frames of one size, got sizes {sizes}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in frames]
    images[0].save(
        path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0
    )
    return path


def legend(env: object) -> tuple[LegendEntry, ...]:
    """What each colour of ``env``'s frames means (the ``LEGEND`` of its family's render module:
    ``visenv.envs.<family>`` draws with ``visenv.render.<family>``)."""
    import importlib

    family = type(getattr(env, "unwrapped", env)).__module__.rsplit(".", 1)[-1]
    try:
        return importlib.import_module(f"visenv.render.{family}").LEGEND
    except ModuleNotFoundError:
        raise ValueError(f"no frames are drawn for {type(env).__name__}") from None
