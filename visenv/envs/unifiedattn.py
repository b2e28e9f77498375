"""UnifiedAttn: top-down quad-tree picks on an image pyramid, then RAM glimpses; with no
pyramid levels, the recurrent attention model (RAM) itself.

"Unifying top-down and bottom-up recurrent attention model for visual recognition" (paper 002
in ../shared/papers); the bottom-up half and the baseline are Mnih et al. (2014)'s RAM.

Top-down (sec. 4.1, 5): an image pyramid of ``L`` levels (``levels``, 2 in the paper: half
resolution, then the original). Level ``l`` shows the current region at ``1/2^(L-l)`` of full
resolution split into its 2 x 2 quadrants (eq. 6-7: ``s_l = [v_1, ..., v_4]``); the agent picks
one (``Discrete(4)``, Q-learning in the paper) and it becomes the region of the next level. The
reward of the picks is the final classification outcome: ``r(s_l, a_l) = 1`` if the bottom-up
model then classifies correctly, else 0 (eq. 8, Algorithm 1 lines 15-20).

Bottom-up (sec. 4.2, Algorithm 1 lines 6-14): the first glimpse location ``L_0`` is drawn
uniformly inside the picked region (the whole image when ``L = 0``, as in RAM). A glimpse is
``m`` square patches around the location, the first ``g x g`` pixels and each next twice as
large, all resampled to ``g x g`` (eq. 10a's sensor). The agent then names each next location
(``[-1, 1]^2``, a Gaussian policy in the paper) and, after ``T`` glimpses, the class. Reward 1 if
the class is right, else 0 (sec. 4.2, "R_0 = 1 ... otherwise R_0 = 0"). The binarised (2-bin)
entropy of every patch is reported for the entropy-weighted policy gradient of eq. 12-13.

SVHN (sec. 5, after DRAM): ``T = 3`` glimpses per label; labels are read one after the other
until the terminal label or until 5 digits and the terminal label are read (18 glimpses).

Choices the paper leaves open, made here: every action carries a location, a quadrant and a
label, and the phase in the observation says which the env reads (a ``Dict`` by default, or one
flat ``Box`` for stable-baselines3; :mod:`visenv.envs.unifiedattn_actions`); in the flat
format a pick and a label are the argmax of their scores; quadrant views are
cut from the original image by bilinear resampling (at half resolution this is 2x2 averaging);
the glimpse location is in whole-image coordinates even after top-down picks, which only place
``L_0``; patches past the border read as black; the entropy splits grey levels at 128 (colour
averaged first). Rewards are 0 until the last step; ``info["pick_rewards"]`` then credits every
pick with the outcome, and with ``gamma = 1`` every step's return is that outcome. The reasons
and the data protocols: docs/unifiedattn.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from visenv.core.boxes import quadrant_boxes
from visenv.core.glimpses import (
    ENTROPY_THRESHOLD,
    all_quadrants,
    binary_patch_entropy,
    glimpse_boxes,
    quadrant_view_size,
)
from visenv.core.images import ImageBatch
from visenv.core.metrics import sequence_errors
from visenv.data.canvases import EpisodeImages, SVHNSequences, episode_images
from visenv.envs.base import BatchedVectorEnv, Output, SingleEnvShell
from visenv.envs.unifiedattn_actions import ActionCodec, ActionFormat, ActionLayout

__all__ = [
    "ActionCodec",
    "ActionLayout",
    "Phase",
    "UnifiedAttnEnv",
    "UnifiedAttnParams",
    "UnifiedAttnVectorEnv",
    "default_sensor",
    "observation_phases",
]


class Phase(IntEnum):
    """What the agent's next action decides (``obs["phase"]``)."""

    PICK = 0  # a quadrant of the current region (top-down)
    GLIMPSE = 1  # the next glimpse location
    PREDICT = 2  # a label (and, if the sequence goes on, the next location)
    DONE = 3  # the episode has ended; any valid action is ignored


# plain ints for the hot path (an IntEnum member lookup costs a Python call)
_PICK, _GLIMPSE, _PREDICT, _DONE = (int(p) for p in Phase)


