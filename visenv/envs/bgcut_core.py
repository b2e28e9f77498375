"""BGCut's pure batched core: actions, cuts, rewards and episode ends (paper 004, sec. 2.2).

No gymnasium and no model here: every function maps batched state arrays (numpy, or torch
tensors on any device) to the next ones, so :mod:`visenv.envs.bgcut` and the oracle run the same
lines. The feature-map kernels (zeroing, heat-map regions) are in :mod:`visenv.core.cuts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import torch

from visenv.data import SceneDataset

__all__ = [
    "NUM_ACTIONS",
    "SCALES",
    "TERMINATE",
    "BGCutParams",
    "CutSide",
    "apply_cuts",
    "covering_cuts",
    "cut_action",
    "episode_pairs",
    "history_one_hot",
    "nearest_cuts",
    "push_history",
    "step_rewards",
    "target_box",
]

#: Cut sizes in units of ``1 / grid`` (sec. 2.2: 1/28, 2/28, 3/28 of the map).
SCALES = (1, 2, 3)
#: Action ``3 * side + scale - 1`` cuts ``scale`` units from ``side``; the last one terminates.
TERMINATE = 4 * len(SCALES)
NUM_ACTIONS = TERMINATE + 1
MIN_EXTENT = 1  # units the kept box keeps in each direction: a cut never empties the map


class CutSide(IntEnum):
    """The side a cut removes the map from (the paper's up, down, left, right)."""

    TOP = 0
    BOTTOM = 1
    LEFT = 2
    RIGHT = 3


def cut_action(side: CutSide | int, scale: int) -> int:
    """The action that cuts ``scale`` (1, 2 or 3) units from ``side``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return 3 * int(CutSide(side)) + scale - 1


@dataclass(frozen=True)
class BGCutParams:
    """Constants of the MDP.

    Attributes:
        grid: Units per side of the map; a cut removes 1, 2 or 3 of them (28, sec. 2.2).
        history: Past actions in the state (4, sec. 2.2).
        eta: Size of the terminate reward (Eq. 2); the paper does not give it, 3 is the
            largest cut's reward and Caicedo & Lazebnik's trigger reward.
        max_steps: Steps after which an episode is truncated.
        end_ratio: The episode ends when the class score falls under ``end_ratio`` times the
            uncut map's score (the paper's "pre-defined threshold", set per episode so that a
            class the classifier scores low does not end at once); 0 never ends on the score.
        image_size: Side the image is resized to before the classifier (224 -> 28 x 28 map).
    """

    grid: int = 28
    history: int = 4
    eta: float = 3.0
    max_steps: int = 40
    end_ratio: float = 0.5
    image_size: int = 224

    def __post_init__(self) -> None:
        if self.grid < 2:
            raise ValueError(f"grid must be >= 2 units, got {self.grid}")
        if self.history < 0:
            raise ValueError(f"history must be >= 0 actions, got {self.history}")
        if self.eta < 0:
            raise ValueError(f"eta must be >= 0 (it is the reward's size), got {self.eta}")
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if not 0.0 <= self.end_ratio <= 1.0:
            raise ValueError(f"end_ratio must lie in [0, 1], got {self.end_ratio}")
        if self.image_size < 16 or self.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {self.image_size}")


# -- transitions -------------------------------------------------------------------------------
def apply_cuts(cuts: Any, actions: Any, grid: int) -> tuple[Any, Any, Any, Any]:
    """Apply one action per env to the cut states.

    A cut that would leave less than one unit in its direction removes what it can; in a
    direction already at one unit it removes nothing.

    Args:
        cuts (Array[N, 4] int): ``(top, bottom, left, right)`` units cut so far.
        actions (Array[N] int): Actions in ``[0, NUM_ACTIONS)``.
        grid: Units per side.

    Returns:
        ``(next_cuts [N, 4], removed [N], scale [N], is_cut [N] bool)``: ``removed`` units
        actually cut, ``scale`` the units asked for (0 for terminate).
    """
    is_cut = actions < TERMINATE
    side = actions // len(SCALES) * is_cut
    scale = (actions % len(SCALES) + 1) * is_cut
    extent = grid - cuts[:, 0::2] - cuts[:, 1::2]  # [N, 2]: height, width units kept
    axis = side // 2  # 0: top/bottom (height), 1: left/right (width)
    rows = _arange(cuts, len(cuts))
    room = extent[rows, axis] - MIN_EXTENT
    removed = _minimum(scale, room)
    one_hot = side[:, None] == _arange(cuts, 4)[None, :]
    return cuts + one_hot * removed[:, None], removed, scale, is_cut


def step_rewards(is_cut: Any, removed: Any, scale: Any, score_ok: Any, eta: float) -> Any:
    """Rewards of Eq. 1 and 2, ``float64 [N]``.

    A cut earns ``+removed`` if the class score dropped by at most ``delta`` from the uncut
    map's (``score_ok``), else ``-removed`` (the paper's ``+-scale``; they differ only for a cut
    that hit the one-unit minimum). A cut that removes nothing earns ``-scale``: it must not
    collect the reward for cutting background. Terminate earns ``+eta`` or ``-eta`` by the
    same test.
    """
    sign = score_ok * 2.0 - 1.0
    cut_reward = _where(removed > 0, sign * removed, -1.0 * scale)
    return _where(is_cut, cut_reward, sign * eta)


def covering_cuts(boxes: np.ndarray, image_sizes: np.ndarray, grid: int) -> np.ndarray:
    """The largest cut state that keeps each box whole: the box snapped outwards to the grid.

    Args:
        boxes (ndarray[N, 4]): Boxes in image pixels.
        image_sizes (ndarray[N, 2]): ``(H, W)`` of each image.
        grid: Units per side.

    Returns:
        ``int64 [N, 4]``: ``(top, bottom, left, right)`` units of background around each box.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    h, w = (np.asarray(image_sizes, dtype=np.float64).reshape(-1, 2)[:, k] for k in range(2))
    units = np.stack(
        [boxes[:, 1] / h, (h - boxes[:, 3]) / h, boxes[:, 0] / w, (w - boxes[:, 2]) / w], axis=1
    )
    # the tolerance keeps a box edge that lies on a unit boundary from losing that unit
    return np.floor(np.clip(units, 0.0, 1.0) * grid + 1e-9).astype(np.int64)


