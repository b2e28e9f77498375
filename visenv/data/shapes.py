"""Procedural multi-object scenes: visenv's embedded default dataset (no download).

Each scene is a textured background (low-frequency colour noise, an oriented grating, stripes,
checkerboard or plaid, fine pixel noise and a few un-annotated clutter strokes) with 1-6 filled
shapes of 12 classes drawn over it. Object sizes are log-uniform between 8% and 60% of the
short image side, so the largest ("salient") object often covers less than 20% of the image,
as in the hard cases of DQ-SSTN's evaluation. Shapes may overlap (later ones occlude earlier
ones) but every object keeps at least 40% of its own area visible.

Scenes are generated on demand and never stored. Scene ``index`` of split ``split`` is a pure
function of ``(seed, split, index)``: the seed sequence of ``np.random.default_rng([seed,
split_code, index])`` spawns two generators, one for the layout (size, classes, places, hence
the boxes) and one for the painting (colours, textures), so :meth:`ShapesScenes.annotation`
computes the boxes without painting the image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from visenv.data.registry import register_reader
from visenv.data.scene import Scene, SceneDataset

__all__ = ["SHAPE_CLASSES", "ShapesScenes"]

SHAPE_CLASSES: tuple[str, ...] = (
    "circle",
    "triangle",
    "square",
    "pentagon",
    "hexagon",
    "star",
    "cross",
    "ring",
    "diamond",
    "crescent",
    "heart",
    "arrow",
)
SPLIT_CODES: dict[str, int] = {"train": 0, "val": 1, "test": 2}
DEFAULT_NUM_SCENES: dict[str, int] = {"train": 20_000, "val": 2_000, "test": 2_000}

IMAGE_SIDE_RANGE = (192, 320)  # inclusive range of H and W when image_size is None
OBJECT_SCALE_RANGE = (0.08, 0.60)  # object diameter as a fraction of min(H, W), log-uniform
MIN_VISIBLE_FRACTION = 0.4  # every object keeps this much of its own area visible
_MAX_PLACEMENT_TRIES = 60
_SHRINK_EVERY = 10  # after this many failed placements, try a 20% smaller object
_SUBPIXEL_BITS = 4  # cv2.fillPoly fixed-point precision (1/16 px)

Polygon = np.ndarray  # [N, 2] float64 (x, y) in units of the object's radius


def _regular(n: int, radius: float = 1.0, phase: float = -math.pi / 2) -> Polygon:
    angles = phase + 2 * math.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _heart() -> Polygon:
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    points = np.stack([x, y], axis=1)
    points -= (points.max(0) + points.min(0)) / 2
    return points / np.abs(points).max()


def _unit_shapes() -> tuple[tuple[tuple[Polygon, int], ...], ...]:
    """Each class as ``(polygon, fill value)`` parts drawn in order (value 0 cuts a hole).

    Polygons fit the unit disc. The diamond is an elongated rhombus (not a square turned by
    45 degrees) and the crescent an off-centre cut, so random rotation cannot make two classes
    look alike.
    """
    circle = _regular(48)
    star = _regular(10) * np.where(np.arange(10) % 2 == 0, 1.0, 0.42)[:, None]
    a = 0.3  # half-width of the cross's arms
    # The cross is one arm's three corners turned by 0, 90, 180 and 270 degrees.
    arm = np.array([(-a, -1.0), (a, -1.0), (a, -a)])
    quarter_turn = np.array([[0.0, -1.0], [1.0, 0.0]])
    cross = np.concatenate([arm @ np.linalg.matrix_power(quarter_turn, k).T for k in range(4)])
    cross /= math.hypot(1, a)
    diamond = np.array([(0, -1), (0.55, 0), (0, 1), (-0.55, 0)])
    arrow = np.array(
        [(-1, -0.25), (0.2, -0.25), (0.2, -0.6), (1, 0), (0.2, 0.6), (0.2, 0.25), (-1, 0.25)]
    )
    shapes = {
        "circle": ((circle, 1),),
        "triangle": ((_regular(3), 1),),
        "square": ((_regular(4, phase=math.pi / 4), 1),),
        "pentagon": ((_regular(5), 1),),
        "hexagon": ((_regular(6), 1),),
        "star": ((star, 1),),
        "cross": ((cross, 1),),
        "ring": ((circle, 1), (0.55 * circle, 0)),
        "diamond": ((diamond, 1),),
        "crescent": ((circle, 1), (0.8 * circle + (0.45, 0.0), 0)),
        "heart": ((_heart(), 1),),
        "arrow": ((arrow, 1),),
    }
    return tuple(shapes[name] for name in SHAPE_CLASSES)


_SHAPES = _unit_shapes()


@dataclass
class _PlacedObject:
    """One object of a layout: where its (unclipped) mask lies and how much of it shows.

    Attributes:
        label: Index into :data:`SHAPE_CLASSES`.
        rows, cols: The image slices covered by ``mask`` (the in-image part of the shape).
        mask (ndarray[h, w] bool): The shape's pixels inside ``rows, cols``.
        area: Pixel count of the whole drawn shape, including any part outside the image.
        visible: Pixels still showing (inside the image and not covered by later objects).
    """

    label: int
    rows: slice
    cols: slice
    mask: np.ndarray
    area: int
    visible: int

    def box(self) -> list[float]:
        """Tight ``(x1, y1, x2, y2)`` pixel-edge box of the drawn shape, clipped to the image."""
        ys = np.flatnonzero(self.mask.any(axis=1))
        xs = np.flatnonzero(self.mask.any(axis=0))
        x0, y0 = self.cols.start, self.rows.start
        return [x0 + xs[0], y0 + ys[0], x0 + xs[-1] + 1.0, y0 + ys[-1] + 1.0]


def _rasterise(
    parts: tuple[tuple[Polygon, int], ...], centre: np.ndarray, radius: float, angle: float
) -> tuple[np.ndarray, int, int]:
    """Draw a shape into its own patch.

    Returns:
        ``(mask, x0, y0)``: ndarray[h, w] uint8 (1 inside the shape) whose top-left pixel is
        image pixel ``(y0, x0)``; the patch may extend past the image.
    """
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, -s], [s, c]]) * radius
    # cv2 puts pixel (i, j)'s centre at (j, i); in pixel-edge coordinates it is at +0.5.
    points = [poly @ rotation.T + centre - 0.5 for poly, _ in parts]
    lo = np.floor(np.min([p.min(0) for p in points], axis=0)).astype(int)
    hi = np.ceil(np.max([p.max(0) for p in points], axis=0)).astype(int) + 1
    mask = np.zeros((hi[1] - lo[1], hi[0] - lo[0]), dtype=np.uint8)
    for (_, value), p in zip(parts, points, strict=True):
        fixed = np.round((p - lo) * (1 << _SUBPIXEL_BITS)).astype(np.int32)
        cv2.fillPoly(mask, [fixed], value, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return mask, int(lo[0]), int(lo[1])


def _clip_to_image(
    mask: np.ndarray, x0: int, y0: int, height: int, width: int
) -> tuple[slice, slice, np.ndarray]:
    """The image slices a patch at ``(x0, y0)`` covers and the patch's in-image part."""
    top, left = max(y0, 0), max(x0, 0)
    bottom, right = min(y0 + mask.shape[0], height), min(x0 + mask.shape[1], width)
    inside = mask[top - y0 : max(bottom, top) - y0, left - x0 : max(right, left) - x0]
    return slice(top, max(bottom, top)), slice(left, max(right, left)), inside.astype(bool)


