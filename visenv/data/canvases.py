"""Episode images of the glimpse environments: digit canvases and SVHN house-number crops.

Paper 002 (sec. 5) follows the recurrent attention model's protocols (Mnih et al. 2014):

* **plain**: the pool's own images (MNIST 28x28, CIFAR-10 32x32x3);
* **translated**: the digit at a uniformly random place on a larger black canvas (60x60);
* **cluttered**: a translated digit plus ``num_clutter`` pieces of clutter, each an 8x8 patch
  cut at a random place from another random digit of the same pool and pasted at a random
  place (100x100 with 10 pieces in paper 002; RAM's 60x60 variant had 4);
* **SVHN sequences** (Goodfellow et al. 2014): the box around all digits of a house number,
  grown by 30%, is the 64x64 frame, and a random 54x54 crop of it (the centre one when not
  jittering) is the image; the target is the digits left to right, then a terminal label.

Every random choice of an episode image is a *plan*: a short int64 vector drawn from the env's
own generator, from which the image, its target labels, object boxes and object masks follow
deterministically. Envs keep the plans of all their sub-envs in one ``[N, P]`` array, so
painting, boxes and masks are computed for a whole batch at once.

Objects: in a grey digit pool the object is the digit's ink, the pixels ``>= 128`` (the same
threshold as the glimpse entropy); in an RGB pool (CIFAR-10) it is the whole image; in SVHN each
digit's box. Pieces of clutter combine with the canvas by ``max`` (ink over ink), so clutter
never erases the target digit, but it may overlap it.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from visenv.core.crop import crop_and_resize
from visenv.data.digits import DIGIT_CLASSES, LabelledImages, cifar10, mnist_digits, rendered_digits
from visenv.data.paths import resolve_root
from visenv.data.registry import load_dataset
from visenv.data.scene import SceneDataset

__all__ = [
    "CANVAS_KINDS",
    "INK_THRESHOLD",
    "DigitCanvases",
    "EpisodeImages",
    "SVHNSequences",
    "boxes_to_masks",
    "episode_images",
]

#: Named sources of :func:`episode_images`.
EPISODE_DATASETS = ("mnist", "rendered", "cifar10", "svhn")

CANVAS_KINDS = ("plain", "translated", "cluttered")
INK_THRESHOLD = 128
_DEFAULT_SIZE = {"translated": 60, "cluttered": 100}
# pieces of clutter by canvas side: paper 002 uses 10 on 100x100, RAM 4 on 60x60
_DEFAULT_CLUTTER = {100: 10, 60: 4}


class EpisodeImages(Protocol):
    """What a glimpse environment needs from its images (see the module docstring)."""

    classes: tuple[str, ...]  # prediction labels (SVHN: digits and "end")
    image_shape: tuple[int, int, int]  # (H, W, C)
    plan_size: int
    max_labels: int  # labels an episode predicts at most
    max_objects: int
    end_label: int | None  # terminal label of a sequence, None for one label

    def __len__(self) -> int: ...
    def sample(self, rng: np.random.Generator, index: int | None = None) -> np.ndarray: ...
    def paint(self, plans: np.ndarray) -> np.ndarray: ...
    def targets(self, plans: np.ndarray) -> np.ndarray: ...
    def object_boxes(self, plans: np.ndarray) -> np.ndarray: ...
    def object_masks(self, plans: np.ndarray) -> np.ndarray: ...


def boxes_to_masks(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixels whose centres lie in each box: ``[..., 4]`` -> bool ``[..., H, W]``."""
    cols, rows = np.arange(width) + 0.5, np.arange(height) + 0.5
    in_x = (boxes[..., 0:1] <= cols) & (cols < boxes[..., 2:3])
    in_y = (boxes[..., 1:2] <= rows) & (rows < boxes[..., 3:4])
    return in_y[..., :, None] & in_x[..., None, :]


def _ink_boxes(images: np.ndarray) -> np.ndarray:
    """Tight pixel-edge box of the ink of each grey image ``[N, h, w]`` -> ``[N, 4]``."""
    ink = images >= INK_THRESHOLD
    _, h, w = images.shape
    cols, rows = ink.any(axis=1), ink.any(axis=2)
    x1, x2 = cols.argmax(axis=1), w - cols[:, ::-1].argmax(axis=1)
    y1, y2 = rows.argmax(axis=1), h - rows[:, ::-1].argmax(axis=1)
    boxes = np.stack([x1, y1, x2, y2], axis=1).astype(np.float64)
    boxes[~cols.any(axis=1)] = [0, 0, w, h]  # no ink at all: the whole digit
    return boxes


