"""Oracle for UnifiedAttn / RAM: pick the quadrant holding the object, glimpse on its pixels,
name the true label."""

from __future__ import annotations

from typing import Any

import numpy as np

from visenv.core.glimpses import all_quadrants, glimpse_boxes
from visenv.data.canvases import boxes_to_masks
from visenv.envs.unifiedattn import Phase, UnifiedAttnVectorEnv

__all__ = ["UnifiedAttnOraclePolicy", "greedy_glimpse_locations"]


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def greedy_glimpse_locations(gain: np.ndarray, size: int) -> np.ndarray:
    """Centre of the ``size x size`` window holding most ``gain`` pixels, per image.

    Args:
        gain (ndarray[N, H, W] bool): Pixels worth covering (object pixels not yet seen).
        size: Window side in pixels (the finest glimpse patch).

    Returns:
        Locations ``[N, 2]`` in ``[-1, 1]^2``; where nothing is left to gain, the centre of
        the image.
    """
    n, height, width = gain.shape
    integral = np.zeros((n, height + 1, width + 1), dtype=np.int64)
    integral[:, 1:, 1:] = gain.cumsum(axis=1).cumsum(axis=2)
    sums = (
        integral[:, size:, size:]
        - integral[:, :-size, size:]
        - integral[:, size:, :-size]
        + integral[:, :-size, :-size]
    )  # [N, H - size + 1, W - size + 1]: windows with top-left (row, col)
    best = sums.reshape(n, -1).argmax(axis=1)
    row, col = np.divmod(best, sums.shape[2])
    centre = np.stack([col + size / 2, row + size / 2], axis=1)
    locations = centre / [width, height] * 2 - 1
    empty = sums.reshape(n, -1).max(axis=1) == 0
    locations[empty] = 0.0
    return locations


class UnifiedAttnOraclePolicy:
    """Ground-truth policy (reads ``info`` and the env's object masks).

    * PICK: the quadrant of the current region holding the centre of the (first) object's box
      (for a digit, the box of its ink);
    * GLIMPSE: the window (finest patch) covering most not-yet-covered pixels of the object
      being read (the digit currently named, for SVHN), greedily;
    * PREDICT: the true label, and the first glimpse on the next digit of a sequence.

    Every call returns all three decisions in the env's ``action_format`` (a ``Dict`` batch or
    the flat ``Box`` batch).

    Args:
        env: The native vector env (``gym.make_vec(..., vectorization_mode=
            "vector_entry_point")``); its ``object_masks()`` are read at every call.
    """

    def __init__(self, env: UnifiedAttnVectorEnv) -> None:
        self.env = env
        self.params = env.params
        self.codec = env.action_codec  # actions in the env's own format (env.action_format)

    def _covered(self, info: dict[str, Any]) -> np.ndarray:
        """Pixels inside the finest patch of any glimpse so far: bool ``[N, H, W]``."""
        p = self.params
        locations = _numpy(info["locations"])
        boxes = glimpse_boxes(locations, p.image_size, p.glimpse_size, 1)[:, :, 0]
        seen = np.arange(locations.shape[1]) < _numpy(info["num_glimpses"])[:, None]
        boxes = np.where(seen[..., None], boxes, 0.0)  # unseen: empty boxes
        return boxes_to_masks(boxes, *p.image_size).any(axis=1)

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        n = self.env.num_envs
        phase = _numpy(obs["phase"])
        masks = self.env.object_masks()  # [N, D, H, W]
        num_predicted = _numpy(info["num_predicted"])
        target = _numpy(info["target"])
        rows = np.arange(n)

        # the object to look at: the label being read; after a prediction, the next one
        reading = num_predicted + (phase == Phase.PREDICT)
        reading = np.minimum(reading, masks.shape[1] - 1)
        current = masks[rows, reading]

        first = _numpy(info["object_boxes"])[:, 0]
        centre = (first[:, None, :2] + first[:, None, 2:]) / 2
        quadrants = all_quadrants(_numpy(info["region_box"]))  # [N, 4, 4]
        holds = (quadrants[..., :2] <= centre).all(-1) & (centre < quadrants[..., 2:]).all(-1)
        picks = holds.argmax(axis=1)  # outside the region (cannot happen): quadrant 0

        gain = current & ~self._covered(info)
        gain[phase == Phase.PREDICT] = current[phase == Phase.PREDICT]  # a new digit
        locations = greedy_glimpse_locations(gain, self.params.glimpse_size)

        labels = target[rows, np.minimum(num_predicted, target.shape[1] - 1)]
        labels = np.maximum(labels, 0)  # a finished episode: any valid label
        return self.codec.encode(n, location=locations, quadrant=picks, label=labels)