def _try_place(
    rng: np.random.Generator, owner: np.ndarray, placed: list[_PlacedObject], label: int
) -> _PlacedObject | None:
    """Drop shape ``label`` at a random place on top of ``placed``; None if it never fits.

    ``owner [H, W]`` holds, per pixel, the index of the topmost object (-1: background) and is
    updated when the object is accepted. A placement is refused when the new object, or any
    object it covers, would keep less than :data:`MIN_VISIBLE_FRACTION` of its area visible.
    """
    height, width = owner.shape
    lo, hi = OBJECT_SCALE_RANGE
    radius = math.exp(rng.uniform(math.log(lo), math.log(hi))) * min(height, width) / 2
    for attempt in range(1, _MAX_PLACEMENT_TRIES + 1):
        centre = rng.uniform((0, 0), (width, height))
        mask, x0, y0 = _rasterise(_SHAPES[label], centre, radius, rng.uniform(0, 2 * math.pi))
        rows, cols, inside = _clip_to_image(mask, x0, y0, height, width)
        area, visible = int(np.count_nonzero(mask)), int(np.count_nonzero(inside))
        lost = np.bincount(owner[rows, cols][inside] + 1, minlength=len(placed) + 1)[1:]
        fits = visible > 0 and visible >= MIN_VISIBLE_FRACTION * area
        if fits and all(
            obj.visible - n >= MIN_VISIBLE_FRACTION * obj.area
            for obj, n in zip(placed, lost, strict=True)
        ):
            for obj, n in zip(placed, lost, strict=True):
                obj.visible -= int(n)
            owner[rows, cols][inside] = len(placed)
            return _PlacedObject(label, rows, cols, inside, area, visible)
        if attempt % _SHRINK_EVERY == 0:
            radius *= 0.8  # the scene is crowded: smaller objects fit more easily
    return None


