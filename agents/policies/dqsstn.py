"""Oracle for DQ-SSTN: plan on the ground-truth salient box with the env's own transition."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from visenv.core.boxes import box_iou
from visenv.envs.dqsstn import DQSSTNParams, ZoomTranslateAction, apply_zoom_translate

__all__ = ["DQSSTNOraclePolicy"]


class DQSSTNOraclePolicy:
    """Takes the first action of the ``depth``-step action sequence that maximises the salient
    IoU, read from ``info["view_box"]`` and ``info["salient_box"]``; identity when no
    sequence improves on staying put (identity wins ties, so the oracle stops at a peak).

    Args:
        params: The env's :class:`DQSSTNParams` (``env.params``), so the plan uses the same
            step sizes as the env.
        depth: Look-ahead in steps (``6 ** depth`` sequences are scored per env).
    """

    def __init__(self, params: DQSSTNParams, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.params = params
        self.sequences = np.array(
            list(itertools.product(range(len(ZoomTranslateAction)), repeat=depth))
        )  # [S, depth], identity-first in lexicographic order

    def __call__(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        views = np.asarray(info["view_box"], dtype=np.float64)  # [N, 4]
        salient = np.asarray(info["salient_box"], dtype=np.float64)
        n, s = len(views), len(self.sequences)
        boxes = np.repeat(views[None], s, axis=0).reshape(s * n, 4)
        best = np.zeros(s * n)
        for step in range(self.sequences.shape[1]):
            actions = np.repeat(self.sequences[:, step], n)
            boxes = apply_zoom_translate(boxes, actions, self.params)
            # a sequence is worth the best IoU it passes through (the agent may stop there)
            best = np.maximum(best, box_iou(boxes, np.tile(salient, (s, 1))))
        scores = best.reshape(s, n)
        current = box_iou(views, salient)
        first = self.sequences[np.argmax(scores, axis=0), 0]
        return np.where(scores.max(axis=0) > current + 1e-9, first, ZoomTranslateAction.IDENTITY)
