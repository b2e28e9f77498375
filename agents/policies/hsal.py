"""Oracle for HSAL: attend to a digit still to be named, glimpse it, name it, stop when done."""

from __future__ import annotations

from typing import Any

import numpy as np

from visenv.envs.hsal import HSALParams, Phase, encode_actions, mask_action_values

__all__ = ["HSALOraclePolicy", "oracle_targets"]


def oracle_targets(
    labels: np.ndarray, true_counts: np.ndarray, remaining: np.ndarray
) -> np.ndarray:
    """The digit each env should attend to next: ``[N]`` indices into ``labels``, -1 when none
    is left.

    Stateless: the oracle names the digits of a label in list order, so of the ``n_l`` digits
    with label ``l``, the first ``n_l - remaining_l`` are done, and the target is the first
    digit (in list order) that is not.

    Args:
        labels (ndarray[N, D]): Digit labels per env (-1 pads).
        true_counts (ndarray[N, C]): The true multiset as counts.
        remaining (ndarray[N, C]): The remaining multiset as counts.
    """
    n, d = labels.shape
    rows = np.arange(n)[:, None]
    safe = labels.clip(0, None)
    same = (labels[:, :, None] == labels[:, None, :]) & np.tri(d, k=-1, dtype=bool).T[None]
    rank = same.sum(1)  # digits of the same label before each digit
    done = (true_counts - remaining)[rows, safe]
    open_ = (labels >= 0) & (rank >= done)
    return np.where(open_.any(1), open_.argmax(1), -1)


class HSALOraclePolicy:
    """Ground-truth policy over a batch, read from ``info`` (``digit_boxes``, ``digit_labels``,
    ``remaining``, ``true_counts``, ``image_size``, ``phase``, ``glimpse_count``).

    * mask: all ``K`` components at the target digit's box centre, widest ``beta`` (1.5);
    * glimpse ``i``: the ``i``-th highest-priority cell among those the target box covers
      (its centre cell when the box covers fewer cells than glimpses);
    * classify: the target's true label, or stop when no digit is left.

    With nothing left to name, the mask goes to the grid centre and the glimpses follow the
    priority map, then it stops.

    Args:
        params: The env's :class:`~visenv.envs.hsal.HSALParams` (``env.params``).
    """

    def __init__(self, params: HSALParams) -> None:
        self.params = params

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> np.ndarray:
        p = self.params
        h, w = p.grid
        labels = np.asarray(info["digit_labels"])
        n = len(labels)
        target = oracle_targets(labels, info["true_counts"], info["remaining"])
        has = target >= 0
        rows = np.arange(n)
        boxes = np.asarray(info["digit_boxes"], float)[rows, target.clip(0, None)]
        size = np.asarray(info["image_size"], float)  # (H, W)
        # the target box in grid units (x1, y1, x2, y2); the whole grid when none is left
        scale = np.stack([w / size[:, 1], h / size[:, 0]] * 2, axis=1)
        grid_box = np.where(has[:, None], boxes * scale, [0.0, 0.0, w, h])
        centre_row = (grid_box[:, 1] + grid_box[:, 3]) / 2
        centre_col = (grid_box[:, 0] + grid_box[:, 2]) / 2
        k = np.ones((n, p.num_components))
        mask = mask_action_values(p, centre_row[:, None] * k, centre_col[:, None] * k)
        location = self._glimpse_cells(grid_box, obs["priority"], info["glimpse_count"])
        label = np.where(has, labels[rows, target.clip(0, None)], p.stop_label)
        phase = np.asarray(info["phase"])
        return encode_actions(
            p, n,
            mask=np.where((phase == Phase.MASK)[:, None], mask, 0.0),
            location=location,
            label=label,
        )  # fmt: skip

    def _glimpse_cells(
        self, grid_box: np.ndarray, priority: np.ndarray, count: np.ndarray
    ) -> np.ndarray:
        """``[N]`` flat cells: the ``count``-th best priority cell inside each box."""
        h, w = self.params.grid
        rows, cols = np.arange(h) + 0.5, np.arange(w) + 0.5
        inside_r = (rows >= grid_box[:, 1:2]) & (rows <= grid_box[:, 3:4])  # centre inside
        inside_c = (cols >= grid_box[:, 0:1]) & (cols <= grid_box[:, 2:3])
        inside = (inside_r[:, :, None] & inside_c[:, None, :]).reshape(len(grid_box), -1)
        centre = np.clip(
            ((grid_box[:, 1] + grid_box[:, 3]) / 2).astype(int), 0, h - 1
        ) * w + np.clip(((grid_box[:, 0] + grid_box[:, 2]) / 2).astype(int), 0, w - 1)
        inside[np.arange(len(inside)), centre] = True
        score = np.where(inside, np.asarray(priority).reshape(len(inside), -1), -1.0)
        order = np.argsort(-score, axis=1, kind="stable")
        pick = np.minimum(np.asarray(count), inside.sum(1) - 1)
        return order[np.arange(len(order)), pick]