@dataclass(frozen=True)
class UnifiedAttnParams:
    """Constants of the MDP (defaults: paper 002 sec. 5 on 100x100 cluttered MNIST)."""

    image_size: tuple[int, int] = (100, 100)
    levels: int = 2
    num_glimpses: int = 6  # per label for digit sequences
    glimpse_size: int = 12
    num_scales: int = 4
    scale_factor: float = 2.0
    num_labels: int = 10
    max_labels: int = 1
    end_label: int | None = None
    entropy_threshold: float = ENTROPY_THRESHOLD

    def __post_init__(self) -> None:
        h, w = self.image_size
        if self.levels < 0 or min(quadrant_view_size(self.image_size, self.levels)) < 2:
            raise ValueError(
                f"levels must be >= 0 and leave quadrants of >= 2 pixels on a {h}x{w} image, "
                f"got {self.levels}"
            )
        if self.num_glimpses < 1:
            raise ValueError(f"num_glimpses must be >= 1, got {self.num_glimpses}")
        if not 1 <= self.glimpse_size <= min(h, w):
            raise ValueError(f"glimpse_size must lie in [1, {min(h, w)}], got {self.glimpse_size}")
        if self.num_scales < 1 or self.scale_factor < 1:
            raise ValueError(
                f"need num_scales >= 1 and scale_factor >= 1, got {self.num_scales} and "
                f"{self.scale_factor}"
            )
        if self.max_labels > 1 and self.end_label is None:
            raise ValueError("a label sequence (max_labels > 1) needs an end_label")

    @property
    def max_glimpses(self) -> int:
        return self.num_glimpses * self.max_labels


def default_sensor(images: EpisodeImages) -> tuple[int, int]:
    """``(glimpse_size, num_scales)`` of the paper for these images (sec. 5, Tables 1-3)."""
    side = images.image_shape[0]
    if isinstance(images, SVHNSequences):
        return 12, 2  # Table 3: 12x12, 2 scales
    if side <= 28:
        return 8, 1  # Table 1: 8x8, 1 scale
    if side <= 32:
        return 12, 1  # CIFAR-10: "6 glimpses with patch size 12 x 12"
    if side <= 60:
        return 12, 3  # RAM's 60x60 translated/cluttered MNIST
    return 12, 4  # Table 2: 12x12, 4 scales


# -- pure batched core -------------------------------------------------------------------------
def observation_phases(steps: np.ndarray, finished: np.ndarray, params: UnifiedAttnParams) -> Any:
    """:class:`Phase` of every env after ``steps [N]`` actions (``finished [N]``: ended).

    The first ``L`` actions pick quadrants; glimpse ``n`` (counted from 1) is shown after
    ``L + n - 1`` actions, and every ``T``-th glimpse is followed by a prediction.
    """
    shown = steps - params.levels + 1
    phase = np.where(shown % params.num_glimpses == 0, _PREDICT, _GLIMPSE)
    phase = np.where(steps < params.levels, _PICK, phase)
    return np.where(finished, _DONE, phase).astype(np.int64)


def uniform_locations(rngs: list[np.random.Generator], regions: np.ndarray, size: Any) -> Any:
    """One location per region, uniform inside it (Algorithm 1 line 6), in ``[-1, 1]^2``."""
    h, w = size
    # rng.random: the same numbers as rng.uniform(size=2), with half its call overhead
    u = np.array([rng.random(2) for rng in rngs]).reshape(-1, 2)
    # x and y together: corner + u * extent, then pixels -> [-1, 1]
    xy = regions[:, :2] + u * (regions[:, 2:] - regions[:, :2])
    return xy / (w, h) * 2 - 1


