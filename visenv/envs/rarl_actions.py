"""RARL's two action formats, and the one pair of decisions both decode to.

At every iteration the agent of paper 003 takes two actions at once (Eq. 2, "Action"): the
label scores ``a_tr`` of each of the ``k`` current regions, and the next location ``l_{t+1}``.
Two formats hold them:

* ``"dict"`` (the default, the paper's action literally): ``Dict(location=Box(-1, 1, (2,)),
  scores=Box(0, 1, (k, K)))``: one score per region and label, read as a probability;
* ``"flat"``: one ``Box(-1, 1, (2 + k * K,))`` (:class:`ActionLayout`), the location then the
  scores region by region, each mapped to ``[0, 1]`` by ``(x + 1) / 2``. stable-baselines3
  trains no algorithm on ``Dict`` actions, but its Gaussian policies drive this ``Box``.

:meth:`ActionCodec.decode` checks a batch in either format (every part, at every iteration:
scores out of range are an error even at iteration 0, where the env does not read them) and
returns the same ``(locations, scores)`` arrays, so the env's step has one code path after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from visenv.envs.base import check_box_actions, check_dict_keys

__all__ = ["ACTION_FORMATS", "ActionCodec", "ActionFormat", "ActionLayout"]

ActionFormat = Literal["dict", "flat"]
ACTION_FORMATS: tuple[ActionFormat, ...] = ("dict", "flat")
Decisions = tuple[np.ndarray, np.ndarray]  # locations [N, 2], scores [N, k, K] in [0, 1]


@dataclass(frozen=True)
class ActionLayout:
    """Where each decision sits in the flat ``Box(-1, 1, (size,))`` action.

    ``action[0:2]`` is the next location ``(x, y)``; ``action[2:]`` holds the ``k x K`` scores,
    region-major (``2 + r * K + c`` is region ``r``, label ``c``), each ``x`` read as the
    score ``(x + 1) / 2``.
    """

    num_regions: int
    num_labels: int

    @property
    def location(self) -> slice:
        return slice(0, 2)

    @property
    def scores(self) -> slice:
        return slice(2, self.size)

    @property
    def size(self) -> int:
        return 2 + self.num_regions * self.num_labels

    def encode(self, num_envs: int, location: Any = None, scores: Any = None) -> np.ndarray:
        """Actions ``float32 [num_envs, size]`` from locations ``[N, 2]`` and scores
        ``[N, k, K]`` in ``[0, 1]`` (missing: location 0, scores 0)."""
        out = np.full((num_envs, self.size), -1.0, dtype=np.float32)
        out[:, self.location] = 0.0 if location is None else np.asarray(location)
        if scores is not None:
            flat = np.asarray(scores, dtype=np.float64).reshape(num_envs, -1)
            out[:, self.scores] = flat * 2 - 1
        return out

    def decode(self, actions: np.ndarray) -> Decisions:
        """``(locations [N, 2], scores [N, k, K])`` of checked actions, both float64."""
        scores = (actions[:, self.scores] + 1) / 2
        return actions[:, self.location], scores.reshape(-1, self.num_regions, self.num_labels)


class ActionCodec:
    """One action format of a RARL env: its single action space, batches of valid actions,
    and the decisions a batch holds.

    Args:
        action_format: ``"dict"`` or ``"flat"`` (module docstring).
        num_regions: ``k``, the anchor regions per iteration (9).
        num_labels: ``K``, the classes.
    """

    def __init__(self, action_format: ActionFormat, num_regions: int, num_labels: int) -> None:
        if action_format not in ACTION_FORMATS:
            raise ValueError(
                f"action_format must be one of {ACTION_FORMATS}, got {action_format!r}"
            )
        self.format = action_format
        self.layout = ActionLayout(num_regions, num_labels)
        if action_format == "flat":
            self.space: spaces.Space = spaces.Box(-1.0, 1.0, (self.layout.size,), np.float32)
            return
        self.space = spaces.Dict({
            "location": spaces.Box(-1.0, 1.0, (2,), np.float32),
            "scores": spaces.Box(0.0, 1.0, (num_regions, num_labels), np.float32),
        })  # fmt: skip
        self._keys = frozenset(self.space.spaces)

    def encode(self, num_envs: int, location: Any = None, scores: Any = None) -> Any:
        """A batch of ``num_envs`` actions in this format from locations ``[N, 2]`` and
        scores ``[N, k, K]`` in ``[0, 1]``, each optional (missing: location 0, scores 0)."""
        if self.format == "flat":
            return self.layout.encode(num_envs, location=location, scores=scores)
        shape = (num_envs, self.layout.num_regions, self.layout.num_labels)
        return {
            "location": np.zeros((num_envs, 2), dtype=np.float32)
            if location is None
            else np.asarray(location, dtype=np.float32).reshape(num_envs, 2),
            "scores": np.zeros(shape, dtype=np.float32)
            if scores is None
            else np.asarray(scores, dtype=np.float32).reshape(shape),
        }

    def decode(self, actions: Any, num_envs: int) -> Decisions:
        """Check a batch of ``num_envs`` actions and return ``(locations float64 [N, 2],
        scores float64 [N, k, K] in [0, 1])``.

        Raises:
            TypeError: Not this format (a ``Box`` array for ``"dict"``, ...), or a part of
                the wrong dtype.
            ValueError: Missing or unknown keys, a wrong shape, or a value outside its space.
        """
        if self.format == "flat":
            return self.layout.decode(check_box_actions(actions, self.space, num_envs))
        check_dict_keys(actions, self._keys, self.space)
        parts = self.space.spaces
        locations = check_box_actions(
            actions["location"], parts["location"], num_envs, name="actions['location']"
        )
        scores = check_box_actions(
            actions["scores"], parts["scores"], num_envs, name="actions['scores']"
        )
        return locations, scores
