"""UnifiedAttn's two action formats, and the one set of decisions both decode to.

Paper 002 gives the agent three kinds of decision: a quadrant of the current region at each
top-down level (``Discrete(4)``, sec. 4.1), the next glimpse location in ``[-1, 1]^2`` (a
Gaussian policy, sec. 4.2) and the class (``Discrete(K)``). A Gymnasium space cannot change
during an episode, so every action carries all three and ``obs["phase"]`` says which one the
env reads. Two formats hold them:

* ``"dict"`` (the default, the paper's spaces literally): ``Dict(label=Discrete(K),
  location=Box(-1, 1, (2,)), quadrant=Discrete(4))``, ``quadrant`` only with top-down levels;
* ``"flat"``: one ``Box(-1, 1, (2 + 4 + K,))`` (:class:`ActionLayout`), location then quadrant
  and label scores whose argmax is the choice; stable-baselines3 trains no algorithm on
  ``Dict`` actions, but its Gaussian policies drive this ``Box``.

:meth:`ActionCodec.decode` checks a batch in either format (every part, in every phase: an
out-of-range quadrant is an error during the glimpses too) and returns the same
``(locations, picks, labels)`` arrays, so the env's step has one code path after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

from visenv.envs.base import check_box_actions, check_dict_keys, check_discrete_actions

__all__ = ["ACTION_FORMATS", "ActionCodec", "ActionFormat", "ActionLayout"]

ActionFormat = Literal["dict", "flat"]
ACTION_FORMATS: tuple[ActionFormat, ...] = ("dict", "flat")
Decisions = tuple[np.ndarray, np.ndarray, np.ndarray]  # locations [N, 2], picks [N], labels [N]


@dataclass(frozen=True)
class ActionLayout:
    """Where each decision sits in the flat ``Box(-1, 1, (size,))`` action.

    ``action[0:2]`` is the next glimpse location ``(x, y)``; then 4 quadrant scores (only when
    there are top-down levels), whose argmax is the pick; then one score per label, whose
    argmax is the prediction (ties: the lowest index). Each phase reads only its part.
    """

    num_quadrants: int  # 4, or 0 without top-down levels
    num_labels: int

    @property
    def location(self) -> slice:
        return slice(0, 2)

    @property
    def quadrant(self) -> slice:
        return slice(2, 2 + self.num_quadrants)

    @property
    def label(self) -> slice:
        start = 2 + self.num_quadrants
        return slice(start, start + self.num_labels)

    @property
    def size(self) -> int:
        return 2 + self.num_quadrants + self.num_labels

    def encode(
        self,
        num_envs: int,
        location: Any = None,
        quadrant: Any = None,
        label: Any = None,
    ) -> np.ndarray:
        """Actions ``float32 [num_envs, size]`` from locations ``[N, 2]``, picks ``[N]`` and
        labels ``[N]`` (each optional): chosen scores are 1, the others -1."""
        out = np.full((num_envs, self.size), -1.0, dtype=np.float32)
        out[:, self.location] = 0.0 if location is None else np.asarray(location)
        rows = np.arange(num_envs)
        if quadrant is not None and self.num_quadrants:
            out[rows, self.quadrant.start + np.asarray(quadrant, dtype=np.int64)] = 1.0
        if label is not None:
            out[rows, self.label.start + np.asarray(label, dtype=np.int64)] = 1.0
        return out

    def decode(self, actions: np.ndarray) -> Decisions:
        """``(locations [N, 2] float64, picks [N], labels [N])`` of checked actions."""
        picks = (
            actions[:, self.quadrant].argmax(axis=1)
            if self.num_quadrants
            else np.zeros(len(actions), dtype=np.int64)
        )
        return actions[:, self.location], picks, actions[:, self.label].argmax(axis=1)


class ActionCodec:
    """One action format of a UnifiedAttn env: its single action space, batches of valid
    actions, and the decisions a batch holds.

    Args:
        action_format: ``"dict"`` or ``"flat"`` (module docstring).
        num_quadrants: 4 with top-down levels, else 0 (RAM: no ``quadrant`` part).
        num_labels: ``K``, the classes (SVHN: 10 digits and the terminal label).
    """

    def __init__(self, action_format: ActionFormat, num_quadrants: int, num_labels: int) -> None:
        if action_format not in ACTION_FORMATS:
            raise ValueError(
                f"action_format must be one of {ACTION_FORMATS}, got {action_format!r}"
            )
        self.format = action_format
        self.layout = ActionLayout(num_quadrants, num_labels)
        if action_format == "flat":
            self.space: spaces.Space = spaces.Box(-1.0, 1.0, (self.layout.size,), np.float32)
            return
        parts: dict[str, spaces.Space] = {
            "location": spaces.Box(-1.0, 1.0, (2,), np.float32),
            "label": spaces.Discrete(num_labels),
        }
        if num_quadrants:
            parts["quadrant"] = spaces.Discrete(num_quadrants)
        self.space = spaces.Dict(parts)
        self._keys = frozenset(parts)

    def encode(
        self,
        num_envs: int,
        location: Any = None,
        quadrant: Any = None,
        label: Any = None,
    ) -> Any:
        """A batch of ``num_envs`` actions in this format: locations ``[N, 2]``, picks ``[N]``
        and labels ``[N]``, each optional (missing parts: location 0, quadrant 0, label 0)."""
        if self.format == "flat":
            return self.layout.encode(num_envs, location=location, quadrant=quadrant, label=label)
        out = {
            "location": np.zeros((num_envs, 2), dtype=np.float32)
            if location is None
            else np.asarray(location, dtype=np.float32).reshape(num_envs, 2),
            "label": _ints(label, num_envs),
        }
        if self.layout.num_quadrants:
            out["quadrant"] = _ints(quadrant, num_envs)
        return out

    def decode(self, actions: Any, num_envs: int) -> Decisions:
        """Check a batch of ``num_envs`` actions and return ``(locations float64 [N, 2],
        picks int64 [N], labels int64 [N])`` (picks are 0 without top-down levels).

        Raises:
            TypeError: Not this format (a ``Box`` array for ``"dict"``, ...), or a part of
                the wrong dtype.
            ValueError: Missing or unknown keys, a wrong shape, or a value outside its space.
        """
        if self.format == "flat":
            checked = check_box_actions(actions, self.space, num_envs)
            return self.layout.decode(checked)
        check_dict_keys(actions, self._keys, self.space)
        parts = self.space.spaces
        locations = check_box_actions(
            actions["location"], parts["location"], num_envs, name="actions['location']"
        )
        labels = check_discrete_actions(
            actions["label"], parts["label"].n, num_envs, parts["label"], name="actions['label']"
        )
        if not self.layout.num_quadrants:
            return locations, np.zeros(num_envs, dtype=np.int64), labels
        picks = check_discrete_actions(
            actions["quadrant"], 4, num_envs, parts["quadrant"], name="actions['quadrant']"
        )
        return locations, picks, labels


def _ints(values: Any, num_envs: int) -> np.ndarray:
    if values is None:
        return np.zeros(num_envs, dtype=np.int64)
    return np.broadcast_to(np.asarray(values, dtype=np.int64), (num_envs,)).copy()