def nearest_cuts(boxes: np.ndarray, image_sizes: np.ndarray, grid: int) -> np.ndarray:
    """The cut state that removes every unit whose centre lies outside each box, and no other.

    A unit strip is background when its centre lies outside the box (edges inclusive), the
    test the map itself applies to a cell (:mod:`visenv.core.cuts`): the kept part is the box
    rounded to the nearest unit boundaries. Where no unit centre lies inside (a box thinner
    than a unit, between two centres) the unit holding the box's centre is kept, since a cut
    state keeps at least one unit in each direction.

    Args:
        boxes (ndarray[N, 4]): Boxes in image pixels.
        image_sizes (ndarray[N, 2]): ``(H, W)`` of each image.
        grid: Units per side.

    Returns:
        ``int64 [N, 4]``: ``(top, bottom, left, right)`` units, each pair summing to at most
        ``grid - 1``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    h, w = (np.asarray(image_sizes, dtype=np.float64).reshape(-1, 2)[:, k] for k in range(2))
    # box edges in units, from each side: (top, bottom, left, right) and the far edges
    near = np.clip(np.stack([boxes[:, 1] / h, boxes[:, 0] / w], 1), 0.0, 1.0) * grid
    far = np.clip(np.stack([boxes[:, 3] / h, boxes[:, 2] / w], 1), 0.0, 1.0) * grid
    # units before the near edge whose centre i + 0.5 < edge; the tolerance keeps a centre
    # that lies on an edge (inside, edges inclusive) from being counted as outside
    before = np.ceil(near - 0.5 - 1e-9).clip(0, grid).astype(np.int64)
    after = np.ceil(grid - far - 0.5 - 1e-9).clip(0, grid).astype(np.int64)
    # no centre inside: keep the unit under the box's centre
    empty = before + after > grid - MIN_EXTENT
    middle = np.floor((near + far) / 2).clip(0, grid - 1).astype(np.int64)
    before = np.where(empty, middle, before)
    after = np.where(empty, grid - 1 - middle, after)
    return np.stack([before[:, 0], after[:, 0], before[:, 1], after[:, 1]], axis=1)


def push_history(history: Any, actions: Any) -> Any:
    """Past actions, most recent first: ``[N, H]`` int with ``-1`` for none -> ``[N, H]``."""
    if history.shape[1] == 0:
        return history
    if isinstance(history, torch.Tensor):
        return torch.cat([actions[:, None], history[:, :-1]], dim=1)
    return np.concatenate([actions[:, None], history[:, :-1]], axis=1)


def history_one_hot(history: Any) -> Any:
    """The past actions as one vector of ``H`` one-hot blocks, ``float32 [N, H * NUM_ACTIONS]``,
    the most recent first; an action not yet taken is a block of zeros (sec. 2.2: "a vector of
    4 past executed actions, encoded as a one-hot vector")."""
    one_hot = history[..., None] == _arange(history, NUM_ACTIONS)
    flat = one_hot.reshape(len(history), -1)
    return flat.float() if isinstance(flat, torch.Tensor) else flat.astype(np.float32)


# -- episodes ----------------------------------------------------------------------------------
def episode_pairs(
    dataset: SceneDataset, scenes: Any = None, max_pairs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(scene, class)`` pair with the class present in the scene (difficult included).

    Args:
        dataset: The scenes (only annotations are read).
        scenes: Scene indices to enumerate, in order; default all.
        max_pairs: Stop after this many pairs.

    Returns:
        ``(scene_index int64 [P], label int64 [P])``, scenes in order, classes ascending.
    """
    scenes = range(len(dataset)) if scenes is None else scenes
    scene_ids: list[int] = []
    labels: list[int] = []
    for index in scenes:
        present = np.unique(dataset.annotation(int(index))[1])
        scene_ids += [int(index)] * len(present)
        labels += present.tolist()
        if max_pairs is not None and len(labels) >= max_pairs:
            break
    cut = len(labels) if max_pairs is None else max_pairs
    return np.array(scene_ids[:cut], dtype=np.int64), np.array(labels[:cut], dtype=np.int64)


def target_box(boxes: np.ndarray, labels: np.ndarray, difficult: np.ndarray, label: int) -> Any:
    """The object of class ``label`` an episode localises: its largest non-difficult box (the
    largest box if all are difficult), ``float64 [4]``. One object per class and image, as the
    paper evaluates (sec. 3.3)."""
    mine = labels == label
    if not mine.any():
        raise ValueError(f"class {label} is not in the scene (classes {np.unique(labels)})")
    pick = mine & ~difficult if (mine & ~difficult).any() else mine
    candidates = boxes[pick].astype(np.float64)
    area = (candidates[:, 2] - candidates[:, 0]) * (candidates[:, 3] - candidates[:, 1])
    return candidates[int(np.argmax(area))]


def _arange(like: Any, n: int) -> Any:
    if isinstance(like, torch.Tensor):
        return torch.arange(n, device=like.device)
    return np.arange(n)


def _minimum(a: Any, b: Any) -> Any:
    return torch.minimum(a, b) if isinstance(a, torch.Tensor) else np.minimum(a, b)


def _where(cond: Any, a: Any, b: Any) -> Any:
    if isinstance(cond, torch.Tensor):
        a = a if isinstance(a, torch.Tensor) else torch.as_tensor(a, device=cond.device)
        b = b if isinstance(b, torch.Tensor) else torch.as_tensor(b, device=cond.device)
        return torch.where(cond, a.double(), b.double())
    return np.where(cond, a, b).astype(np.float64)
