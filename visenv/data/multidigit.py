"""Multi-digit canvases: HSAL's MNIST Set and MNIST Multiset tasks (paper 001, sec. 5).

"Each 100x100 image in the dataset has a variable number (1-4) of digits, of varying sizes
(20-50px) and positions, along with cluttering objects that introduce noise. Each label in an
image from MNIST Set is unique, while MNIST Multiset images may contain duplicate labels."
The paper gives no more detail; the choices made here:

* **Digits.** ``n`` is uniform in ``num_digits`` (1-4). Set: ``n`` distinct labels drawn
  uniformly; Multiset: ``n`` labels drawn uniformly and independently, so repeats happen
  (about half of the 4-digit canvases have one). Each label takes a random digit of that class
  from the pool.
* **Size.** A digit's whole 28 x 28 field (MNIST's size-normalised box) is resized to
  ``s x s`` with ``s`` uniform in ``digit_size`` (20-50 px). Its *box* is the tight box of its
  ink (pixels above :data:`INK_THRESHOLD` after resizing), which is what "where the digit is"
  means to an oracle or a metric.
* **Places.** Uniform, the field inside the canvas, rejecting places where two ink boxes
  share more than ``max_overlap`` (15%) of the smaller box's area ("non-overlapping or lightly
  overlapping"). After :data:`MAX_PLACEMENT_TRIES` rejections the least overlapping place tried
  is taken. Overlapping strokes combine by maximum (white on black).
* **Clutter.** ``clutter`` (4-8) pieces per canvas, each a random window (6-10 px, from the
  middle 20 px of the 28 px field, where the ink is) of a random digit of the *same pool*,
  resized by a factor in ``digit_size / 28`` and put where it touches no digit box (pieces
  that find no place in 20 tries are dropped), so clutter adds noise without changing what a
  digit looks like.

A canvas is a pure function of ``(seed, split, index)`` and of the pool. Train and test
canvases are built from the train and test *pools* (:func:`~visenv.data.mnist_digits`,
:func:`~visenv.data.rendered_digits`), which never share a digit. Canvases are generated when
asked for, never stored; ``len`` defaults to the paper's 60,000 train and 10,000 test.

Registered readers (:func:`~visenv.data.load_dataset`): ``"mnist_set"``, ``"mnist_multiset"``
(MNIST IDX files under ``root``) and ``"digits_set"``, ``"digits_multiset"`` (digits visenv
renders itself, the embedded default).
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from visenv.data.digits import LabelledImages, mnist_digits, rendered_digits
from visenv.data.registry import register_reader
from visenv.data.scene import Scene, SceneDataset

__all__ = [
    "CANVAS_SIZE",
    "DEFAULT_NUM_CANVASES",
    "DigitCanvases",
    "digits_multiset",
    "digits_set",
    "ink_box",
    "mnist_multiset",
    "mnist_set",
]

CANVAS_SIZE = 100
DEFAULT_NUM_CANVASES: dict[str, int] = {"train": 60_000, "test": 10_000}
SPLIT_CODES: dict[str, int] = {"train": 0, "test": 1}
INK_THRESHOLD = 40  # uint8 level above which a pixel counts as ink (cuts antialiasing tails)
MAX_PLACEMENT_TRIES = 60
CLUTTER_WINDOW = (6, 10)  # side of a clutter piece in the 28 px field, inclusive
CLUTTER_TRIES = 20


def ink_box(image: np.ndarray, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """Tight pixel-edge box ``(x1, y1, x2, y2)`` of the pixels of ``image [H, W]`` above
    ``threshold``; the whole image when none is."""
    rows = np.flatnonzero((image > threshold).any(axis=1))
    cols = np.flatnonzero((image > threshold).any(axis=0))
    if not len(rows):
        return np.array([0.0, 0.0, image.shape[1], image.shape[0]])
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


def _overlap(box: np.ndarray, others: list[np.ndarray]) -> float:
    """Largest intersection of ``box`` with any of ``others``, over the smaller box's area."""
    worst = 0.0
    for other in others:
        w = min(box[2], other[2]) - max(box[0], other[0])
        h = min(box[3], other[3]) - max(box[1], other[1])
        if w > 0 and h > 0:
            smaller = min(
                (box[2] - box[0]) * (box[3] - box[1]), (other[2] - other[0]) * (other[3] - other[1])
            )
            worst = max(worst, w * h / smaller)
    return worst


def _check_range(name: str, value: tuple[int, int], low: int) -> tuple[int, int]:
    lo, hi = (int(v) for v in value)
    if not low <= lo <= hi:
        raise ValueError(f"{name} must be (low, high) with {low} <= low <= high, got {value}")
    return lo, hi


