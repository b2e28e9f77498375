"""DQ-SSTN: salient-object classification by sequential zoom and translate.

Dembinsky, Azimi et al., "Sequential Spatial Transformer Networks for Salient Object
Classification" (paper 000 in ../shared/papers). The salient object is the largest box of the
image and its class is the label (sec. 4.1.1); an agent moves a view window over the original
image with 6 fixed transformations (sec. 3) for T = 10 steps and is rewarded for raising the
salient object's IoU with the window or lowering a classifier's loss on the view.

Rewards (sec. 3):

* ``continuous_loss``: ``L_{t-1} - L_t``, the classifier's cross-entropy before minus after.
* ``discrete_accuracy``: ``+1`` if the prediction turns right, ``-1`` if it turns wrong.
* ``continuous_iou`` (eq. 3): ``IoU_t - IoU_{t-1}``.
* ``discrete_iou`` (eq. 4, the paper's best and our default): ``sign(IoU_t - IoU_{t-1})``.
* ``combined`` (eq. 5): ``alpha * r_loss + beta * r_discrete_iou`` (``alpha=1, beta=0.8``).

Choices the paper leaves open, made here: a translation moves the window by ``translate_px``
pixels *of the current observation* (the transform composes on the current view, as in SSTN),
i.e. ``translate_px / obs_width`` of the window's width; a zoom scales the window about its
centre. The window may leave the image; what lies outside reads as black (a spatial
transformer's zero padding). IoU changes smaller than ``1e-9`` count as no change. Difficult
objects (VOC) are not candidates for the salient object unless all objects are difficult.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from visenv.core.boxes import box_area, box_iou, box_sizes, translate_boxes, zoom_boxes
from visenv.core.images import ImageBatch
from visenv.data import SceneDataset, load_dataset
from visenv.envs.base import (
    BatchedVectorEnv,
    Output,
    SingleEnvShell,
    check_discrete_actions,
    copy_arrays,
)

__all__ = [
    "REWARDS",
    "DQSSTNEnv",
    "DQSSTNParams",
    "DQSSTNVectorEnv",
    "ZoomTranslateAction",
    "apply_zoom_translate",
    "salient_targets",
    "step_rewards",
]

REWARDS = ("continuous_loss", "discrete_accuracy", "continuous_iou", "discrete_iou", "combined")
_CLASSIFIER_REWARDS = ("continuous_loss", "discrete_accuracy", "combined")
_IOU_EPS = 1e-9


class ZoomTranslateAction(IntEnum):
    """The six transformations of DQ-SSTN (sec. 3)."""

    IDENTITY = 0
    UP = 1
    DOWN = 2
    LEFT = 3
    RIGHT = 4
    ZOOM_IN = 5


# (dx, dy) direction of each action, in units of one translation step
_DIRECTIONS = np.array([[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0], [0, 0]], dtype=np.float64)


@dataclass(frozen=True)
class DQSSTNParams:
    """Constants of the MDP (defaults from sec. 4.1.2 of the paper)."""

    obs_size: tuple[int, int] = (224, 224)
    horizon: int = 10
    translate_px: float = 4.0
    zoom_factor: float = 0.8
    reward: str = "discrete_iou"
    alpha: float = 1.0
    beta: float = 0.8
    stop_on_identity: bool = False

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if len(self.obs_size) != 2 or min(self.obs_size) < 8:
            raise ValueError(
                f"obs_size must be (height, width) of at least 8 px, got {self.obs_size}"
            )
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if not 0 < self.zoom_factor < 1:
            raise ValueError(f"zoom_factor must lie in (0, 1) (zoom in), got {self.zoom_factor}")
        if self.translate_px <= 0:
            raise ValueError(f"translate_px must be > 0, got {self.translate_px}")

    @property
    def needs_classifier(self) -> bool:
        return self.reward in _CLASSIFIER_REWARDS


# -- pure batched core -------------------------------------------------------------------------
def apply_zoom_translate(
    view_boxes: np.ndarray | torch.Tensor, actions: np.ndarray | torch.Tensor, params: DQSSTNParams
) -> np.ndarray | torch.Tensor:
    """The next view window of each env. ``view_boxes [N, 4]``, ``actions [N]`` -> ``[N, 4]``.

    The transform composes on the current view: a translation moves the window by
    ``translate_px`` observation pixels, a zoom scales it by ``zoom_factor`` about its centre.
    """
    is_zoom = actions == ZoomTranslateAction.ZOOM_IN
    if isinstance(view_boxes, torch.Tensor):
        directions = torch.as_tensor(_DIRECTIONS, dtype=view_boxes.dtype, device=view_boxes.device)
        zoom = 1.0 - is_zoom.to(view_boxes.dtype) * (1.0 - params.zoom_factor)
    else:
        directions = _DIRECTIONS
        zoom = np.where(is_zoom, params.zoom_factor, 1.0)
    obs_h, obs_w = params.obs_size
    step = box_sizes(view_boxes) * params.translate_px
    step[..., 0] /= obs_w
    step[..., 1] /= obs_h
    return translate_boxes(zoom_boxes(view_boxes, zoom), directions[actions] * step)


def salient_targets(
    boxes: np.ndarray, labels: np.ndarray, difficult: np.ndarray, num_classes: int
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Salient box and label (largest object), the Top-2 labels and the Any multi-hot.

    Args:
        boxes (ndarray[K, 4]), labels (ndarray[K]), difficult (ndarray[K]): one scene, K >= 1.
        num_classes: Size of the multi-hot vector.

    Returns:
        ``(salient_box [4], salient_label, labels_top2 [2] (-1 pads a one-object scene),
        labels_any [num_classes] bool)``.
    """
    if len(boxes) == 0:
        raise ValueError("a DQ-SSTN scene needs at least one object")
    candidates = ~difficult if (~difficult).any() else np.ones(len(boxes), dtype=bool)
    area = np.where(candidates, box_area(boxes.astype(np.float64)), -1.0)
    order = np.argsort(-area, kind="stable")
    top2 = np.full(2, -1, dtype=np.int64)
    ranked = order[candidates[order]][:2]
    top2[: len(ranked)] = labels[ranked]
    labels_any = np.zeros(num_classes, dtype=bool)
    labels_any[labels] = True
    return boxes[order[0]].astype(np.float64), int(labels[order[0]]), top2, labels_any


