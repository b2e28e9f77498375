"""BGCut: weakly-supervised object localisation by cutting background off a feature map.

Zheng & Zhang, "Weakly-Supervised Object Localization by Cutting Background with Deep
Reinforcement Learning" (paper 004 in ../shared/papers). A multi-label classifier (sigmoid
outputs) maps the image to a mid-level feature map (VGG16 conv4_3 in the paper, 28 x 28 at 224
input); one episode localises one class present in the image by cutting the map from its four
sides, each cut zeroing the removed part so the map keeps its size and aspect (sec. 2.2). The
cut map is re-scored by the rest of the classifier.

* State (sec. 2.2): the cut mid-level map and a one-hot vector of the last 4 actions.
* Actions: cut 1/28, 2/28 or 3/28 of the map from the top, bottom, left or right, or terminate
  (13 actions).
* Reward (Eq. 1, 2): a cut earns ``+scale`` if the class score dropped by at most ``delta``
  from the uncut map's score (``p_bar - p_hat <= delta``), else ``-scale``; terminate earns
  ``+eta`` or ``-eta`` by the same test.
* Refinement (sec. 2.3): the mid map summed over channels is a heat map; binarised at a
  threshold, the box of its largest connected region is intersected with the agent's box.

The kernels are :mod:`visenv.core.cuts`; actions, rewards and ends are
:mod:`visenv.envs.bgcut_core`.

Choices the paper leaves open, made here:

* **Episodes** are (scene, class) pairs: a reset draws a scene uniformly, then one of its
  classes uniformly (difficult objects count as present); ``options={"scene_index": i,
  "class_index": c}`` picks one. The class's *target* object (oracle, rendering) is its
  largest non-difficult box; metrics accept any box of the class, as CorLoc does.
* **Cuts** are counted in units of ``1 / grid`` (28) of the map; a cell is kept when its centre
  lies in the kept box (exact for a 28 x 28 map). A cut never leaves less than one unit in its
  direction: a larger cut removes what it can (and earns for what it removed), one in a
  direction already at one unit removes nothing and earns ``-scale`` (else repeating it would
  collect the background reward forever).
* **Episode end**: *terminated* by the terminate action; when the class score falls under
  ``end_ratio`` (0.5) times the uncut map's score (the paper's "score less than the
  pre-defined threshold", a threshold apart from ``delta``; relative, so that a class the
  classifier scores low does not end at once, and lenient, so that a background cut that
  costs a little more than ``delta`` is punished but does not end the search); or when no
  cut is possible (one unit left in both directions: the state is absorbing). *Truncated*
  after ``max_steps`` (40) steps, a time limit the paper does not have (each cut removes at
  least one unit, but a cut that removes nothing could repeat forever).
* **delta** per class and the **heat-map threshold** are calibrated on the first
  ``calibration_pairs`` (200) pairs of a validation split, with their boxes, as the paper's
  "evaluated on a small validation set" (:mod:`visenv.envs.bgcut_calibration`): ``delta`` is
  the score drop that best separates cuts removing only the background around the target
  object from cuts that also remove half of it (the test Eq. 1 is meant to make); the heat
  threshold (a fraction of the map's maximum) is the one whose largest region alone localises
  best. The heat map is the *uncut* mid map's, computed once per episode. Where the agent's
  box and the region are disjoint the refined box is the agent's box.
* **Classifier**: any :class:`~visenv.models.backbone.FeatureBackbone`; the default is the
  small CNN of :func:`~visenv.models.backbone.default_backbone` (shipped for Shapes, trained
  on the matching training split and cached elsewhere); ``classifier="vgg16"`` with
  ``vgg16_weights=<local torchvision file>`` fine-tunes the paper's VGG16 once and caches it.
  On the CPU (numpy) path every map is scored on its own, so the numbers do not depend on how
  many envs run together (the native env equals a ``SyncVectorEnv`` bit for bit); the torch
  path scores the batch in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from visenv.core.cuts import (
    kept_boxes,
    kept_cells,
    largest_region_boxes,
    refine_boxes,
    sum_pool,
    zero_outside_cells,
)
from visenv.core.images import resolve_backend
from visenv.data import SceneDataset, load_dataset
from visenv.envs.base import (
    BatchedVectorEnv,
    Output,
    SingleEnvShell,
    check_discrete_actions,
    copy_arrays,
)
from visenv.envs.bgcut_calibration import (
    BGCutCalibration,
    best_heat_threshold,
    calibrate,
    default_calibration,
    separating_threshold,
)
from visenv.envs.bgcut_core import (
    MIN_EXTENT,
    NUM_ACTIONS,
    BGCutParams,
    CutSide,
    apply_cuts,
    cut_action,
    episode_pairs,
    history_one_hot,
    push_history,
    step_rewards,
    target_box,
)
from visenv.models.backbone import FeatureBackbone
from visenv.models.feature_cache import FeatureCache
from visenv.models.feature_classifiers import one_thread_on_cpu, resolve_backbone

__all__ = [
    "BGCutCalibration",
    "BGCutEnv",
    "BGCutParams",
    "BGCutVectorEnv",
    "CutSide",
    "best_heat_threshold",
    "calibrate",
    "cut_action",
    "episode_pairs",
    "separating_threshold",
]

_F32_MAX = float(np.finfo(np.float32).max)


# -- environments ------------------------------------------------------------------------------
class BGCutVectorEnv(BatchedVectorEnv):
    """Localise one class per episode by cutting background off a feature map, ``num_envs`` at once.

    ## Description
    Each episode is an (image, class) pair. The classifier's mid-level map of the image
    (``C x 28 x 28`` at 224 input) is computed once; every cut zeroes a strip of it and the
    classifier re-scores the cut map for the episode's class.

    ## Action Space
    ``Discrete(13)``: action ``3 * side + scale - 1`` cuts ``scale`` / 28 of the map from
    ``side`` (:class:`CutSide`: 0 top, 1 bottom, 2 left, 3 right; :func:`cut_action`); 12
    terminates.

    | Num | Action | Num | Action |
    |---|---|---|---|
    | 0, 1, 2 | cut 1, 2, 3 units from the top | 6, 7, 8 | ... from the left |
    | 3, 4, 5 | ... from the bottom | 9, 10, 11 | ... from the right |
    | 12 | terminate | | |

    ## Observation Space
    ``Dict``: ``features`` ``Box(0, f32 max, (C, h, w), float32)``, the mid-level map with the
    cut part zeroed; ``history`` ``Box(0, 1, (52,), float32)``, the last 4 actions as 4 one-hot
    blocks of 13, most recent first (zero blocks before the episode has 4).

    ## Rewards
    Cut: ``+units`` removed if the class score ``p_hat`` is at least ``p_bar - delta`` (``p_bar``:
    the uncut map's score, ``delta``: the class's threshold), else ``-units``; a cut that
    removes nothing: ``-scale``. Terminate: ``+eta`` or ``-eta`` by the same test.

    ## Episode End
    Terminated by terminate, when ``p_hat < end_ratio * p_bar``, or when one unit is left in
    both directions. Truncated after ``max_steps`` steps.

    ## Info
    ``box`` (the kept part, original image pixels ``[4]``), ``refined_box`` (``box`` intersected
    with the heat map's largest region), ``target_box`` (the class's largest object: ground
    truth, for oracles and metrics, not for a weakly-supervised agent), ``cuts`` (``[4]``
    units: top, bottom, left, right), ``label``, ``score`` (``p_hat``), ``score_uncut``
    (``p_bar``), ``delta``, ``image_size`` (``[2]``: H, W), ``scene_index``, ``step``.

    ## Arguments
    | name | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"shapes"`` | ``"shapes"``, ``"voc"`` or a ``SceneDataset`` with boxes |
    | ``root``, ``split``, ``year`` | reader defaults | where and which part of the dataset |
    | ``classifier`` | small CNN | a ``FeatureBackbone``, ``"small"`` or ``"vgg16"`` |
    | ``vgg16_weights`` | None | local torchvision VGG16 file, with ``classifier="vgg16"`` |
    | ``image_size`` | 224 | side images are resized to (mid map ``image_size / 8``) |
    | ``delta`` | calibrated | float, or one per class |
    | ``heat_threshold`` | calibrated | fraction of the heat map's maximum |
    | ``calibration_pairs`` | 200 | validation pairs the calibration uses |
    | ``eta``, ``max_steps``, ``end_ratio`` | 3, 40, 0.5 | terminate reward, time limit, end |
    | ``grid``, ``history`` | 28, 4 | cut units per side, past actions in the state |
    | ``device``, ``backend``, ``output`` | cpu, auto, numpy | where it runs, what it returns |

    Reset options: ``scene_index`` (int, or one per env) picks the scene, ``class_index`` (with
    ``scene_index``; must be present) the class, instead of sampling.

    ## Version History
    * v0: initial release.
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        dataset: str | SceneDataset = "shapes",
        root: str | None = None,
        split: str | None = None,
        year: str | None = None,
        classifier: FeatureBackbone | str | None = None,
        vgg16_weights: str | None = None,
        image_size: int = 224,
        delta: float | Sequence[float] | None = None,
        heat_threshold: float | None = None,
        calibration_pairs: int = 200,
        eta: float = 3.0,
        max_steps: int = 40,
        end_ratio: float = 0.5,
        grid: int = 28,
        history: int = 4,
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
        self.backend = resolve_backend(backend, self.device)
        self.params = BGCutParams(
            grid=grid, history=history, eta=eta, max_steps=max_steps, end_ratio=end_ratio,
            image_size=image_size,
        )  # fmt: skip
        self.dataset = load_dataset(dataset, root=root, split=split, year=year)
        model = resolve_backbone(classifier, self.dataset, image_size, vgg16_weights)
        self.classifier = model.to(self.device).eval()
        self.deltas, self.heat_threshold = self._thresholds(
            delta, heat_threshold, calibration_pairs
        )
        # one scene per backbone call on the CPU: the same numbers at any num_envs
        self._features = FeatureCache(
            self.classifier, self.dataset, image_size, levels=("mid",),
            batch_size=1 if self.backend == "numpy" else 16,
        )  # fmt: skip
        side = image_size // self.classifier.mid_stride
        self.map_size = (side, side)
        features = (self.classifier.mid_channels, side, side)
        observations = {
            "features": spaces.Box(0.0, _F32_MAX, features, np.float32),
            "history": spaces.Box(0.0, 1.0, (self.params.history * NUM_ACTIONS,), np.float32),
        }
        self._set_spaces(spaces.Dict(observations), spaces.Discrete(NUM_ACTIONS))
        self._init_state()

    def _thresholds(
        self, delta: float | Sequence[float] | None, heat: float | None, pairs: int
    ) -> tuple[np.ndarray, float]:
        if delta is None or heat is None:
            found = default_calibration(self.classifier, self.dataset, self.params, pairs)
            delta = found.deltas if delta is None else delta
            heat = found.heat_threshold if heat is None else heat
        deltas = np.broadcast_to(np.asarray(delta, dtype=np.float64), (self.dataset.num_classes,))
        if deltas.ndim != 1 or (deltas < 0).any() or not np.isfinite(deltas).all():
            raise ValueError(
                f"delta must be a finite float >= 0 or {self.dataset.num_classes} of them, "
                f"got {delta!r}"
            )
        if not 0.0 <= heat <= 1.0:
            raise ValueError(f"heat_threshold must lie in [0, 1], got {heat}")
        return deltas.copy(), float(heat)

    @property
    def _on_torch(self) -> bool:
        return self.backend == "torch"

    def _zeros(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> Any:
        if self._on_torch:
            return torch.zeros(shape, dtype=dtype, device=self.device)
        return np.zeros(shape, dtype=torch.empty((), dtype=dtype).numpy().dtype)

    def _init_state(self) -> None:
        n, p = self.num_envs, self.params
        self._mid = self._zeros(
            (n, *self.single_observation_space["features"].shape), torch.float32
        )
        self._cuts = self._zeros((n, 4), torch.int64)
        self._history = self._zeros((n, p.history), torch.int64) - 1
        self._label = self._zeros((n,), torch.int64)
        self._delta = self._zeros((n,))
        self._score0, self._score = self._zeros((n,)), self._zeros((n,))
        self._heat_cells = self._zeros((n, 4), torch.int64)
        self._frame = self._zeros((n, 4))  # (W, H, W, H): fractions -> image pixels
        # ground truth and bookkeeping, always on the host
        self._target = np.zeros((n, 4))
        self._image_size = np.zeros((n, 2), dtype=np.int64)
        self._scene_index = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.int64)
        self._cut_log = np.zeros((n, p.max_steps + 1, 4), dtype=np.int64)  # for frames
        self._obs_cache: Any = None

    # -- reset -------------------------------------------------------------------------------
    def _per_env(self, name: str, value: Any, env_ids: np.ndarray) -> np.ndarray:
        picked = np.asarray(value)
        if picked.dtype.kind not in "iu" or picked.ndim > 1:
            raise ValueError(f"options[{name!r}] must be an int or {self.num_envs} ints")
        if picked.ndim == 0 or len(picked) == self.num_envs:
            picked = np.broadcast_to(picked, (self.num_envs,))[env_ids]
        if len(picked) != len(env_ids):
            raise ValueError(
                f"options[{name!r}] must be an int or {self.num_envs} ints, got {value!r}"
            )
        return picked.astype(np.int64)

    def _pairs(self, env_ids: np.ndarray, options: dict[str, Any]) -> tuple[np.ndarray, ...]:
        unknown = set(options) - {"scene_index", "class_index"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(unknown)}; BGCut takes 'scene_index' and "
                "'class_index'"
            )
        if "class_index" in options and "scene_index" not in options:
            raise ValueError("options['class_index'] needs options['scene_index'] (the image)")
        scenes = classes = None
        if "scene_index" in options:
            scenes = self._per_env("scene_index", options["scene_index"], env_ids)
            if scenes.min() < 0 or scenes.max() >= len(self.dataset):
                raise ValueError(
                    f"options['scene_index'] must lie in [0, {len(self.dataset)}), "
                    f"got {options['scene_index']!r}"
                )
        if "class_index" in options:
            classes = self._per_env("class_index", options["class_index"], env_ids)
        scene_ids, labels = np.zeros(len(env_ids), np.int64), np.zeros(len(env_ids), np.int64)
        for row, i in enumerate(env_ids):
            rng = self._rngs[i]
            for _ in range(100):  # a scene without objects has no pair: draw again
                k = int(rng.integers(len(self.dataset))) if scenes is None else int(scenes[row])
                present = np.unique(self.dataset.annotation(k)[1])
                if len(present) or scenes is not None:
                    break
            if not len(present):
                raise ValueError(f"scene {k} of {self.dataset} has no object to localise")
            if classes is None:
                labels[row] = present[rng.integers(len(present))]
            elif classes[row] in present:
                labels[row] = classes[row]
            else:
                raise ValueError(
                    f"options['class_index'] {int(classes[row])} is not in scene {k} "
                    f"(present: {present.tolist()})"
                )
            scene_ids[row] = k
        return scene_ids, labels

    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        scene_ids, labels = self._pairs(env_ids, options)
        for i, k, label in zip(env_ids, scene_ids, labels, strict=True):
            scene = self.dataset[int(k)]
            self._image_size[i] = scene.image.shape[:2]
            self._target[i] = target_box(scene.boxes, scene.labels, scene.difficult, int(label))
        self._scene_index[env_ids] = scene_ids
        self._t[env_ids] = 0
        self._cut_log[env_ids] = 0
        with one_thread_on_cpu(self.device):
            mid = self._features.get(scene_ids, "mid")
        ids, labels_ = self._rows(env_ids), self._array(labels)
        mid = mid if self._on_torch else mid.numpy()
        self._mid[ids] = mid
        self._cuts[ids] = 0
        self._history[ids] = -1
        self._label[ids] = labels_
        self._delta[ids] = self._array(self.deltas[labels])
        self._score0[ids] = self._score[ids] = self._class_scores(mid, labels_)
        self._heat_cells[ids] = largest_region_boxes(sum_pool(mid), self.heat_threshold)
        h, w = self._image_size[env_ids].T
        self._frame[ids] = self._array(np.stack([w, h, w, h], axis=1).astype(np.float64))
        self._obs_cache = None

    def _rows(self, env_ids: np.ndarray) -> Any:
        return torch.as_tensor(env_ids, device=self.device) if self._on_torch else env_ids

    def _array(self, values: np.ndarray) -> Any:
        return torch.as_tensor(values, device=self.device) if self._on_torch else values

    @torch.no_grad()
    def _class_scores(self, maps: Any, labels: Any) -> Any:
        """Sigmoid score of each map's class, ``float64 [B]``: one map per call on the CPU
        path (the same numbers whatever the batch), the whole batch on the torch path."""
        model = self.classifier
        with one_thread_on_cpu(self.device):
            if self._on_torch:
                logits = model.classify(model.top(maps))
                return torch.sigmoid(logits.gather(1, labels[:, None])[:, 0].double())
            scores = np.zeros(len(maps))
            for row in range(len(maps)):
                logit = model.classify(model.top(torch.from_numpy(maps[row : row + 1])))
                scores[row] = torch.sigmoid(logit[0, labels[row]].double()).item()
            return scores

    # -- step --------------------------------------------------------------------------------
    def _check_actions(self, actions: Any) -> Any:
        return check_discrete_actions(
            actions, NUM_ACTIONS, self.num_envs, self.single_action_space,
            self.device if self._on_torch else None,
        )  # fmt: skip

    def _step_envs(self, actions: Any, active: np.ndarray) -> tuple[Any, Any, Any]:
        p = self.params
        self._cuts, removed, scale, is_cut = apply_cuts(self._cuts, actions, p.grid)
        self._history = push_history(self._history, actions)
        self._obs_cache = None
        changed = (removed > 0) & self._array(active)
        if changed.any():
            features = self._cut_maps(None)
            self._score[changed] = self._class_scores(features[changed], self._label[changed])
        drop = self._score0 - self._score
        rewards = step_rewards(is_cut, removed, scale, drop <= self._delta, p.eta)
        extent = p.grid - self._cuts[:, 0::2] - self._cuts[:, 1::2]
        stuck = (extent == MIN_EXTENT).all(1)
        terminated = ~is_cut | (self._score < p.end_ratio * self._score0) | stuck
        self._t += 1
        if self.render_mode is not None:  # the cut history, for frames only
            self._cut_log[np.arange(self.num_envs), np.minimum(self._t, p.max_steps)] = _np(
                self._cuts
            )
        truncated = self._array(self._t >= p.max_steps) & ~terminated
        return rewards, terminated, truncated

    # -- observations, info, frames ----------------------------------------------------------
    def _cut_maps(self, env_ids: np.ndarray | None) -> Any:
        if env_ids is None:
            if self._obs_cache is None:
                cells = kept_cells(self._cuts, self.map_size, self.params.grid)
                self._obs_cache = zero_outside_cells(self._mid, cells)
            return self._obs_cache
        ids = self._rows(env_ids)
        cells = kept_cells(self._cuts[ids], self.map_size, self.params.grid)
        return zero_outside_cells(self._mid[ids], cells)

    def _observe(self, env_ids: np.ndarray | None) -> dict[str, Any]:
        history = self._history if env_ids is None else self._history[self._rows(env_ids)]
        return {"features": self._cut_maps(env_ids), "history": history_one_hot(history)}

    def _boxes(self) -> tuple[Any, Any, Any]:
        """The agent's box, the heat map's region box and the refined box, image pixels."""
        box = kept_boxes(self._cuts, self.params.grid) * self._frame
        h, w = self.map_size
        heat = self._heat_cells / self._array(np.array([w, h, w, h], dtype=np.float64))
        heat = heat * self._frame
        return box, heat, refine_boxes(box, heat)

    def _info(self) -> dict[str, Any]:
        box, _, refined = self._boxes()
        info = {
            "box": box,
            "refined_box": refined,
            "target_box": self._target,
            "cuts": self._cuts,
            "label": self._label,
            "score": self._score,
            "score_uncut": self._score0,
            "delta": self._delta,
            "image_size": self._image_size,
            "scene_index": self._scene_index,
            "step": self._t,
        }
        # copies: the state arrays are updated in place at the next step or reset
        return copy_arrays(info)

    def _render_env(self, env_id: int) -> np.ndarray:
        from visenv.render.bgcut import bgcut_frame

        scene = self.dataset[int(self._scene_index[env_id])]
        box, heat_box, refined = (_np(b[env_id]) for b in self._boxes())
        steps = int(min(self._t[env_id], self.params.max_steps))
        history = kept_boxes(self._cut_log[env_id, : steps + 1], self.params.grid)
        label = int(self._label[env_id])
        return bgcut_frame(
            scene.image, history * _np(self._frame[env_id]), box, refined,
            scene.boxes[scene.labels == label],
            heat=_np(sum_pool(self._mid[env_id : env_id + 1])[0]), heat_box=heat_box,
            title=f"{self.dataset.classes[label]} t={steps} p={float(self._score[env_id]):.2f}",
        )  # fmt: skip


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class BGCutEnv(SingleEnvShell):
    """A single BGCut environment; see :class:`BGCutVectorEnv` for the MDP and arguments.

    ``gym.make("VisAttn/BGCut-Shapes-v0")`` returns this (wrapped in Gymnasium's checkers); it
    runs the same batched code with one env, so it matches the vector env step for step.
    """

    vector_env_class = BGCutVectorEnv