class DigitCanvases(SceneDataset):
    """Canvases of 1-4 digits from a pool plus clutter (module docstring for every choice).

    Each :class:`~visenv.data.Scene` has the ``[S, S, 3]`` uint8 canvas (grey, white on black,
    repeated over RGB), one ink box and label per digit (in drawing order, which is random),
    and ``extras["multiset"]``: the labels sorted, as a tuple.

    Args:
        digits: The pool the canvases are built from (train or test pool).
        multiset: ``False``: Set (distinct labels); ``True``: Multiset (repeats allowed).
        split: ``"train"`` or ``"test"``; selects the random stream (and names the dataset).
        num_canvases: Length; default :data:`DEFAULT_NUM_CANVASES` of ``split``.
        num_digits: Inclusive range of digits per canvas.
        digit_size: Inclusive range of the digit field's side in pixels.
        canvas_size: Side ``S`` of the square canvas.
        clutter: Inclusive range of clutter pieces per canvas (``(0, 0)``: none).
        max_overlap: Largest share of the smaller ink box two digits may overlap.
        seed: Selects a family of canvases.
        train_digits: The pool a default activation model for these canvases trains on
            (:mod:`visenv.models.activation`); default ``digits``.
        cache_size: Decoded canvases kept in memory.

    Raises:
        ValueError: A bad range, a Set with more digits than classes, or an unknown split.
    """

    def __init__(
        self,
        digits: LabelledImages,
        *,
        multiset: bool,
        split: str = "train",
        num_canvases: int | None = None,
        num_digits: tuple[int, int] = (1, 4),
        digit_size: tuple[int, int] = (20, 50),
        canvas_size: int = CANVAS_SIZE,
        clutter: tuple[int, int] = (4, 8),
        max_overlap: float = 0.15,
        seed: int = 0,
        train_digits: LabelledImages | None = None,
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        if split not in SPLIT_CODES:
            raise ValueError(f"unknown split {split!r}; expected one of {tuple(SPLIT_CODES)}")
        if digits.images.ndim != 3:
            raise ValueError(f"digits must be a grey pool [N, H, W], got {digits.images.shape}")
        self.num_digits = _check_range("num_digits", num_digits, 1)
        self.digit_size = _check_range("digit_size", digit_size, 4)
        self.clutter = _check_range("clutter", clutter, 0)
        if self.digit_size[1] > canvas_size:
            raise ValueError(f"digit_size {digit_size} does not fit a {canvas_size} px canvas")
        present = np.unique(digits.labels)
        if not multiset and self.num_digits[1] > len(present):
            raise ValueError(
                f"a Set canvas of {self.num_digits[1]} distinct labels needs as many classes; "
                f"the pool {digits.name} has {len(present)}"
            )
        if not 0 <= max_overlap <= 1:
            raise ValueError(f"max_overlap must lie in [0, 1], got {max_overlap}")
        self.digits, self.multiset, self.split = digits, bool(multiset), split
        self.train_digits = train_digits if train_digits is not None else digits
        self.canvas_size, self.max_overlap, self.seed = int(canvas_size), max_overlap, int(seed)
        self.num_canvases = int(num_canvases or DEFAULT_NUM_CANVASES[split])
        self.name = f"{digits.name}-{'multiset' if multiset else 'set'}"
        self.classes = digits.classes
        self.max_digits = self.num_digits[1]
        self._present = present
        self._by_label = {int(c): np.flatnonzero(digits.labels == c) for c in present}

    def __len__(self) -> int:
        return self.num_canvases

    def _labels(self, rng: np.random.Generator) -> np.ndarray:
        n = int(rng.integers(self.num_digits[0], self.num_digits[1] + 1))
        if self.multiset:
            return self._present[rng.integers(len(self._present), size=n)]
        return rng.choice(self._present, size=n, replace=False)

    def _place(
        self, rng: np.random.Generator, ink: np.ndarray, side: int, boxes: list[np.ndarray]
    ) -> tuple[int, int]:
        """Top-left corner of a ``side`` px field whose ink box overlaps ``boxes`` lightly."""
        best, best_overlap = (0, 0), np.inf
        for _ in range(MAX_PLACEMENT_TRIES):
            x, y = (int(v) for v in rng.integers(0, self.canvas_size - side + 1, size=2))
            overlap = _overlap(ink + np.array([x, y, x, y]), boxes)
            if overlap <= self.max_overlap:
                return x, y
            if overlap < best_overlap:
                best, best_overlap = (x, y), overlap
        return best

    def _draw_digits(
        self, rng: np.random.Generator, canvas: np.ndarray, labels: np.ndarray
    ) -> np.ndarray:
        boxes: list[np.ndarray] = []
        for label in labels:
            digit = self.digits.images[rng.choice(self._by_label[int(label)])]
            side = int(rng.integers(self.digit_size[0], self.digit_size[1] + 1))
            field = cv2.resize(digit, (side, side), interpolation=cv2.INTER_LINEAR)
            ink = ink_box(field)
            x, y = self._place(rng, ink, side, boxes)
            region = canvas[y : y + side, x : x + side]
            np.maximum(region, field, out=region)
            boxes.append(ink + np.array([x, y, x, y]))
        return np.array(boxes, dtype=np.float32).reshape(-1, 4)

    def _draw_clutter(
        self, rng: np.random.Generator, canvas: np.ndarray, boxes: np.ndarray
    ) -> None:
        pieces = int(rng.integers(self.clutter[0], self.clutter[1] + 1))
        field = self.digits.images.shape[1]
        for _ in range(pieces):
            source = self.digits.images[rng.integers(len(self.digits))]
            window = int(rng.integers(CLUTTER_WINDOW[0], CLUTTER_WINDOW[1] + 1))
            # MNIST centres its ink in the middle 20 x 20 px: take windows from there
            r, c = (int(v) for v in rng.integers(4, field - 4 - window + 1, size=2))
            scale = rng.uniform(self.digit_size[0], self.digit_size[1]) / field
            side = max(2, round(window * scale))
            piece = cv2.resize(source[r : r + window, c : c + window], (side, side))
            for _ in range(CLUTTER_TRIES):
                x, y = (int(v) for v in rng.integers(0, self.canvas_size - side + 1, size=2))
                if _overlap(np.array([x, y, x + side, y + side], float), list(boxes)) == 0:
                    region = canvas[y : y + side, x : x + side]
                    np.maximum(region, piece, out=region)
                    break

    def _load(self, index: int) -> Scene:
        rng = np.random.default_rng([self.seed, SPLIT_CODES[self.split], index])
        canvas = np.zeros((self.canvas_size, self.canvas_size), np.uint8)
        labels = self._labels(rng)
        boxes = self._draw_digits(rng, canvas, labels)
        self._draw_clutter(rng, canvas, boxes)
        return Scene(
            image=np.repeat(canvas[:, :, None], 3, axis=2),
            boxes=boxes,
            labels=labels,
            image_id=f"{self.split}-{index}",
            extras={"multiset": tuple(sorted(int(v) for v in labels))},
        )

    def __repr__(self) -> str:
        return (
            f"DigitCanvases(name={self.name!r}, split={self.split!r}, canvases={len(self)}, "
            f"digits={self.num_digits}, size={self.digit_size})"
        )


# -- registered readers ------------------------------------------------------------------------
def _canvases(
    pools: tuple[LabelledImages, LabelledImages], multiset: bool, split: str, **kwargs: object
) -> DigitCanvases:
    train, test = pools
    digits = train if split == "train" else test
    return DigitCanvases(digits, multiset=multiset, split=split, train_digits=train, **kwargs)


def _mnist_pools(
    root: str | os.PathLike[str] | None, split: str
) -> tuple[LabelledImages, LabelledImages]:
    train = mnist_digits(root, pool="train")
    return train, (train if split == "train" else mnist_digits(root, pool="test"))


@register_reader("mnist_set")
def mnist_set(
    root: str | os.PathLike[str] | None = None,
    split: str = "train",
    num_canvases: int | None = None,
    seed: int = 0,
) -> DigitCanvases:
    """MNIST Set canvases (distinct labels) from the MNIST IDX files under ``root``."""
    pools = _mnist_pools(root, split)
    return _canvases(pools, False, split, num_canvases=num_canvases, seed=seed)


@register_reader("mnist_multiset")
def mnist_multiset(
    root: str | os.PathLike[str] | None = None,
    split: str = "train",
    num_canvases: int | None = None,
    seed: int = 0,
) -> DigitCanvases:
    """MNIST Multiset canvases (repeated labels allowed) from the MNIST IDX files."""
    pools = _mnist_pools(root, split)
    return _canvases(pools, True, split, num_canvases=num_canvases, seed=seed)


def _rendered_pools(split: str) -> tuple[LabelledImages, LabelledImages]:
    train = rendered_digits("train")
    return train, (train if split == "train" else rendered_digits("test"))


@register_reader("digits_set")
def digits_set(
    split: str = "train", num_canvases: int | None = None, seed: int = 0
) -> DigitCanvases:
    """Set canvases of digits visenv renders itself (no download)."""
    return _canvases(_rendered_pools(split), False, split, num_canvases=num_canvases, seed=seed)


@register_reader("digits_multiset")
def digits_multiset(
    split: str = "train", num_canvases: int | None = None, seed: int = 0
) -> DigitCanvases:
    """Multiset canvases of digits visenv renders itself: HSAL's embedded default."""
    return _canvases(_rendered_pools(split), True, split, num_canvases=num_canvases, seed=seed)
