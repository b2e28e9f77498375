"""SVHN Multiset (HSAL, paper 001, sec. 5): house numbers whose digits form a multiset.

"SVHN Multiset consists of SVHN examples with label order randomized when a batch is
sampled. This removes the natural left-to-right order of the SVHN labels." This adapter over
:class:`~visenv.data.SVHNFormat1` gives each scene its digits in a random order (a permutation
drawn from ``default_rng([seed, index])``, so the dataset stays deterministic); the HSAL env
draws a fresh order from the env's own generator at every reset, which is the paper's
"when a batch is sampled".

The paper does not say how SVHN images are framed; here each image is cut to a square around
its digits (the union of the digit boxes, its longer side grown by ``margin`` = 30% as in Ba
et al.'s multi-digit SVHN set-up, centred; outside the image reads black) and resized to
``canvas_size`` (100 px, the MNIST canvases' size), keeping the aspect ratio. Boxes follow.

**No SVHN data reaches the machines visenv is developed on**: this adapter is tested on small
``digitStruct.mat`` files written by :func:`~visenv.data.write_digitstruct`; run it on the real
data before trusting it there.
"""

from __future__ import annotations

import os

import numpy as np

from visenv.core.crop import crop_and_resize
from visenv.data.registry import register_reader
from visenv.data.scene import DatasetFormatError, Scene, SceneDataset
from visenv.data.svhn import SVHNFormat1

__all__ = ["MAX_SVHN_DIGITS", "SVHNMultiset", "square_frame"]

MAX_SVHN_DIGITS = 6  # the most digits of any SVHN format-1 image (one train image has 6)


def square_frame(boxes: np.ndarray, margin: float) -> np.ndarray:
    """The square ``(x1, y1, x2, y2)`` centred on the union of ``boxes [K, 4]`` whose side is
    the union's longer side times ``1 + margin``."""
    x1, y1 = boxes[:, 0].min(), boxes[:, 1].min()
    x2, y2 = boxes[:, 2].max(), boxes[:, 3].max()
    side = max(x2 - x1, y2 - y1, 1.0) * (1 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])


@register_reader("svhn_multiset")
class SVHNMultiset(SceneDataset):
    """SVHN format-1 images as multiset scenes, digits in random order (module docstring).

    ``Scene.image`` is the ``[S, S, 3]`` square frame around the digits, ``Scene.boxes`` and
    ``Scene.labels`` the digits in a random order, ``extras["multiset"]`` the labels sorted.

    Args:
        root: Folder holding the split folders; default ``$VISENV_DATA/svhn``.
        split: ``"train"``, ``"test"`` or ``"extra"``.
        canvas_size: Side ``S`` of the frames.
        margin: How much the frame's side exceeds the digits' extent (0.3 = 30%).
        seed: Selects the per-scene label order.
        cache_size: Decoded scenes kept in memory.

    Raises:
        DatasetNotFoundError: As :class:`~visenv.data.SVHNFormat1` (the message names the path).
        DatasetFormatError: A scene has more than :data:`MAX_SVHN_DIGITS` digits (when read).
    """

    classes = SVHNFormat1.classes
    max_digits = MAX_SVHN_DIGITS

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        split: str = "train",
        canvas_size: int = 100,
        margin: float = 0.3,
        seed: int = 0,
        cache_size: int = 256,
    ) -> None:
        super().__init__(cache_size)
        if canvas_size < 8 or margin < 0:
            raise ValueError(f"need canvas_size >= 8 and margin >= 0, got {canvas_size}, {margin}")
        self.source = SVHNFormat1(root, split, cache_size=0)
        self.name = f"svhn-{split}-multiset"
        self.split, self.canvas_size, self.margin, self.seed = split, canvas_size, margin, seed

    def __len__(self) -> int:
        return len(self.source)

    def _load(self, index: int) -> Scene:
        scene = self.source[index]
        if len(scene.labels) > MAX_SVHN_DIGITS:
            raise DatasetFormatError(
                f"{self.source.digitstruct_path}: entry {index} has {len(scene.labels)} digits; "
                f"SVHN Multiset expects at most {MAX_SVHN_DIGITS}"
            )
        frame = square_frame(scene.boxes.astype(np.float64), self.margin)
        size = (self.canvas_size, self.canvas_size)
        image = crop_and_resize([scene.image], frame[None], size)[0]
        scale = self.canvas_size / (frame[2] - frame[0])
        boxes = (scene.boxes - np.tile(frame[:2], 2)) * scale
        order = np.random.default_rng([self.seed, index]).permutation(len(scene.labels))
        return Scene(
            image=image,
            boxes=boxes[order],
            labels=scene.labels[order],
            image_id=scene.image_id,
            extras={"multiset": tuple(sorted(int(v) for v in scene.labels))},
        )

    def __repr__(self) -> str:
        return f"SVHNMultiset(source={self.source!r}, canvas_size={self.canvas_size})"
