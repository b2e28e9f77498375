"""Oracle for DQ-SSTN: plan on the ground-truth salient box with the env's own transition."""

from __future__ import annotations

from typing import Any

import numpy as np

from visenv.core.boxes import box_iou
from visenv.envs.dqsstn import DQSSTNParams, ZoomTranslateAction, apply_zoom_translate

__all__ = ["DQSSTNOraclePolicy"]

A = ZoomTranslateAction


def _plans(steps: int) -> np.ndarray:
    """Every plan ``(zooms, dx, dy)`` of at most ``steps`` actions, shortest first: ``[P, 3]``."""
    plans = [
        (z, dx, dy)
        for z in range(steps + 1)
        for dx in range(-(steps - z), steps - z + 1)
        for dy in range(-(steps - z - abs(dx)), steps - z - abs(dx) + 1)
    ]
    plans = np.array(plans, dtype=np.int64)
    return plans[np.argsort(np.abs(plans).sum(axis=1), kind="stable")]


class DQSSTNOraclePolicy:
    """Model-predictive oracle on the salient IoU, read from ``info`` (ground truth).

    At every step it scores each plan of the remaining steps made of ``dx`` horizontal and
    ``dy`` vertical translations followed by ``z`` zooms (translating first takes the largest
    steps, since a step is a fixed share of the current window), simulated with the env's own
    :func:`apply_zoom_translate`, and takes the first action of the best plan: the translation
    along the axis with more steps left, else a zoom, else identity. It replans every step.

    Args:
        params: The env's :class:`DQSSTNParams` (``env.params``).
    """

    def __init__(self, params: DQSSTNParams) -> None:
        self.params = params
        self._plans = {steps: _plans(steps) for steps in range(params.horizon + 1)}

    def _simulate(self, views: np.ndarray, plans: np.ndarray) -> np.ndarray:
        """Final windows of every plan for every env: ``[N, 4]`` x ``[P, 3]`` -> ``[N, P, 4]``."""
        n, p = len(views), len(plans)
        boxes = np.repeat(views, p, axis=0)  # [N * P, 4], env-major
        zooms, dx, dy = (np.tile(plans[:, k], n) for k in range(3))
        for _ in range(int(np.abs(plans[:, 1]).max(initial=0))):
            moving = dx != 0
            act = np.where(dx > 0, A.RIGHT, A.LEFT)
            boxes[moving] = apply_zoom_translate(boxes[moving], act[moving], self.params)
            dx = dx - np.sign(dx)
        for _ in range(int(np.abs(plans[:, 2]).max(initial=0))):
            moving = dy != 0
            act = np.where(dy > 0, A.DOWN, A.UP)
            boxes[moving] = apply_zoom_translate(boxes[moving], act[moving], self.params)
            dy = dy - np.sign(dy)
        for _ in range(int(plans[:, 0].max(initial=0))):
            moving = zooms > 0
            zoom_in = np.full(moving.sum(), A.ZOOM_IN)
            boxes[moving] = apply_zoom_translate(boxes[moving], zoom_in, self.params)
            zooms = zooms - moving
        return boxes.reshape(n, p, 4)

    def __call__(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        views = np.asarray(info["view_box"], dtype=np.float64)
        salient = np.asarray(info["salient_box"], dtype=np.float64)
        steps_left = np.clip(self.params.horizon - np.asarray(info["step"]), 0, self.params.horizon)
        actions = np.full(len(views), A.IDENTITY, dtype=np.int64)
        for steps in np.unique(steps_left):
            group = np.flatnonzero(steps_left == steps)
            plans = self._plans[int(steps)]
            finals = self._simulate(views[group], plans)
            iou = box_iou(finals, salient[group][:, None, :])  # [G, P]; plan 0 stays put
            best = plans[np.argmax(iou, axis=1)]  # the first maximum is the shortest plan
            z, dx, dy = best[:, 0], best[:, 1], best[:, 2]
            horizontal = np.where(dx > 0, A.RIGHT, A.LEFT)
            vertical = np.where(dy > 0, A.DOWN, A.UP)
            move = np.where(np.abs(dx) >= np.abs(dy), horizontal, vertical)
            actions[group] = np.where(dx | dy, move, np.where(z > 0, A.ZOOM_IN, A.IDENTITY))
        return actions
