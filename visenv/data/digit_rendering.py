"""Drawing MNIST-like digits with OpenCV's Hershey fonts: the engine of ``rendered_digits``.

MNIST digits are size-normalised to fit a 20 x 20 box (aspect ratio kept), anti-aliased, and
placed in a 28 x 28 field with their centre of mass at the centre (LeCun et al. 1998). This
module imitates that pipeline with printed glyphs made to look handwritten:

1. A *glyph bank* is drawn once per process: every digit in 10 Hershey font variants
   (including the script fonts and OpenCV's italic variants) at 4 stroke thicknesses, large
   (40 px high) and blurred, which pre-filters the later down-scaling so thin strokes do not
   alias.
2. Each digit draws a glyph and an affine map: rotation, shear, aspect change, and a scale
   that fits the result into a box of 17.5-21 px. The translation puts the glyph's centre of
   mass at the field's centre; the centre of mass of an affinely mapped image is the mapped
   centre of mass, so it is computed once per glyph in the bank, not per digit.
3. A smooth random displacement field (elastic jitter, Simard et al. 2003) is added and the
   whole map is applied in **one** ``cv2.remap`` from the bank glyph, so every pixel is
   resampled once. The maps of a whole batch are computed together in numpy.
4. Each digit's levels are stretched so stroke cores reach 255 and the blur's faint tails
   drop to 0, as in MNIST; white on black.

They are a domain of their own, not a stand-in for MNIST: a linear classifier trained on them
scores about 98% on other rendered digits but only about 40% on real MNIST digits.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["DIGIT_SIDE", "render_digits"]

DIGIT_SIDE = 28  # MNIST's field
_FONTS: tuple[int, ...] = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_PLAIN | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_TRIPLEX | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)
_THICKNESSES: tuple[int, ...] = (3, 4, 6, 8)  # bank pixels; about 1.3-3.5 px in the field
_BANK_SIDE = 80
_BANK_GLYPH_HEIGHT = 40
_BANK_BLUR_SIGMA = 1.2  # about half the bank-to-field scale factor: the anti-aliasing filter

_MAX_ROTATION = math.radians(15)
_MAX_SHEAR = 0.35  # x += shear * y
_ASPECT_RANGE = (0.8, 1.15)  # width factor, log-uniform
_SIZE_RANGE = (17.5, 21.0)  # longest side of the mapped glyph's box, px (MNIST: 20)
_LEVELS = (0.1, 0.75)  # black and white points as fractions of a digit's peak
_MAX_ELASTIC = 2.0  # largest displacement of the elastic jitter, px
_NUM_FIELDS = 64
_FIELD_SIGMA = 4.0


@dataclass(frozen=True)
class _GlyphBank:
    """Glyph ``g = style * 10 + digit`` with ``style = font * len(_THICKNESSES) + thickness``.

    Attributes:
        glyphs (ndarray[G, S, S] float32): Blurred glyphs in [0, 1].
        centres (ndarray[G, 2] float32): Centre of mass ``(x, y)`` in pixel-index coordinates.
        corners (ndarray[G, 4, 2] float32): Corners of the tight box, relative to the centre.
    """

    glyphs: np.ndarray
    centres: np.ndarray
    corners: np.ndarray

    @property
    def num_styles(self) -> int:
        return len(self.glyphs) // 10


def _draw_glyph(digit: int, font: int, thickness: int) -> np.ndarray:
    """One blurred glyph, ``[S, S]`` float32 in [0, 1], roughly centred."""
    (_, zero_height), _ = cv2.getTextSize("0", font, 1.0, 1)
    scale = _BANK_GLYPH_HEIGHT / zero_height
    (width, height), _ = cv2.getTextSize(str(digit), font, scale, thickness)
    canvas = np.zeros((_BANK_SIDE, _BANK_SIDE), np.uint8)
    origin = ((_BANK_SIDE - width) // 2, (_BANK_SIDE + height) // 2)
    cv2.putText(canvas, str(digit), origin, font, scale, 255, thickness, cv2.LINE_AA)
    glyph = cv2.GaussianBlur(canvas.astype(np.float32) / 255, (0, 0), _BANK_BLUR_SIGMA)
    return glyph


@functools.lru_cache(maxsize=1)
def _glyph_bank() -> _GlyphBank:
    glyphs = np.stack(
        [
            _draw_glyph(digit, font, thickness)
            for font in _FONTS
            for thickness in _THICKNESSES
            for digit in range(10)
        ]
    )
    ys, xs = np.mgrid[:_BANK_SIDE, :_BANK_SIDE].astype(np.float32)
    mass = glyphs.sum(axis=(1, 2))
    centres = np.stack([(glyphs * xs).sum((1, 2)), (glyphs * ys).sum((1, 2))], 1) / mass[:, None]
    corners = np.empty((len(glyphs), 4, 2), np.float32)
    for g, glyph in enumerate(glyphs):
        rows = np.flatnonzero((glyph > 0.05).any(axis=1))
        cols = np.flatnonzero((glyph > 0.05).any(axis=0))
        box_x, box_y = (cols[0], cols[-1]), (rows[0], rows[-1])
        corners[g] = [(x, y) for x in box_x for y in box_y]
    corners -= centres[:, None, :]
    for array in (glyphs, centres, corners):
        array.flags.writeable = False
    return _GlyphBank(glyphs, centres.astype(np.float32), corners)


@functools.lru_cache(maxsize=1)
def _elastic_fields() -> np.ndarray:
    """Smooth displacement fields, ``[K, 28 * 28, 2]`` float32 with largest length 1.

    A fixed set of fields, scaled per digit, is as varied as fresh ones for 28 x 28 digits
    and saves two blurs per digit.
    """
    rng = np.random.default_rng(0xD161)
    noise = rng.uniform(-1, 1, (_NUM_FIELDS, DIGIT_SIDE, DIGIT_SIDE, 2)).astype(np.float32)
    fields = np.stack([cv2.GaussianBlur(n, (0, 0), _FIELD_SIGMA) for n in noise])
    fields /= np.linalg.norm(fields, axis=-1).max(axis=(1, 2))[:, None, None, None]
    fields = fields.reshape(_NUM_FIELDS, -1, 2)
    fields.flags.writeable = False
    return fields


def _linear_maps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random rotation @ shear @ aspect change, ``[N, 2, 2]`` float32 acting on ``(x, y)``."""
    angle = rng.uniform(-_MAX_ROTATION, _MAX_ROTATION, n)
    shear = rng.uniform(-_MAX_SHEAR, _MAX_SHEAR, n)
    aspect = np.exp(rng.uniform(*np.log(_ASPECT_RANGE), n))
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shear_aspect = np.zeros((n, 2, 2))
    shear_aspect[:, 0, 0], shear_aspect[:, 0, 1], shear_aspect[:, 1, 1] = aspect, shear, 1.0
    return (rotation @ shear_aspect).astype(np.float32)