# -- environments ------------------------------------------------------------------------------
class UnifiedAttnVectorEnv(BatchedVectorEnv):
    """Top-down picks then RAM glimpses (``levels=0``: RAM), ``num_envs`` images at once.

    ## Description
    Each episode shows one image: a (cluttered, translated) digit canvas, a CIFAR-10 image or an
    SVHN house number. With ``L`` top-down levels the agent first picks ``L`` quadrants of a
    quad tree; the first glimpse then lands at a uniformly random place in the picked region.
    It moves its glimpse sensor ``T - 1`` times and names the class (SVHN: after every ``T``
    glimpses it names the next label, until the terminal label). Every observation is
    resampled from the original image.

    ## Action Space
    Every action holds every decision; ``obs["phase"]`` says which part the env reads, the
    others are ignored but still checked (an out-of-range quadrant is an error in any phase).
    ``action_format="dict"`` (default): ``Dict`` of

    | key | space | read in phase | meaning |
    |---|---|---|---|
    | ``quadrant`` | ``Discrete(4)``, if ``L > 0`` | PICK | 0/1 top-left/right, 2/3 bottom |
    | ``location`` | ``Box(-1, 1, (2,))`` float32 | GLIMPSE (PREDICT*) | next glimpse centre |
    | ``label`` | ``Discrete(K)`` | PREDICT | class (SVHN: digit 0-9, 10 = end) |

    (*) In PREDICT the location places the next glimpse when a label sequence goes on (SVHN).

    The vector env takes ``{"quadrant": int [N], "location": float [N, 2], "label": int [N]}``.
    ``action_format="flat"`` (for stable-baselines3, which trains on no ``Dict`` action):
    ``Box(-1, 1, (2 + 4 [if L > 0] + K,), float32)``, ``[0:2]`` the location, then 4 quadrant
    scores and ``K`` label scores whose argmax (lowest index on ties) is the choice
    (:class:`~visenv.envs.unifiedattn_actions.ActionLayout`). Both decode to the same
    decisions. ``env.action_codec.encode(n, location=, quadrant=, label=)`` builds a batch in
    the env's format (``env.action_format``).

    ## Observation Space
    ``Dict``: ``phase`` (``Discrete(4)``, :class:`Phase`); ``glimpse`` (``uint8 [m, g, g, C]``,
    smallest scale first; zeros before the first glimpse); ``location`` (``float32 [2]``, the
    glimpse centre; zeros before the first glimpse); with ``L > 0`` also ``quadrants``
    (``uint8 [4, r, r, C]``, the 4 quadrants of the current region at this level's resolution,
    ``r = side / 2^L``; zeros after the last pick). ``C`` is 1 for digits, 3 for colour.

    ## Rewards
    0 at every step but the last; there 1 if the label (SVHN: the whole sequence up to and
    including the terminal label) is right, else 0. ``info["pick_rewards"]`` holds the picks'
    reward (the same outcome) once the episode has ended.

    ## Episode End
    Terminated by the prediction after the ``T``-th glimpse (``L + T`` steps); SVHN: by the
    terminal label or the ``max_digits + 1``-th label (at most ``L + 18`` steps). Never truncated.

    ## Info
    ``target``/``prediction`` (``[S]`` labels, -1 pads), ``num_predicted``, ``correct``,
    ``region_box`` (``[4]`` px), ``picks`` (``[L]``, -1 pending), ``pick_rewards`` (``[L]``),
    ``locations`` (``[S*T, 2]`` glimpse history, zero-padded), ``num_glimpses``,
    ``glimpse_boxes`` (``[m, 4]`` px of the current glimpse), ``entropy`` (``[m]`` bits,
    binarised entropy of each current patch), ``object_boxes`` (``[D, 4]`` px, the target
    digit(s) or the whole image), ``index`` (of the pool or dataset), ``step``.
    ``env.object_masks()`` gives the object pixels (digit ink) for coverage metrics.

    ## Arguments
    | name | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"rendered"`` | ``"mnist"``, ``"rendered"`` (embedded), ``"cifar10"``, |
    | | | ``"svhn"``, a ``LabelledImages`` pool or a ``SceneDataset`` |
    | ``root``, ``split`` | env var, train | where the data is; train/test pools are disjoint |
    | ``canvas`` | ``"cluttered"`` | ``"plain"``, ``"translated"`` or ``"cluttered"`` |
    | ``canvas_size`` | 100 | (translated: 60) |
    | ``num_clutter``, ``clutter_size`` | 10, 8 | pieces of clutter (60x60: 4) |
    | ``levels`` | 2 | top-down pyramid levels ``L`` (0: RAM) |
    | ``num_glimpses`` | 6 (SVHN: 3) | ``T`` (SVHN: per label) |
    | ``glimpse_size``, ``num_scales`` | :func:`default_sensor` | ``g``, ``m`` |
    | ``scale_factor`` | 2 | ratio of consecutive patch sides |
    | ``max_digits``, ``jitter`` | 5, train only | SVHN sequences |
    | ``entropy_threshold`` | 128 | grey level of the 2-bin split |
    | ``action_format`` | ``"dict"`` | ``"dict"`` or ``"flat"`` (Action Space) |
    | ``device``, ``backend``, ``output`` | cpu, auto, numpy | where it runs, what it returns |

    Reset options: ``index`` (int, or one per env) fixes the pool/dataset image.

    ## Version History
    * v0: initial release.
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        dataset: Any = "rendered",
        root: str | None = None,
        split: str = "train",
        canvas: str = "cluttered",
        canvas_size: int | None = None,
        num_clutter: int | None = None,
        clutter_size: int = 8,
        levels: int = 2,
        num_glimpses: int | None = None,
        glimpse_size: int | None = None,
        num_scales: int | None = None,
        scale_factor: float = 2.0,
        max_digits: int = 5,
        jitter: bool | None = None,
        entropy_threshold: float = ENTROPY_THRESHOLD,
        action_format: ActionFormat = "dict",
        device: str | torch.device = "cpu",
        backend: str | None = None,
        output: Output = "numpy",
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(
            num_envs, device=device, output=output, autoreset_mode=autoreset_mode,
            render_mode=render_mode,
        )  # fmt: skip
        self.images = episode_images(
            dataset, root=root, split=split, canvas=canvas, canvas_size=canvas_size,
            num_clutter=num_clutter, clutter_size=clutter_size, max_digits=max_digits,
            jitter=jitter,
        )  # fmt: skip
        sensor = default_sensor(self.images)
        sequence = self.images.max_labels > 1
        h, w, c = self.images.image_shape
        self.params = UnifiedAttnParams(
            image_size=(h, w), levels=levels,
            num_glimpses=(3 if sequence else 6) if num_glimpses is None else num_glimpses,
            glimpse_size=sensor[0] if glimpse_size is None else glimpse_size,
            num_scales=sensor[1] if num_scales is None else num_scales,
            scale_factor=scale_factor, num_labels=len(self.images.classes),
            max_labels=self.images.max_labels, end_label=self.images.end_label,
            entropy_threshold=entropy_threshold,
        )  # fmt: skip
        p = self.params
        self.action_format = action_format
        self.action_codec = ActionCodec(action_format, 4 if p.levels else 0, p.num_labels)
        self._quadrant_size = quadrant_view_size(p.image_size, p.levels)
        self._images = ImageBatch(self.num_envs, self.device, backend)
        obs_spaces = {
            "phase": spaces.Discrete(len(Phase)),
            "glimpse": spaces.Box(
                0, 255, (p.num_scales, p.glimpse_size, p.glimpse_size, c), np.uint8
            ),
            "location": spaces.Box(-1.0, 1.0, (2,), np.float32),
        }
        if p.levels:
            obs_spaces["quadrants"] = spaces.Box(0, 255, (4, *self._quadrant_size, c), np.uint8)
        self._set_spaces(spaces.Dict(obs_spaces), self.action_codec.space)
        n = self.num_envs
        self._plans = np.zeros((n, self.images.plan_size), dtype=np.int64)
        self._targets = np.full((n, p.max_labels), -1, dtype=np.int64)
        self._predictions = np.full((n, p.max_labels), -1, dtype=np.int64)
        self._num_predicted = np.zeros(n, dtype=np.int64)
        self._object_boxes = np.zeros((n, self.images.max_objects, 4))
        self._regions = np.zeros((n, p.levels + 1, 4))  # the whole image, then each pick
        self._picks = np.full((n, p.levels), -1, dtype=np.int64)
        self._locations = np.zeros((n, p.max_glimpses, 2))
        self._location = np.zeros((n, 2))  # the latest glimpse (zeros before the first)
        self._num_glimpses = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.int64)
        self._finished = np.zeros(n, dtype=bool)
        self._correct = np.zeros(n, dtype=bool)
        # constants of the hot path: the phase after t steps is a table lookup, and every env
        # in one phase (the rule with equal-length episodes) needs no index search
        steps = np.arange(p.levels + p.max_glimpses + 1)
        self._phase_after = observation_phases(steps, np.zeros(len(steps), dtype=bool), p)
        self._rows = np.arange(n)
        self._cache: dict[str, Any] = {}

    @property
    def _on_torch(self) -> bool:
        return self._images.backend == "torch"

    # -- hooks -------------------------------------------------------------------------------
    def _indices(self, env_ids: np.ndarray, options: dict[str, Any]) -> list[int | None]:
        unknown = set(options) - {"index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; UnifiedAttn takes 'index'")
        if "index" not in options:
            return [None] * len(env_ids)
        picked = np.asarray(options["index"], dtype=np.int64)
        if picked.ndim == 0 or len(picked) == self.num_envs:
            picked = np.broadcast_to(picked, (self.num_envs,))[env_ids]
        if len(picked) != len(env_ids) or picked.min() < 0 or picked.max() >= len(self.images):
            raise ValueError(
                f"options['index'] must be an int or {self.num_envs} ints in "
                f"[0, {len(self.images)}), got {options['index']!r}"
            )
        return [int(i) for i in picked]

    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        indices = self._indices(env_ids, options)
        plans = np.stack(
            [self.images.sample(self._rngs[i], k) for i, k in zip(env_ids, indices, strict=True)]
        )
        self._plans[env_ids] = plans
        self._images.set_many(env_ids, self.images.paint(plans))
        self._targets[env_ids] = self.images.targets(plans)
        self._object_boxes[env_ids] = self.images.object_boxes(plans)
        h, w = self.params.image_size
        self._regions[env_ids] = [0.0, 0.0, w, h]
        self._predictions[env_ids] = -1
        self._num_predicted[env_ids] = 0
        self._picks[env_ids] = -1
        self._locations[env_ids] = 0.0
        self._location[env_ids] = 0.0
        self._num_glimpses[env_ids] = 0
        self._t[env_ids] = 0
        self._finished[env_ids] = False
        self._correct[env_ids] = False
        if self.params.levels == 0:  # RAM: the first glimpse lands anywhere in the image
            self._first_glimpses(env_ids)
        self._cache = {}

    def _first_glimpses(self, env_ids: np.ndarray) -> None:
        regions = self._regions[env_ids, self.params.levels]
        rngs = [self._rngs[i] for i in env_ids]
        self._add_glimpses(env_ids, uniform_locations(rngs, regions, self.params.image_size))

    def _add_glimpses(self, env_ids: np.ndarray, locations: np.ndarray) -> None:
        if env_ids is self._rows:  # every env (see _in_phase): whole-array updates
            self._locations[env_ids, self._num_glimpses] = locations
            self._location[:] = locations
            self._num_glimpses += 1
            return
        self._locations[env_ids, self._num_glimpses[env_ids]] = locations
        self._location[env_ids] = locations
        self._num_glimpses[env_ids] += 1

    def _check_actions(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # both formats decode to the same decisions; geometry lives on the host (a few floats
        # per env), only images sit on the device
        return self.action_codec.decode(actions, self.num_envs)

    def _step_envs(
        self, decisions: tuple[np.ndarray, np.ndarray, np.ndarray], active: np.ndarray
    ) -> tuple[Any, Any, Any]:
        p = self.params
        phase = self._phase()
        locations, picks, labels = decisions
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        count = np.bincount(phase, minlength=len(Phase))  # which phases occur at all

        if count[_PICK]:
            picking = self._in_phase(phase, _PICK, count)
            level = self._t[picking]
            self._picks[picking, level] = picks[picking]
            self._regions[picking, level + 1] = quadrant_boxes(
                self._regions[picking, level], picks[picking]
            )
            self._first_glimpses(picking[level + 1 == p.levels])

        moving = self._in_phase(phase, _GLIMPSE, count)
        if count[_PREDICT]:
            predicting = self._in_phase(phase, _PREDICT, count)
            ends = self._predict(predicting, labels[predicting], rewards, terminated)
            if not ends.all():  # a sequence goes on: the action also places the next glimpse
                moving = np.concatenate([moving, predicting[~ends]])
        if len(moving):
            self._add_glimpses(moving, locations if moving is self._rows else locations[moving])
        if count[_DONE]:
            self._t[phase != _DONE] += 1
        else:
            self._t += 1
        self._cache = {}
        return rewards, terminated, np.zeros(self.num_envs, dtype=bool)

    def _in_phase(self, phase: np.ndarray, which: int, count: np.ndarray) -> np.ndarray:
        """Ids of the envs in phase ``which`` (``count``: envs per phase); ``self._rows``
        itself when every env is, which the updates below recognise to skip fancy indexing."""
        if count[which] == self.num_envs:
            return self._rows
        return np.flatnonzero(phase == which)

    def _predict(
        self, predicting: np.ndarray, labels: np.ndarray, rewards: np.ndarray, ended: np.ndarray
    ) -> np.ndarray:
        """Record the ``labels`` of the ``predicting`` envs; end and reward the sequences that
        are complete (the terminal label, or ``max_labels`` labels). Returns which ended."""
        p = self.params
        self._predictions[predicting, self._num_predicted[predicting]] = labels
        self._num_predicted[predicting] += 1
        ends = self._num_predicted[predicting] >= p.max_labels
        if p.end_label is not None:
            ends |= labels == p.end_label
        ending = predicting[ends]
        self._finished[ending] = ended[ending] = True
        self._correct[ending] = ~sequence_errors(self._predictions[ending], self._targets[ending])
        rewards[ending] = self._correct[ending]
        return ends

    # -- observations (computed once per state; the cache empties at every step and reset) ---
    def _phase(self) -> np.ndarray:
        if "phase" not in self._cache:
            phase = self._phase_after[self._t]  # a new array (fancy index)
            phase[self._finished] = _DONE
            self._cache["phase"] = phase
        return self._cache["phase"]

    def _all_seen(self) -> bool:
        """Whether every env has had its first glimpse (always, in RAM: it comes at reset)."""
        return self.params.levels == 0 or bool(self._num_glimpses.all())

    def _glimpse_boxes(self) -> np.ndarray:
        """Pixel boxes ``[N, m, 4]`` of the current glimpses (zeros before the first one)."""
        if "glimpse_boxes" not in self._cache:
            p = self.params
            boxes = glimpse_boxes(
                self._location, p.image_size, p.glimpse_size, p.num_scales, p.scale_factor
            )
            if not self._all_seen():
                boxes[self._num_glimpses == 0] = 0.0
            self._cache["glimpse_boxes"] = boxes
        return self._cache["glimpse_boxes"]

    def _crops(self, boxes: np.ndarray, size: tuple[int, int], ids: np.ndarray | None) -> Any:
        """Crops of ``boxes [N, M, 4]`` for the envs ``ids`` (``None``: all), zeros elsewhere."""
        shape = (self.num_envs, boxes.shape[1], *size, self.images.image_shape[2])
        if self._on_torch:
            boxes = torch.as_tensor(boxes, device=self.device)
        if ids is None:  # grey crops gain their channel axis
            # the boxes come from checked actions: skip the kernel's argument checks
            return self._images.crop(boxes, size, check=False).reshape(shape)
        if self._on_torch:
            out = torch.zeros(shape, dtype=torch.uint8, device=self.device)
        else:
            out = np.zeros(shape, dtype=np.uint8)
        if len(ids):
            crops = self._images.crop(boxes[ids], size, ids, check=False)
            rows_at = torch.as_tensor(ids, device=self.device) if self._on_torch else ids
            out[rows_at] = crops.reshape(len(ids), *shape[1:])
        return out

    def _glimpses(self) -> Any:
        """``uint8 [N, m, g, g, C]`` glimpses at the current locations (cached per state)."""
        if "glimpse" not in self._cache:
            g = self.params.glimpse_size
            ids = None if self._all_seen() else np.flatnonzero(self._num_glimpses)
            self._cache["glimpse"] = self._crops(self._glimpse_boxes(), (g, g), ids)
        return self._cache["glimpse"]

    def _observe(self, env_ids: np.ndarray | None) -> dict[str, Any]:
        if "obs" not in self._cache:
            phase = self._phase()
            obs = {
                "phase": phase,
                "glimpse": self._glimpses(),
                "location": self._location.astype(np.float32),
            }
            if self.params.levels:
                level = np.minimum(self._t, self.params.levels)
                regions = self._regions[self._rows, level]
                picking = phase == _PICK
                ids = None if picking.all() else np.flatnonzero(picking)
                obs["quadrants"] = self._crops(all_quadrants(regions), self._quadrant_size, ids)
            self._cache["obs"] = obs
        obs = self._cache["obs"]
        if env_ids is None:
            return obs
        index = torch.as_tensor(env_ids, device=self.device)
        return {k: v[index] if isinstance(v, torch.Tensor) else v[env_ids] for k, v in obs.items()}

    def _info(self) -> dict[str, Any]:
        p = self.params
        outcome = (self._finished & self._correct).astype(np.float64)
        # copies of the state arrays (updated in place at the next step or reset); the others
        # are computed afresh here
        return {
            "target": self._targets.copy(),
            "prediction": self._predictions.copy(),
            "num_predicted": self._num_predicted.copy(),
            "correct": self._correct.copy(),
            "region_box": self._regions[self._rows, np.minimum(self._t, p.levels)],
            "picks": self._picks.copy(),
            "pick_rewards": np.repeat(outcome[:, None], p.levels, axis=1),
            "locations": self._locations.copy(),
            "num_glimpses": self._num_glimpses.copy(),
            "glimpse_boxes": self._glimpse_boxes().copy(),
            "entropy": binary_patch_entropy(self._glimpses(), p.entropy_threshold),
            "object_boxes": self._object_boxes.copy(),
            "index": self._plans[:, 0].copy(),
            "step": self._t.copy(),
        }

    def object_masks(self, env_ids: np.ndarray | None = None) -> np.ndarray:
        """Object pixels of the current images: bool ``[K, D, H, W]`` (``D`` objects: 1, or
        the digits of an SVHN number, left to right; missing digits are empty)."""
        plans = self._plans if env_ids is None else self._plans[np.asarray(env_ids)]
        return self.images.object_masks(plans)

    def _render_env(self, env_id: int) -> np.ndarray:
        from visenv.render.unifiedattn import unifiedattn_frame

        p, i = self.params, env_id
        glimpse = self._glimpses()[i]
        n = int(self._num_glimpses[i])
        history = glimpse_boxes(
            self._locations[i, :n], p.image_size, p.glimpse_size, p.num_scales, p.scale_factor
        )
        return unifiedattn_frame(
            self._images.arrays[i], regions=self._regions[i, : min(self._t[i], p.levels) + 1],
            glimpses=history, patches=glimpse.cpu().numpy() if self._on_torch else glimpse,
            phase=Phase(int(self._phase()[i])), target=self._targets[i],
            prediction=self._predictions[i, : self._num_predicted[i]],
            classes=self.images.classes,
        )  # fmt: skip


class UnifiedAttnEnv(SingleEnvShell):
    """A single UnifiedAttn (or, with ``levels=0``, RAM) environment; see
    :class:`UnifiedAttnVectorEnv` for the MDP and arguments.

    ``gym.make("VisAttn/RAM-MNIST-v0")`` returns this (wrapped in Gymnasium's checkers); it runs
    the same batched code with one env, so it matches the vector env step for step.
    """

    vector_env_class = UnifiedAttnVectorEnv