def step_rewards(params: DQSSTNParams, prev: dict[str, Any], cur: dict[str, Any]) -> Any:
    """Reward of every env from the previous and current ``iou``/``loss``/``correct`` arrays."""
    delta_iou = cur["iou"] - prev["iou"]
    if params.reward == "continuous_iou":
        return delta_iou
    d_iou = (delta_iou > _IOU_EPS) * 1.0 - (delta_iou < -_IOU_EPS) * 1.0
    if params.reward == "discrete_iou":
        return d_iou
    if params.reward == "discrete_accuracy":
        return cur["correct"] * 1.0 - prev["correct"] * 1.0
    r_loss = prev["loss"] - cur["loss"]
    return (
        r_loss
        if params.reward == "continuous_loss"
        else params.alpha * r_loss + params.beta * d_iou
    )


# -- environments ------------------------------------------------------------------------------
class DQSSTNVectorEnv(BatchedVectorEnv):
    """Salient-object classification by zoom and translate, ``num_envs`` scenes at once.

    ## Description
    Each episode shows one scene. The agent starts with the whole image in view and applies
    one of six transformations per step to the view window; the window is always resampled
    from the original image. The *salient* object is the largest (non-difficult) box.

    ## Action Space
    ``Discrete(6)`` per env (:class:`ZoomTranslateAction`):

    | Num | Action   | Effect on the view window                              |
    |-----|----------|--------------------------------------------------------|
    | 0   | identity | none (how an agent stops early)                        |
    | 1   | up       | move up by ``translate_px`` observation pixels          |
    | 2   | down     | move down by ``translate_px`` observation pixels        |
    | 3   | left     | move left by ``translate_px`` observation pixels        |
    | 4   | right    | move right by ``translate_px`` observation pixels       |
    | 5   | zoom in  | scale the window by ``zoom_factor`` about its centre     |

    ## Observation Space
    ``Box(0, 255, (H, W, 3), uint8)``: the view window resampled (bilinear) to ``obs_size``.

    ## Rewards
    One of :data:`REWARDS` (see the module docstring); default ``"discrete_iou"``.

    ## Episode End
    Terminated after ``horizon`` steps (T = 10), or at an identity action when
    ``stop_on_identity=True``. Never truncated.

    ## Info
    ``view_box``, ``salient_box`` (``[4]`` float64, original pixels), ``salient_label``,
    ``salient_iou``, ``labels_top2`` (``[2]``, -1 pads), ``labels_any`` (multi-hot
    ``[num_classes]``), ``scene_index``, ``step``.

    ## Arguments
    | name | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"shapes"`` | ``"shapes"``, ``"voc"``, ``"coco"`` or a ``SceneDataset`` |
    | ``root``, ``split``, ``year`` | reader defaults | where and which part of the dataset |
    | ``reward`` | ``"discrete_iou"`` | one of :data:`REWARDS` |
    | ``classifier`` | default per dataset | ``nn.Module`` for the loss/accuracy rewards |
    | ``obs_size`` | 224 | int or ``(h, w)`` |
    | ``horizon``, ``translate_px``, ``zoom_factor`` | 10, 4, 0.8 | the paper's constants |
    | ``alpha``, ``beta`` | 1.0, 0.8 | weights of the combined reward |
    | ``stop_on_identity`` | False | identity ends the episode |
    | ``device``, ``backend``, ``output`` | cpu, auto, numpy | where it runs, what it returns |

    Reset options: ``scene_index`` (int, or one per env) picks the scene instead of sampling.

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
        reward: str = "discrete_iou",
        classifier: torch.nn.Module | None = None,
        obs_size: int | tuple[int, int] = 224,
        horizon: int = 10,
        translate_px: float = 4.0,
        zoom_factor: float = 0.8,
        alpha: float = 1.0,
        beta: float = 0.8,
        stop_on_identity: bool = False,
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
        size = (obs_size, obs_size) if isinstance(obs_size, int) else tuple(obs_size)
        self.params = DQSSTNParams(
            obs_size=size, horizon=horizon, translate_px=translate_px, zoom_factor=zoom_factor,
            reward=reward, alpha=alpha, beta=beta, stop_on_identity=stop_on_identity,
        )  # fmt: skip
        self.dataset = load_dataset(dataset, root=root, split=split, year=year)
        self.classifier = self._resolve_classifier(classifier)
        self._images = ImageBatch(self.num_envs, self.device, backend)
        self._set_spaces(
            spaces.Box(0, 255, (*size, 3), np.uint8), spaces.Discrete(len(ZoomTranslateAction))
        )
        n, c = self.num_envs, self.dataset.num_classes
        self._view = self._zeros((n, 4))
        self._salient_box = self._zeros((n, 4))
        self._salient_label = self._zeros((n,), torch.int64)
        self._iou = self._zeros((n,))
        self._loss = self._zeros((n,))
        self._correct = self._zeros((n,), torch.bool)
        self._labels_top2 = np.full((n, 2), -1, dtype=np.int64)
        self._labels_any = np.zeros((n, c), dtype=bool)
        self._scene_index = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.int64)
        self._obs_cache: np.ndarray | torch.Tensor | None = None

    @property
    def _on_torch(self) -> bool:
        return self._images.backend == "torch"

    def _zeros(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> Any:
        if self._on_torch:
            return torch.zeros(shape, dtype=dtype, device=self.device)
        return np.zeros(shape, dtype=torch.empty((), dtype=dtype).numpy().dtype)

    def _resolve_classifier(self, classifier: torch.nn.Module | None) -> torch.nn.Module | None:
        if classifier is None and self.params.needs_classifier:
            from visenv.models.classifier import default_view_classifier

            classifier = default_view_classifier(self.dataset)
        if classifier is not None and not isinstance(classifier, torch.nn.Module):
            raise TypeError(
                f"classifier must be a torch.nn.Module, got {type(classifier).__name__}"
            )
        return None if classifier is None else classifier.to(self.device).eval()

    # -- hooks -------------------------------------------------------------------------------
    def _scene_indices(self, env_ids: np.ndarray, options: dict[str, Any]) -> np.ndarray:
        unknown = set(options) - {"scene_index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; DQSSTN takes 'scene_index'")
        if "scene_index" not in options:
            return np.array([self._rngs[i].integers(len(self.dataset)) for i in env_ids])
        picked = np.asarray(options["scene_index"], dtype=np.int64)
        picked = (
            np.broadcast_to(picked, (self.num_envs,))[env_ids]
            if picked.ndim == 0 or len(picked) == self.num_envs
            else picked
        )
        if len(picked) != len(env_ids) or picked.min() < 0 or picked.max() >= len(self.dataset):
            raise ValueError(
                f"options['scene_index'] must be an int or {self.num_envs} ints in "
                f"[0, {len(self.dataset)}), got {options['scene_index']!r}"
            )
        return picked

    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        scene_ids = self._scene_indices(env_ids, options)
        views, salient, labels = [], [], []
        for i, k in zip(env_ids, scene_ids, strict=True):
            scene = self.dataset[k]
            self._images.set(i, scene.image)
            box, label, top2, any_ = salient_targets(
                scene.boxes, scene.labels, scene.difficult, self.dataset.num_classes
            )
            views.append([0.0, 0.0, scene.width, scene.height])
            salient.append(box)
            labels.append(label)
            self._labels_top2[i], self._labels_any[i] = top2, any_
        self._scene_index[env_ids] = scene_ids
        self._t[env_ids] = 0
        for name, values in (
            ("_view", views),
            ("_salient_box", salient),
            ("_salient_label", labels),
        ):
            self._assign(name, env_ids, np.asarray(values))
        self._assign("_iou", env_ids, box_iou(self._view[env_ids], self._salient_box[env_ids]))
        self._obs_cache = None
        if self.classifier is not None:
            loss, correct = self._classify(self._observe(env_ids), self._salient_label[env_ids])
            self._assign("_loss", env_ids, loss)
            self._assign("_correct", env_ids, correct)

    def _assign(self, name: str, env_ids: np.ndarray, values: Any) -> None:
        target = getattr(self, name)
        if isinstance(target, torch.Tensor):
            target[torch.as_tensor(env_ids, device=self.device)] = torch.as_tensor(
                values, device=self.device, dtype=target.dtype
            )
        else:
            target[env_ids] = values

    def _classify(self, views: Any, labels: Any) -> tuple[Any, Any]:
        x = torch.as_tensor(views, device=self.device).permute(0, 3, 1, 2).float().div_(255)
        y = torch.as_tensor(labels, device=self.device)
        with torch.no_grad():
            logits = self.classifier(x)
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="none").double()
        correct = logits.argmax(1) == y
        return (loss, correct) if self._on_torch else (loss.cpu().numpy(), correct.cpu().numpy())

    def _check_actions(self, actions: Any) -> Any:
        return check_discrete_actions(
            actions, len(ZoomTranslateAction), self.num_envs, self.single_action_space,
            self.device if self._on_torch else None,
        )  # fmt: skip

    def _step_envs(self, actions: Any, active: np.ndarray) -> tuple[Any, Any, Any]:
        prev = {"iou": self._iou, "loss": self._loss, "correct": self._correct}
        self._view = apply_zoom_translate(self._view, actions, self.params)
        self._iou = box_iou(self._view, self._salient_box)
        self._t += 1
        self._obs_cache = None
        if self.classifier is not None:
            self._obs_cache = self._observe(None)
            self._loss, self._correct = self._classify(self._obs_cache, self._salient_label)
        rewards = step_rewards(
            self.params, prev, {"iou": self._iou, "loss": self._loss, "correct": self._correct}
        )
        terminated = self._t >= self.params.horizon
        if self.params.stop_on_identity:
            stop = actions == ZoomTranslateAction.IDENTITY
            terminated = terminated | (
                stop.cpu().numpy() if isinstance(stop, torch.Tensor) else stop
            )
        return rewards, terminated, np.zeros(self.num_envs, dtype=bool)

    def _observe(self, env_ids: np.ndarray | None) -> Any:
        if env_ids is None:
            if self._obs_cache is None:
                self._obs_cache = self._images.crop(self._view, self.params.obs_size)
            return self._obs_cache
        return self._images.crop(self._view[env_ids], self.params.obs_size, env_ids)

    def _info(self) -> dict[str, Any]:
        info = {
            "view_box": self._view,
            "salient_box": self._salient_box,
            "salient_label": self._salient_label,
            "salient_iou": self._iou,
            "labels_top2": self._labels_top2,
            "labels_any": self._labels_any,
            "scene_index": self._scene_index,
            "step": self._t,
        }
        # copies: the state arrays are updated in place at the next reset
        return copy_arrays(info)

    def _render_env(self, env_id: int) -> np.ndarray:
        from visenv.render.dqsstn import dqsstn_frame

        scene = self.dataset[int(self._scene_index[env_id])]
        view = self._observe(np.array([env_id]))[0]
        return dqsstn_frame(
            scene, _np(self._view[env_id]), _np(self._salient_box[env_id]),
            view if isinstance(view, np.ndarray) else view.cpu().numpy(),
            step=int(self._t[env_id]), iou=float(self._iou[env_id]),
        )  # fmt: skip


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class DQSSTNEnv(SingleEnvShell):
    """A single DQ-SSTN environment; see :class:`DQSSTNVectorEnv` for the MDP and arguments.

    ``gym.make("VisAttn/DQSSTN-Shapes-v0")`` returns this (wrapped in Gymnasium's checkers);
    it runs the same batched code with one env, so it matches the vector env step for step.
    """

    vector_env_class = DQSSTNVectorEnv