class DigitCanvases:
    """Plain, translated or cluttered canvases of one pool of labelled images.

    Plan layout (int64): ``[index, x, y]`` then ``num_clutter`` rows of ``[source, source_x,
    source_y, x, y]``: the target image ``index`` of the pool sits with its top-left corner at
    ``(x, y)``; piece ``j`` is the ``clutter_size`` square of pool image ``source`` at
    ``(source_x, source_y)``, pasted at ``(x, y)``.

    Args:
        pool: The images (a train pool makes train canvases, a test pool test canvases).
        kind: One of :data:`CANVAS_KINDS`.
        size: Canvas side; default 60 (translated), 100 (cluttered), the pool's (plain).
        num_clutter: Pieces of clutter (cluttered only); default 10 on 100x100, 4 on 60x60,
            else ``size // 10``.
        clutter_size: Side of a piece of clutter (8, as in RAM).
    """

    max_labels = 1
    max_objects = 1
    end_label = None

    def __init__(
        self,
        pool: LabelledImages,
        kind: str = "plain",
        size: int | None = None,
        num_clutter: int | None = None,
        clutter_size: int = 8,
    ) -> None:
        if kind not in CANVAS_KINDS:
            raise ValueError(f"canvas kind must be one of {CANVAS_KINDS}, got {kind!r}")
        if len(pool) < 2:
            raise ValueError(f"{pool.name}: a canvas pool needs at least 2 images")
        self.pool, self.kind = pool, kind
        self.classes = pool.classes
        h, w = pool.images.shape[1:3]
        channels = 1 if pool.images.ndim == 3 else pool.images.shape[3]
        size = (h if kind == "plain" else _DEFAULT_SIZE[kind]) if size is None else int(size)
        if kind == "plain" and size != h:
            raise ValueError(f"plain canvases are the pool's {h}x{w} images; got size={size}")
        if size < max(h, w):
            raise ValueError(f"canvas size {size} is smaller than the pool's {h}x{w} images")
        if kind != "cluttered" and num_clutter:
            raise ValueError(f"num_clutter applies to cluttered canvases, not {kind!r}")
        if num_clutter is None:
            num_clutter = _DEFAULT_CLUTTER.get(size, size // 10) if kind == "cluttered" else 0
        if num_clutter < 0 or not 1 <= clutter_size <= min(h, w):
            raise ValueError(
                f"need num_clutter >= 0 and 1 <= clutter_size <= {min(h, w)}, got "
                f"{num_clutter} and {clutter_size}"
            )
        self.size, self.num_clutter, self.clutter_size = size, int(num_clutter), clutter_size
        self.image_shape = (size, size, channels)
        self.plan_size = 3 + 5 * self.num_clutter
        # exclusive upper bounds of each plan entry (module docstring's layout)
        c, n, free = clutter_size, len(pool), size - clutter_size + 1
        piece = [n - 1, w - c + 1, h - c + 1, free, free]
        self._plan_highs = np.array([n, size - w + 1, size - h + 1, *piece * self.num_clutter])
        self._grey = channels == 1 and pool.images.ndim == 3
        # objects: the ink of a digit, or the whole image of an RGB pool
        self._object_boxes = (
            _ink_boxes(pool.images) if self._grey else np.tile([0.0, 0.0, w, h], (len(pool), 1))
        )

    def __len__(self) -> int:
        return len(self.pool)

    def sample(self, rng: np.random.Generator, index: int | None = None) -> np.ndarray:
        """The plan of one canvas, drawn from ``rng`` (``index`` fixes the target image)."""
        if self.kind == "plain":
            # only the image varies: one scalar draw is 4x faster than the array call and
            # draws the same number (numpy draws nothing for a choice out of one)
            plan = np.zeros(3, dtype=np.int64)
            plan[0] = rng.integers(0, len(self.pool))
        else:
            plan = rng.integers(0, self._plan_highs)  # every choice in one call
        if index is not None:
            plan[0] = index
        if self.num_clutter:
            others = plan[3::5]
            others += others >= plan[0]  # "other random digits": never the target itself
        return plan

    def paint(self, plans: np.ndarray) -> np.ndarray:
        """Canvases of ``plans [K, P]``: uint8 ``[K, S, S]`` (grey) or ``[K, S, S, C]``."""
        images = self.pool.images
        if self.kind == "plain":
            return images[plans[:, 0]]
        k, (h, w), c = len(plans), images.shape[1:3], self.clutter_size
        pool = images if images.ndim == 4 else images[..., None]  # [N, h, w, C]
        canvases = np.zeros((k, self.size, self.size, pool.shape[3]), dtype=np.uint8)
        env = np.arange(k)
        # windows [K, y, x, C, rows, cols]: one fancy index per piece pastes a whole batch
        _windows(canvases, h, w)[env, plans[:, 2], plans[:, 1]] = np.moveaxis(
            pool[plans[:, 0]], 3, 1
        )
        pieces = _windows(pool, c, c, writeable=False)
        spots = _windows(canvases, c, c)
        clutter = plans[:, 3:].reshape(k, self.num_clutter, 5).transpose(1, 2, 0)  # [n, 5, K]
        for source, sx, sy, x, y in clutter:
            spots[env, y, x] = np.maximum(spots[env, y, x], pieces[source, sy, sx])
        return canvases if images.ndim == 4 else canvases[..., 0]

    def targets(self, plans: np.ndarray) -> np.ndarray:
        """Label of each canvas's target image: int64 ``[K, 1]``."""
        return self.pool.labels[plans[:, 0]][:, None]

    def object_boxes(self, plans: np.ndarray) -> np.ndarray:
        """Box of the target's object (its ink, or the whole image) on the canvas: ``[K, 1, 4]``."""
        offsets = plans[:, 1:3]  # (x, y) of the target on the canvas, for both corners
        return (self._object_boxes[plans[:, 0]] + np.concatenate([offsets, offsets], 1))[:, None]

    def object_masks(self, plans: np.ndarray) -> np.ndarray:
        """Object pixels of each canvas: bool ``[K, 1, S, S]`` (clutter excluded)."""
        images = self.pool.images
        if not self._grey:
            return boxes_to_masks(self.object_boxes(plans), self.size, self.size)
        h, w = images.shape[1:3]
        masks = np.zeros((len(plans), self.size, self.size), dtype=bool)
        ink = images[plans[:, 0]] >= INK_THRESHOLD
        _windows(masks, h, w)[np.arange(len(plans)), plans[:, 2], plans[:, 1]] = ink
        return masks[:, None]


def _windows(images: np.ndarray, h: int, w: int, writeable: bool = True) -> np.ndarray:
    """Every ``h x w`` window of a batch ``[K, H, W, ...]``: ``[K, y, x, ..., h, w]`` (a view,
    so assigning to windows writes into ``images``)."""
    return sliding_window_view(images, (h, w), axis=(1, 2), writeable=writeable)


class SVHNSequences:
    """House-number crops of an SVHN format-1 dataset (Goodfellow et al. 2014's protocol).

    Plan layout (int64): ``[index, ox, oy]``: scene ``index``; the image is the 54x54 window at
    ``(ox, oy)`` of the 64x64 frame (the box around all digits grown by 30%, resampled to 64x64,
    so its aspect ratio changes as in the protocol). The window is cut from the original scene
    in one resampling; what lies outside the scene reads as black. Scenes with more than
    ``max_digits`` digits are redrawn, as the protocol drops them.

    Args:
        dataset: An :class:`~visenv.data.svhn.SVHNFormat1` (any scene dataset whose scenes
            list digits left to right with labels 0-9).
        size, frame: Sides of the image and of the frame (54, 64).
        expand: Growth of the digits' box (0.3 = 30%, 15% on each side).
        jitter: Random windows (training); ``False`` takes the centre window.
        max_digits: Longest house number kept (5).
    """

    END = 10
    classes: ClassVar[tuple[str, ...]] = (*DIGIT_CLASSES, "end")
    end_label = END

    def __init__(
        self,
        dataset: SceneDataset,
        size: int = 54,
        frame: int = 64,
        expand: float = 0.3,
        jitter: bool = True,
        max_digits: int = 5,
    ) -> None:
        if not 0 < size <= frame or expand < 0 or max_digits < 1:
            raise ValueError(
                f"need 0 < size <= frame, expand >= 0, max_digits >= 1; got size={size}, "
                f"frame={frame}, expand={expand}, max_digits={max_digits}"
            )
        self.dataset, self.size, self.frame = dataset, size, frame
        self.expand, self.jitter, self.max_digits = expand, jitter, max_digits
        self.image_shape = (size, size, 3)
        self.plan_size = 3
        self.max_labels = max_digits + 1
        self.max_objects = max_digits

    def __len__(self) -> int:
        return len(self.dataset)

    def sample(self, rng: np.random.Generator, index: int | None = None) -> np.ndarray:
        """The plan of one crop, drawn from ``rng`` (``index`` fixes the scene)."""
        for _ in range(1000):
            pick = int(rng.integers(len(self.dataset))) if index is None else int(index)
            digits = len(self.dataset.annotation(pick)[1])
            if 1 <= digits <= self.max_digits:
                break
            if index is not None:
                raise ValueError(f"scene {index} has {digits} digits; max_digits={self.max_digits}")
        else:
            raise ValueError(f"found no scene with 1..{self.max_digits} digits in 1000 draws")
        slack = self.frame - self.size
        offset = rng.integers(0, slack + 1, size=2) if self.jitter else [slack // 2] * 2
        return np.array([pick, *offset], dtype=np.int64)

    def _windows(self, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(window box in the scene [4], digit boxes in the scene [k, 4])`` of one plan."""
        boxes = self.dataset.annotation(int(plan[0]))[0].astype(np.float64)
        x1, y1 = boxes[:, :2].min(axis=0)
        x2, y2 = boxes[:, 2:].max(axis=0)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        fw, fh = (x2 - x1) * (1 + self.expand), (y2 - y1) * (1 + self.expand)
        sx, sy = fw / self.frame, fh / self.frame  # scene pixels per frame pixel
        left, top = cx - fw / 2 + plan[1] * sx, cy - fh / 2 + plan[2] * sy
        window = np.array([left, top, left + self.size * sx, top + self.size * sy])
        return window, boxes

    def paint(self, plans: np.ndarray) -> np.ndarray:
        """Images of ``plans [K, 3]``: uint8 ``[K, size, size, 3]``."""
        images, windows = [], []
        for plan in plans:
            images.append(self.dataset[int(plan[0])].image)
            windows.append(self._windows(plan)[0])
        return crop_and_resize(images, np.array(windows), (self.size, self.size))

    def targets(self, plans: np.ndarray) -> np.ndarray:
        """Digits left to right, then ``END``, then ``-1``: int64 ``[K, max_digits + 1]``."""
        out = np.full((len(plans), self.max_labels), -1, dtype=np.int64)
        for k, plan in enumerate(plans):
            labels = self.dataset.annotation(int(plan[0]))[1]
            out[k, : len(labels)] = labels
            out[k, len(labels)] = self.END
        return out

    def object_boxes(self, plans: np.ndarray) -> np.ndarray:
        """Digit boxes in image pixels, left to right, zero-padded: ``[K, max_digits, 4]``."""
        out = np.zeros((len(plans), self.max_objects, 4))
        for k, plan in enumerate(plans):
            window, boxes = self._windows(plan)
            scale = self.size / (window[2] - window[0]), self.size / (window[3] - window[1])
            out[k, : len(boxes)] = (boxes - np.tile(window[:2], 2)) * np.tile(scale, 2)
        return out

    def object_masks(self, plans: np.ndarray) -> np.ndarray:
        """Pixels of each digit box: bool ``[K, max_digits, size, size]`` (padding: empty)."""
        return boxes_to_masks(self.object_boxes(plans), self.size, self.size)


@functools.lru_cache(maxsize=8)
def _pool(name: str, root: str, split: str) -> LabelledImages:
    """Pools read from disk once per process (``root`` resolved), shared by every env."""
    if name == "mnist":
        return mnist_digits(root, pool=split)
    return cifar10(root, split=split)


def episode_images(
    dataset: Any = "rendered",
    *,
    root: str | None = None,
    split: str = "train",
    canvas: str = "cluttered",
    canvas_size: int | None = None,
    num_clutter: int | None = None,
    clutter_size: int = 8,
    max_digits: int = 5,
    jitter: bool | None = None,
) -> EpisodeImages:
    """The episode images of a glimpse environment (module docstring).

    Args:
        dataset: ``"mnist"`` (IDX files), ``"rendered"`` (digits drawn by visenv, the embedded
            default), ``"cifar10"``, ``"svhn"`` (format 1), a :class:`LabelledImages` pool or
            an SVHN-like :class:`SceneDataset`.
        root: Dataset folder; default ``$VISENV_DATA/<name>``.
        split: ``"train"`` or ``"test"``: the pool (disjoint digits) or dataset split.
        canvas, canvas_size, num_clutter, clutter_size: :class:`DigitCanvases` arguments
            (pools only; CIFAR-10 is used ``"plain"`` in paper 002).
        max_digits, jitter: :class:`SVHNSequences` arguments; ``jitter`` defaults to
            ``split == "train"``.

    Raises:
        ValueError: Unknown ``dataset`` name or bad canvas arguments.
        DatasetNotFoundError: The files are not under ``root``.
    """
    if isinstance(dataset, str) and dataset not in EPISODE_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {EPISODE_DATASETS}")
    if dataset == "svhn" or isinstance(dataset, SceneDataset):
        scenes = load_dataset(dataset, root=root, split=split)
        jitter = split == "train" if jitter is None else jitter
        return SVHNSequences(scenes, jitter=jitter, max_digits=max_digits)
    if dataset == "rendered":
        pool = rendered_digits(pool=split)
    elif isinstance(dataset, str):
        pool = _pool(dataset, str(resolve_root(root, dataset)), split)
    elif isinstance(dataset, LabelledImages):
        pool = dataset
    else:
        raise TypeError(
            f"dataset must be a name, LabelledImages or SceneDataset, got {type(dataset).__name__}"
        )
    return DigitCanvases(pool, canvas, canvas_size, num_clutter, clutter_size)
