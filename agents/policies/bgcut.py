"""Oracle for BGCut: cut only background outside the episode's target box, then terminate."""

from __future__ import annotations

from typing import Any

import numpy as np

from visenv.envs.bgcut_core import SCALES, TERMINATE, BGCutParams, covering_cuts

__all__ = ["BGCutOraclePolicy"]


class BGCutOraclePolicy:
    """Ground-truth policy over a batch, read from ``info`` (``target_box``, ``image_size``,
    ``cuts``).

    Every step it cuts from the side with the most background left outside the target box
    (the class's largest object), as many units as are background there, at most 3; when no
    whole unit of background is left on any side it terminates. Its final box is the target
    box snapped outwards to the ``1 / grid`` units, and it never cuts into the object.

    Args:
        params: The env's :class:`~visenv.envs.bgcut_core.BGCutParams` (``env.params``).
    """

    def __init__(self, params: BGCutParams) -> None:
        self.params = params

    def __call__(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        limit = covering_cuts(info["target_box"], info["image_size"], self.params.grid)
        margin = np.clip(limit - np.asarray(info["cuts"]), 0, None)
        side = np.argmax(margin, axis=1)  # top, bottom, left, right on ties
        room = margin[np.arange(len(margin)), side]
        scale = np.minimum(room, max(SCALES))
        return np.where(room > 0, len(SCALES) * side + scale - 1, TERMINATE).astype(np.int64)
