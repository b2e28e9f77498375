"""Oracle for RARL: look at ground-truth box centres, score the true labels the regions cover."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from visenv.core.boxes import anchor_boxes, box_area, pixel_to_normalized
from visenv.envs.rarl import RARLVectorEnv

__all__ = ["RARLBackbonePolicy", "RARLOraclePolicy", "covered_objects"]


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def covered_objects(regions: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which objects each region covers: bool ``[..., k, M]``, true where the centre of box
    ``m`` lies inside region ``r`` (``regions [..., k, 4]``, ``boxes [M, 4]``, same frame)."""
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2  # [M, 2]
    lo, hi = regions[..., None, :2], regions[..., None, 2:]  # [..., k, 1, 2]
    return ((lo <= centres) & (centres < hi)).all(axis=-1)


class RARLOraclePolicy:
    """Ground-truth policy (reads ``info`` and the env's object boxes).

    * Scores: 1 for the label of every object whose box centre lies inside a region, 0 for
      every other label (so it never scores a label the scene lacks).
    * Next location: the centre of the object box whose 9 anchors would cover the most labels
      not yet covered (greedy set cover; ties go to the larger box); once every label is
      covered, the centre of the largest box.

    Every call returns both decisions in the env's ``action_format``.

    Args:
        env: The native vector env (``gym.make_vec(..., vectorization_mode=
            "vector_entry_point")``); its ``object_boxes()`` are read at every call.
    """

    def __init__(self, env: RARLVectorEnv) -> None:
        self.env = env
        self.params = env.params
        self.codec = env.action_codec

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        p = self.params
        n = self.env.num_envs
        iteration = _numpy(info["iteration"])
        regions = _numpy(info["region_boxes"])
        fused = _numpy(info["fused_scores"])
        scores = np.zeros((n, p.num_regions, p.num_labels), dtype=np.float32)
        locations = np.zeros((n, 2))
        for i, (boxes, labels) in enumerate(self.env.object_boxes()):
            seen = fused[i] > 0  # labels scored at earlier iterations
            if 1 <= iteration[i] <= p.num_iterations:  # R_0 (the whole image) is not scored
                inside = covered_objects(regions[i], boxes)  # [k, M]
                for r in range(p.num_regions):
                    scores[i, r, labels[inside[r]]] = 1.0
                seen[labels[inside.any(axis=0)]] = True
            locations[i] = self._next_location(boxes, labels, seen)
        return self.codec.encode(n, location=locations, scores=scores)

    def _next_location(self, boxes: np.ndarray, labels: np.ndarray, seen: np.ndarray) -> Any:
        """The box centre (in ``[-1, 1]^2``) whose anchors cover most unseen labels."""
        p = self.params
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2  # [M, 2]
        anchors = anchor_boxes(centres, p.sides, p.aspect_ratios)  # [M, k, 4]
        reach = covered_objects(anchors, boxes).any(axis=1)  # [M (centre), M (object)]
        new = np.zeros((len(boxes), p.num_labels), dtype=bool)
        rows, objects = np.nonzero(reach)
        new[rows, labels[objects]] = True
        gain = (new & ~seen).sum(axis=1)
        order = np.lexsort((-box_area(boxes), -gain))  # most new labels, then the larger box
        best = centres[order[0]]
        return np.clip(pixel_to_normalized(best, p.image_size, p.image_size), -1.0, 1.0)


class RARLBackbonePolicy:
    """A baseline between random and oracle: random locations, and each region scored by the
    env's own backbone head (``sigmoid(backbone.classify(f_tr))``).

    The paper's "random" ablation (Table 3: random locations, 9 anchors each) with the
    backbone's multi-label head as the region classifier; a learned agent should place its
    regions better than this and score them at least as well.

    Args:
        env: The native vector env; its ``backbone`` scores the observed region features.
        seed: Seed of the locations.
    """

    def __init__(self, env: RARLVectorEnv, seed: int | None = None) -> None:
        self.env = env
        self.codec = env.action_codec
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        env = self.env
        regions = torch.as_tensor(obs["regions"], device=env.device)  # [N, k, C, S, S]
        with torch.no_grad():
            logits = env.backbone.classify(regions.flatten(0, 1))
        scores = torch.sigmoid(logits).reshape(regions.shape[0], regions.shape[1], -1)
        locations = self.rng.uniform(-1.0, 1.0, (env.num_envs, 2))
        return self.codec.encode(env.num_envs, location=locations, scores=_numpy(scores))