def _sampling_maps(rng: np.random.Generator, bank: _GlyphBank, glyph: np.ndarray) -> np.ndarray:
    """Where each field pixel samples its glyph, ``[N, 28, 28, 2]`` float32 (``cv2.remap``)."""
    n = len(glyph)
    linear = _linear_maps(rng, n)
    size = rng.uniform(*_SIZE_RANGE, n).astype(np.float32)
    field = rng.integers(_NUM_FIELDS, size=n)
    amplitude = rng.uniform(0, _MAX_ELASTIC, n).astype(np.float32)
    # Fit the mapped glyph box into size x size, keeping the aspect ratio (as MNIST does).
    mapped_corners = bank.corners[glyph] @ linear.transpose(0, 2, 1)
    span = (mapped_corners.max(axis=1) - mapped_corners.min(axis=1)).max(axis=1)
    forward = linear * (size / span)[:, None, None]
    # Output pixel p shows the glyph at forward^-1 (p + elastic(p) - shift), where the shift
    # puts the glyph's centre of mass on the field's centre.
    centre = (DIGIT_SIDE - 1) / 2
    shift = centre - np.einsum("nij,nj->ni", forward, bank.centres[glyph])
    ys, xs = np.mgrid[:DIGIT_SIDE, :DIGIT_SIDE].astype(np.float32)
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    target = grid + amplitude[:, None, None] * _elastic_fields()[field] - shift[:, None, :]
    source = np.einsum("nij,npj->npi", np.linalg.inv(forward), target)
    return np.ascontiguousarray(source, dtype=np.float32).reshape(n, DIGIT_SIDE, DIGIT_SIDE, 2)


def render_digits(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Draw one digit per label.

    Args:
        rng: The source of every random choice; the same state gives the same digits.
        labels (ndarray[N] int): Digits 0-9 to draw.

    Returns:
        ndarray[N, 28, 28] uint8: White digits on black, brightest pixel 255.
    """
    bank = _glyph_bank()
    glyph = rng.integers(bank.num_styles, size=len(labels)) * 10 + labels
    maps = _sampling_maps(rng, bank, glyph)
    out = np.empty((len(labels), DIGIT_SIDE, DIGIT_SIDE), np.float32)
    for i, g in enumerate(glyph):
        cv2.remap(bank.glyphs[g], maps[i], None, cv2.INTER_LINEAR, dst=out[i])
    # Stretch each digit's levels between a black and a white point relative to its peak:
    # this cuts the blur's faint tails and saturates stroke cores as in MNIST, whose strokes
    # are mostly at full intensity.
    peak = out.reshape(len(out), -1).max(axis=1)[:, None, None]
    black, white = _LEVELS[0] * peak, _LEVELS[1] * peak
    out = np.clip((out - black) / (white - black), 0, 1) * 255
    return np.rint(out).astype(np.uint8)