def _layout(
    rng: np.random.Generator, height: int, width: int, min_objects: int, max_objects: int
) -> list[_PlacedObject]:
    """Classes and places of a scene's objects, in drawing order (later ones on top).

    An object that finds no place in :data:`_MAX_PLACEMENT_TRIES` tries is left out; with the
    default arguments this was never seen in 2000 scenes (nor with 20 objects per scene).
    """
    owner = np.full((height, width), -1, dtype=np.int16)
    placed: list[_PlacedObject] = []
    for label in rng.integers(len(SHAPE_CLASSES), size=rng.integers(min_objects, max_objects + 1)):
        obj = _try_place(rng, owner, placed, int(label))
        if obj is not None:
            placed.append(obj)
    return placed


def _texture_tiles(n: int = 64) -> tuple[np.ndarray, ...]:
    """One period of each background texture, ``[n, n]`` float32 in ``[-1, 1]``.

    Grating, hard stripes, checkerboard (2 x 2 cells) and plaid (two crossed gratings). A tile
    is warped over the whole image in one call (see :func:`_background`), which is several
    times faster than evaluating the pattern per pixel in numpy.
    """
    wave = np.sin(2 * math.pi * np.arange(n) / n)
    half = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    tiles = (
        np.broadcast_to(wave, (n, n)),
        np.broadcast_to(half, (n, n)),
        half[:, None] * half[None, :],
        0.5 * (wave[:, None] + wave[None, :]),
    )
    return tuple(np.ascontiguousarray(t, dtype=np.float32) for t in tiles)


_TEXTURE_TILES = _texture_tiles()


@functools.lru_cache(maxsize=2)
def _noise_tile(side: int) -> np.ndarray:
    """A fixed field of i.i.d. pixel noise in ``[-1, 1]``, ``[side, side, 3]`` float32.

    Scenes take a random window of it: a window of i.i.d. noise is i.i.d. noise, and slicing
    costs nothing where drawing 200k fresh numbers per scene would cost a third of the budget.
    """
    tile = np.random.default_rng(0x5EED).random((side, side, 3), dtype=np.float32)
    return tile * 2 - 1


