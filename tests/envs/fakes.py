"""A tiny in-memory scene dataset for env tests that must not depend on a reader."""

from __future__ import annotations

import numpy as np

from visenv.data import Scene, SceneDataset


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
