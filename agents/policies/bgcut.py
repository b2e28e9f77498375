"""Oracle for BGCut: cut only background around the episode's target box, then terminate."""

from __future__ import annotations

from typing import Any

import numpy as np

from visenv.envs.bgcut_core import SCALES, TERMINATE, BGCutParams, covering_cuts, nearest_cuts

__all__ = ["BGCutOraclePolicy"]

# what each rule calls background, as the cut state that removes all of it
_RULES = {"centre": nearest_cuts, "enclose": covering_cuts}


class BGCutOraclePolicy:
    """Ground-truth policy over a batch, read from ``info`` (``target_box``, ``image_size``,
    ``cuts``).

    Every step it cuts from the side with the most background left around the target box (the
    class's largest object), as many units as are background there, at most 3; when no unit of
    background is left on any side it terminates. What counts as background is ``rule``:

    * ``"centre"`` (default): a unit (a cell of the default 28 x 28 map) whose centre lies
      outside the target box. The map has no finer part: it keeps or zeroes a whole cell,
      and keeps the cells whose centre lies in the kept box (:mod:`visenv.core.cuts`), so this
      is "cuts only background" read at the map's resolution. The final box is the target box
      rounded to the nearest unit boundaries (at least one unit kept each way).
    * ``"enclose"``: only a unit that lies wholly outside the target box. The final box is the
      target box snapped outwards to the units, so the oracle never removes a pixel of the
      object; it localises less (VOC07 test CorLoc 0.70 against 0.84, docs/bgcut.md),
      because a small object spans few units and its enclosing units add up to half its size
      on each axis.

    The units are the env's ``1 / grid`` cuts; on the default map (``grid`` equal to the map's
    side, 28 at 224 input) a unit is a cell.

    Args:
        params: The env's :class:`~visenv.envs.bgcut_core.BGCutParams` (``env.params``).
        rule: ``"centre"`` or ``"enclose"``.
    """

    def __init__(self, params: BGCutParams, rule: str = "centre") -> None:
        if rule not in _RULES:
            raise ValueError(f"rule must be one of {tuple(_RULES)}, got {rule!r}")
        self.params, self.rule = params, rule
        self._background = _RULES[rule]

    def __call__(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        limit = self._background(info["target_box"], info["image_size"], self.params.grid)
        margin = np.clip(limit - np.asarray(info["cuts"]), 0, None)
        side = np.argmax(margin, axis=1)  # top, bottom, left, right on ties
        room = margin[np.arange(len(margin)), side]
        scale = np.minimum(room, max(SCALES))
        return np.where(room > 0, len(SCALES) * side + scale - 1, TERMINATE).astype(np.int64)
