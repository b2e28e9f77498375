"""Tiny in-memory scene datasets (and a model) for env tests that must not depend on a reader."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from visenv.data import Scene, SceneDataset
from visenv.models.backbone import FeatureBackbone


class RectScenes(SceneDataset):
    """Noise images of varied size with 1-3 labelled rectangles (deterministic per index)."""

    name = "rects"
    classes = ("a", "b", "c", "d")

    def __init__(self, num_scenes: int = 12, seed: int = 0) -> None:
        super().__init__(cache_size=0)
        self.num_scenes, self.seed = num_scenes, seed

    def __len__(self) -> int:
        return self.num_scenes

    def _load(self, index: int) -> Scene:
        rng = np.random.default_rng([self.seed, index])
        h, w = int(rng.integers(60, 120)), int(rng.integers(60, 120))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        k = int(rng.integers(1, 4))
        x1, y1 = rng.uniform(0, w * 0.6, k), rng.uniform(0, h * 0.6, k)
        bw, bh = rng.uniform(5, w * 0.4, k), rng.uniform(5, h * 0.4, k)
        boxes = np.stack([x1, y1, np.minimum(x1 + bw, w), np.minimum(y1 + bh, h)], 1)
        return Scene(image, boxes, rng.integers(0, 4, k), image_id=str(index))


class BlockScenes(SceneDataset):
    """Black 64 x 64 images with one or two solid blocks of distinct pure colours; the class
    of a block is its colour channel (red, green, blue). Blocks lie on the 8-pixel grid and
    do not overlap, so every block covers whole cells of a stride-8 map."""

    name = "blocks"
    classes = ("red", "green", "blue")

    def __init__(self, num_scenes: int = 12, seed: int = 0, max_blocks: int = 2) -> None:
        super().__init__(cache_size=0)
        self.num_scenes, self.seed, self.max_blocks = num_scenes, seed, max_blocks

    def __len__(self) -> int:
        return self.num_scenes

    def _load(self, index: int) -> Scene:
        rng = np.random.default_rng([self.seed, index])
        image = np.zeros((64, 64, 3), dtype=np.uint8)
        taken = np.zeros((8, 8), dtype=bool)
        boxes, labels = [], []
        for label in rng.permutation(3)[: int(rng.integers(1, self.max_blocks + 1))]:
            for _ in range(50):
                w, h = (int(v) for v in rng.integers(2, 5, 2))  # 16 to 32 px
                x, y = int(rng.integers(0, 9 - w)), int(rng.integers(0, 9 - h))
                if not taken[y : y + h, x : x + w].any():
                    break
            else:
                continue
            taken[y : y + h, x : x + w] = True
            image[8 * y : 8 * (y + h), 8 * x : 8 * (x + w), label] = 255
            boxes.append([8 * x, 8 * y, 8 * (x + w), 8 * (y + h)])
            labels.append(int(label))
        return Scene(image, np.array(boxes, np.float32), np.array(labels), image_id=str(index))


class ChannelSumBackbone(FeatureBackbone):
    """A classifier whose score is how much of a class's colour the map holds.

    ``mid`` averages 8 x 8 pixels (3 channels, one per class), ``top`` sums 2 x 2 cells and
    ``classify`` gives ``logit_k = gain * sum(channel k) - bias``. Zeroing black background
    leaves every score as it was; zeroing part of a block lowers its class's score.
    """

    num_classes = mid_channels = top_channels = 3

    def __init__(self, gain: float = 0.5, bias: float = 3.0, image_size: int = 64) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(gain))
        self.bias, self.image_size = bias, image_size

    def mid(self, images: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(images, 8)

    def top(self, mid: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(mid, 2) * 4

    def classify(self, top: torch.Tensor) -> torch.Tensor:
        return self.gain * top.sum((2, 3)) - self.bias