def _noise_window(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random ``[H, W, 3]`` window of the noise tile (a read-only view)."""
    side = max(512, 1 << math.ceil(math.log2(max(height, width))))
    top, left = rng.integers(0, (side - height + 1, side - width + 1))
    window = _noise_tile(side)[top : top + height, left : left + width]
    window.flags.writeable = False
    return window


def _texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A tinted oriented texture, ``[H, W, 3]`` float32 with values in about ``[-60, 60]``.

    Any orientation and a period of 4-40 px, so a texture can be finer or coarser than the
    shapes' edges and never lines up with the image axes by construction.
    """
    tile = _TEXTURE_TILES[rng.integers(len(_TEXTURE_TILES))]
    tint = rng.uniform(-1, 1, 3) * rng.uniform(15, 60)  # texture colour and strength
    angle = rng.uniform(0, math.pi)
    period = math.exp(rng.uniform(math.log(4), math.log(40)))
    c, s = math.cos(angle), math.sin(angle)
    # Inverse map: output pixel (x, y) reads tile position n * (rotated (x, y) / period + phase).
    to_tile = len(tile) * np.array(
        [[c / period, s / period, rng.uniform()], [-s / period, c / period, rng.uniform()]]
    )
    coloured = (tile[..., None] * tint).astype(np.float32)
    # Nearest-neighbour sampling is 3x faster than bilinear here, and with 64 samples per
    # period its steps (<= 40/64 px) are finer than the pixel noise added on top.
    flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(
        coloured, to_tile, (width, height), flags=flags, borderMode=cv2.BORDER_WRAP
    )


def _background(rng: np.random.Generator, noise: np.ndarray) -> np.ndarray:
    """Low-frequency colour field + texture + fine noise. ``noise [H, W, 3] -> [H, W, 3]`` uint8."""
    height, width = noise.shape[:2]
    # A 2-5 cell random colour grid, upsampled smoothly: large blotches of colour.
    grid = rng.uniform(0, 255, (*rng.integers(2, 6, size=2), 3)).astype(np.float32)
    base = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    texture = _texture(rng, height, width)
    cv2.scaleAdd(noise, rng.uniform(4, 20), texture, dst=texture)
    return cv2.add(base, texture, dtype=cv2.CV_8U)  # saturating: clips to [0, 255]


def _draw_clutter(rng: np.random.Generator, image: np.ndarray) -> None:
    """A few thin un-annotated strokes (lines and arcs), so edges alone do not mean objects."""
    height, width = image.shape[:2]
    side = min(height, width)
    for _ in range(rng.integers(2, 7)):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        centre = rng.uniform((0, 0), (width, height))
        length = rng.uniform(0.05, 0.2) * side
        thickness = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            angle = rng.uniform(0, 2 * math.pi)
            delta = length / 2 * np.array([math.cos(angle), math.sin(angle)])
            p, q = np.round(centre - delta).astype(int), np.round(centre + delta).astype(int)
            cv2.line(image, tuple(map(int, p)), tuple(map(int, q)), colour, thickness, cv2.LINE_AA)
        else:
            axes = (int(length / 2), int(length / 2 * rng.uniform(0.3, 1)))
            start = rng.uniform(0, 360)
            centre_px = tuple(int(v) for v in np.round(centre))
            rotation = float(rng.uniform(0, 360))
            sweep = float(rng.uniform(60, 240))
            arc = (start, start + sweep)
            cv2.ellipse(image, centre_px, axes, rotation, *arc, colour, thickness, cv2.LINE_AA)


def _paint_object(
    rng: np.random.Generator, image: np.ndarray, obj: _PlacedObject, noise: np.ndarray
) -> None:
    """Fill ``obj``'s mask with a colour far from what lies under it, plus shading and noise."""
    patch = image[obj.rows, obj.cols]  # a view: painting it paints the image
    local = np.array(cv2.mean(patch, mask=obj.mask.view(np.uint8))[:3], dtype=np.float32)
    # The farthest of 8 random colours from the local background: contrast without a fixed
    # palette that an agent could memorise.
    candidates = rng.uniform(0, 255, (8, 3)).astype(np.float32)
    colour = candidates[np.argmax(np.square(candidates - local).sum(axis=1))]
    h, w = obj.mask.shape
    slope = rng.uniform(-1, 1, 2) * rng.uniform(10, 30) / max(h, w)  # linear shading ramp
    ramp = np.arange(w, dtype=np.float32)[None, :] * np.float32(slope[0])
    ramp = ramp + np.arange(h, dtype=np.float32)[:, None] * np.float32(slope[1])
    fill = noise[obj.rows, obj.cols] * np.float32(rng.uniform(3, 10)) + colour
    fill += ramp[..., None]
    np.copyto(patch, np.clip(fill, 0, 255).astype(np.uint8), where=obj.mask[..., None])


def _scene_size(rng: np.random.Generator, image_size: tuple[int, int] | None) -> tuple[int, int]:
    if image_size is not None:
        return image_size
    lo, hi = IMAGE_SIDE_RANGE
    height, width = rng.integers(lo, hi + 1, size=2)
    return int(height), int(width)


def _boxes_and_labels(objects: list[_PlacedObject]) -> tuple[np.ndarray, np.ndarray]:
    """``boxes [K, 4]`` float32 and ``labels [K]`` int64 of a layout."""
    boxes = np.array([obj.box() for obj in objects], dtype=np.float32).reshape(-1, 4)
    return boxes, np.array([obj.label for obj in objects], dtype=np.int64)


def _check_image_size(image_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(v, int | np.integer) and v >= 32 for v in size):
        raise ValueError(
            f"image_size must be None, an int or (height, width) >= 32, got {image_size!r}"
        )
    return int(size[0]), int(size[1])


@register_reader("shapes")
class ShapesScenes(SceneDataset):
    """Procedural scenes of 1-6 textured shapes (12 classes): the embedded default dataset.

    Nothing is downloaded or stored: scene ``index`` is generated when asked for, and the same
    ``(seed, split, index)`` always gives a byte-identical scene. The splits are disjoint random
    streams. Boxes are the tight pixel-edge boxes of each whole drawn shape (including parts
    hidden by later shapes), clipped to the image. ``Scene.extras["visible_fraction"]``
    (ndarray[K] float32) is the share of each object's area left visible.

    Args:
        split: One of ``"train"``, ``"val"``, ``"test"``.
        num_scenes: Length of the split; default 20000 for train, 2000 for val and test.
        image_size: ``None``: each scene draws its own height and width in [192, 320];
            an int: square scenes of that side; ``(height, width)``: fixed size. Sides >= 32.
        min_objects: Fewest objects drawn per scene (>= 1).
        max_objects: Most objects drawn per scene (>= ``min_objects``, <= 20).
        seed: Non-negative int selecting a whole family of splits.
        cache_size: Number of generated scenes kept in memory.

    Raises:
        ValueError: An argument outside the ranges above.
    """

    name = "shapes"
    classes = SHAPE_CLASSES

    def __init__(
        self,
        split: str = "train",
        num_scenes: int | None = None,
        image_size: int | tuple[int, int] | None = None,
        min_objects: int = 1,
        max_objects: int = 6,
        seed: int = 0,
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        if split not in SPLIT_CODES:
            raise ValueError(
                f"unknown shapes split {split!r}; expected one of {tuple(SPLIT_CODES)}"
            )
        num_scenes = DEFAULT_NUM_SCENES[split] if num_scenes is None else num_scenes
        if num_scenes < 1:
            raise ValueError(f"num_scenes must be >= 1, got {num_scenes}")
        if not 1 <= min_objects <= max_objects <= 20:
            raise ValueError(
                f"need 1 <= min_objects <= max_objects <= 20, got {min_objects}, {max_objects}"
            )
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.split = split
        self.num_scenes = int(num_scenes)
        self.image_size = _check_image_size(image_size)
        self.min_objects = int(min_objects)
        self.max_objects = int(max_objects)
        self.seed = int(seed)

    def __len__(self) -> int:
        return self.num_scenes

    def _generate_layout(
        self, index: int
    ) -> tuple[np.random.Generator, tuple[int, int], list[_PlacedObject]]:
        """The painting generator, the scene size and the objects of scene ``index``."""
        # The entropy default_rng([seed, split_code, index]) would use, split in two streams.
        entropy = np.random.SeedSequence([self.seed, SPLIT_CODES[self.split], index])
        layout_rng, paint_rng = (np.random.default_rng(s) for s in entropy.spawn(2))
        height, width = _scene_size(layout_rng, self.image_size)
        objects = _layout(layout_rng, height, width, self.min_objects, self.max_objects)
        return paint_rng, (height, width), objects

    def annotation(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes, labels, difficult)`` of scene ``index`` from its layout, without painting."""
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name} has {len(self)} scenes, index {index} is out of range")
        _, _, objects = self._generate_layout(index)
        boxes, labels = _boxes_and_labels(objects)
        return boxes, labels, np.zeros(len(objects), dtype=bool)

    def _load(self, index: int) -> Scene:
        paint_rng, (height, width), objects = self._generate_layout(index)
        noise = _noise_window(paint_rng, height, width)
        image = _background(paint_rng, noise)
        _draw_clutter(paint_rng, image)
        for obj in objects:
            _paint_object(paint_rng, image, obj, noise)
        boxes, labels = _boxes_and_labels(objects)
        visible = np.array([obj.visible / obj.area for obj in objects], dtype=np.float32)
        return Scene(
            image=image,
            boxes=boxes,
            labels=labels,
            image_id=f"{self.split}-{index}",
            extras={"visible_fraction": visible},
        )

    def __repr__(self) -> str:
        return (
            f"ShapesScenes(split={self.split!r}, scenes={len(self)}, seed={self.seed}, "
            f"image_size={self.image_size})"
        )
