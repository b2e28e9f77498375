"""RARL: recurrent attention over anchor regions of a feature map, for multi-label recognition.

Chen et al., "Recurrent Attention Reinforcement Learning for Multi-label Image Recognition"
(paper 003 in ../shared/papers), "Proposed Method":

* The image is resized to ``N x N`` (512 in the paper) and a ConvNet maps it to the feature
  map ``f_I`` (VGG16 conv5_3, ``C x N/16 x N/16``).
* Iteration 0 is the whole image: ``R_0`` is one region, "merely used to determine ``l_1``".
* At iteration ``t = 1..T`` (``T = 5``), ``k = 9`` anchor regions ``R_t`` are centred at
  ``l_t``: areas ``80^2, 160^2, 320^2`` at ``N = 512`` (scaled with ``N``: ``100^2 ...`` at
  640) times aspect ratios (width:height) 2:1, 1:1, 1:2. Each is cropped from ``f_I`` and
  resampled bilinearly to a fixed size, ``f_tr = G(f_I, R_tr)`` (Eq. 1).
* The action (Eq. 2) is the label scores ``a_tr`` of every region and the next location
  ``l_{t+1}``. After ``T`` iterations the scores are fused by category-wise max (Eq. 3) and the
  reward (Eq. 5) is ``|g ∩ p| / n`` at ``t = T`` (``g`` the ``n`` true labels, ``p`` the
  ``n`` labels of highest fused score), 0 before; ``gamma = 1`` (Eq. 6), so the return is the
  last reward.

Env steps: :meth:`reset` shows iteration 0; the action at iteration ``t`` carries the scores of
the regions shown (read for ``t >= 1``) and ``l_{t+1}`` (read for ``t < T``); the action at
iteration ``T`` ends the episode. An episode is ``T + 1`` steps.

Choices the paper leaves open, made here:

* Region features are ``7 x 7`` (``region_size``; Faster R-CNN's RoI size for VGG16, whose
  anchors the paper borrows), every channel of the map kept, crops batched over envs and regions
  in one :func:`~visenv.core.crop.crop_and_resize_torch` call (pixel-edge sampling).
* Iteration 0 fills all ``k`` region slots with the whole map resampled to the same size: the
  paper's agent embeds each region and averages the hidden states (``h_t = 1/k sum_r h_tr``),
  which over ``k`` copies is exactly its value on the one region ``R_0``. Its scores are not
  fused (``R_0`` only places ``l_1``).
* ``l = (-1, -1)`` is the image's top-left corner, ``(1, 1)`` its bottom-right corner (the
  paper's ``0 <= x <= W'``, ``0 <= y <= H'`` on the map). Locations outside ``[-1, 1]^2`` are
  an invalid action (the paper's Gaussian sample, sigma 0.11, is the agent's to keep inside).
  Anchors are not clipped at the border: the part outside the map reads as zero features.
* Scores lie in ``[0, 1]`` and read as probabilities (the paper's ``p = softmax(a)``, Eq. 10,
  fits); the reward depends only on their order, ties going to the lower class index.
  Fused scores start at 0.
* ``g`` is every annotated class of the scene, VOC's "difficult" objects included (the
  evaluation ignores classes present only as difficult, as the VOC devkit does). Scenes with no
  label are skipped at reset (Eq. 5 needs ``n >= 1``).
* The image is resized to ``N x N`` without keeping its aspect ratio ("resized to W x H").
* The recurrent state ``h_{t-1}`` of the paper's state ``s_t`` is the agent's own; the
  observation adds the iteration index and ``l_t``. After the last step it shows iteration
  ``T + 1`` and zero regions.
* Training augmentation ((N - 64)-crops, flips) and ten-view testing are protocols of the
  agent's training and evaluation, not part of the MDP, and are not provided.

One compute path: features are torch tensors, so the crops run in torch on ``device`` (the CPU
too; OpenCV's ``warpAffine`` takes at most 4 channels). Geometry, scores and rewards are a few
numbers per env and stay on the host. On the CPU the backbone passes (at reset, for scenes
not yet cached) run on ``num_threads=1`` intra-op thread by default: on 2 shared cores a
512 x 512 pass of the default backbone took 47 ms on one thread and 330-580 ms on two. The
crops of every step run on torch's own setting, since switching costs ~2.5 ms of thread-pool
churn each time; for few envs on a busy CPU, ``torch.set_num_threads(1)`` speeds steps up
several fold (benchmarks/results/rarl_throughput.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from visenv.core.boxes import anchor_boxes, normalized_to_pixel, scale_boxes
from visenv.core.crop import crop_and_resize_torch
from visenv.core.metrics import top_n_label_recall
from visenv.data import SceneDataset, load_dataset
from visenv.envs.base import BatchedVectorEnv, Output, SingleEnvShell
from visenv.envs.rarl_actions import ActionCodec, ActionFormat, ActionLayout
from visenv.models.backbone import FeatureBackbone
from visenv.models.shared_features import resolve_backbone, shared_feature_cache

__all__ = [
    "PAPER_ANCHOR_SIDES",
    "PAPER_ASPECT_RATIOS",
    "ActionCodec",
    "ActionLayout",
    "RARLEnv",
    "RARLParams",
    "RARLVectorEnv",
    "paper_anchor_sides",
    "region_boxes",
]

#: Sides (square roots of the anchor areas) at ``N = 512`` ("Implementation details").
PAPER_ANCHOR_SIDES = (80.0, 160.0, 320.0)
#: Width over height of the anchors: 2:1, 1:1, 1:2.
PAPER_ASPECT_RATIOS = (2.0, 1.0, 0.5)
_PAPER_SIZE = 512
_F32_MAX = float(np.finfo(np.float32).max)
_MAX_DRAWS = 100  # scene draws at reset before giving up on finding a labelled scene


def paper_anchor_sides(image_size: int) -> tuple[float, ...]:
    """The paper's anchor sides scaled to ``image_size`` (80/160/320 at 512, 100/200/400 at
    640, as the paper's two scales)."""
    return tuple(s * image_size / _PAPER_SIZE for s in PAPER_ANCHOR_SIDES)


@dataclass(frozen=True)
class RARLParams:
    """Constants of the MDP (defaults: paper 003, "Implementation details")."""

    image_size: int = 512
    num_iterations: int = 5
    sides: tuple[float, ...] | None = None  # None: the paper's, scaled to image_size
    aspect_ratios: tuple[float, ...] = PAPER_ASPECT_RATIOS
    region_size: int = 7
    num_labels: int = 20

    def __post_init__(self) -> None:
        if self.image_size < 32 or self.image_size % 16:
            raise ValueError(
                f"image_size must be a multiple of 16 (the map's stride), >= 32, "
                f"got {self.image_size}"
            )
        if self.sides is None:
            object.__setattr__(self, "sides", paper_anchor_sides(self.image_size))
        if self.num_iterations < 1:
            raise ValueError(f"num_iterations must be >= 1, got {self.num_iterations}")
        if not self.sides or min(self.sides) <= 0 or not self.aspect_ratios:
            raise ValueError(f"need positive anchor sides and ratios, got {self.sides}")
        if min(self.aspect_ratios) <= 0:
            raise ValueError(f"aspect ratios must be > 0, got {self.aspect_ratios}")
        if self.region_size < 1:
            raise ValueError(f"region_size must be >= 1, got {self.region_size}")
        if self.num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {self.num_labels}")

    @property
    def num_regions(self) -> int:
        """``k``: anchors per iteration (9)."""
        return len(self.sides) * len(self.aspect_ratios)


# -- pure batched core -------------------------------------------------------------------------
def region_boxes(locations: np.ndarray, iteration: np.ndarray, params: RARLParams) -> np.ndarray:
    """Regions ``[N, k, 4]`` (pixels of the ``N x N`` image) shown at ``iteration [N]``.

    Iteration 0: the whole image in every slot; later: the anchors centred at ``locations``
    (``[N, 2]`` in ``[-1, 1]^2``), scales slowest, then aspect ratios 2:1, 1:1, 1:2.
    """
    size = params.image_size
    centres = normalized_to_pixel(np.asarray(locations, dtype=np.float64), size, size)
    boxes = anchor_boxes(centres, params.sides, params.aspect_ratios)
    boxes[np.asarray(iteration) == 0] = (0.0, 0.0, size, size)
    return boxes


@contextlib.contextmanager
def _cpu_threads(device: torch.device, num_threads: int | None) -> Iterator[None]:
    """Run torch's CPU work on ``num_threads`` intra-op threads (``None``: as configured)."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or num_threads is None or num_threads == threads:
        yield  # nothing to switch (a switch costs ~2.5 ms of thread-pool churn)
        return
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# -- environments ------------------------------------------------------------------------------
class RARLVectorEnv(BatchedVectorEnv):
    """Multi-label recognition by recurrent attention on anchor regions, ``num_envs`` at once.

    ## Description
    Each episode shows one scene through a backbone's feature map: first the whole image, then
    ``T`` iterations of ``k = 9`` anchor regions around locations the agent picks. The agent
    scores every label for every region; after ``T`` iterations the scores are fused by
    category-wise max and the top-``n`` labels are compared with the ``n`` true labels.
    Paper, equations and every choice it leaves open: the module docstring.

    ## Action Space
    ``action_format="dict"`` (default, the paper's two actions): ``Dict`` of

    | key | space | read at iteration | meaning |
    |---|---|---|---|
    | ``location`` | ``Box(-1, 1, (2,))`` float32 | ``0 .. T-1`` | ``l_{t+1}`` ``(x, y)`` |
    | ``scores`` | ``Box(0, 1, (k, K))`` float32 | ``1 .. T`` | label scores of each region |

    ``action_format="flat"`` (for stable-baselines3): ``Box(-1, 1, (2 + k * K,))``, the
    location then the scores region by region, each read as ``(x + 1) / 2``
    (:class:`~visenv.envs.rarl_actions.ActionLayout`). Unread parts are still checked.
    ``env.action_codec.encode(n, location=, scores=)`` builds a batch in the env's format.

    ## Observation Space
    ``Dict``: ``regions`` (``float32 [k, C, S, S]``: the region features ``f_tr``, ``C`` the
    backbone's channels, ``S = region_size``; the whole map in every slot at iteration 0;
    zeros once the episode is over), ``iteration`` (``Discrete(T + 2)``: 0 whole image,
    ``1..T`` anchors, ``T + 1`` over), ``location`` (``float32 [2]``, ``l_t``; ``(0, 0)``, the
    whole image's centre, at iteration 0).

    ## Rewards
    ``|g ∩ p| / n`` at the step that ends the episode (Eq. 5), 0 before.

    ## Episode End
    Terminated by the action at iteration ``T`` (``T + 1`` steps). Never truncated.

    ## Info
    ``iteration``, ``location`` (``[2]``), ``locations`` (``[T, 2]``, ``l_1..l_T`` so far,
    zeros pending), ``region_boxes`` (``[k, 4]`` pixels of the ``N x N`` image, the regions
    shown, the last ones once over), ``fused_scores`` (``[K]``, the category-wise max so far),
    ``labels`` (``[K]`` bool, ``g``), ``num_labels`` (``n``), ``difficult_only`` (``[K]``
    bool, classes annotated only as difficult), ``scene_index``.
    ``env.object_boxes()`` gives every env's boxes and labels in the ``N x N`` frame.

    ## Arguments
    | name | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"shapes"`` | ``"shapes"``, ``"voc"``, ``"coco"`` or a ``SceneDataset`` |
    | ``root``, ``split``, ``year`` | reader defaults | where and which part of the dataset |
    | ``backbone`` | ``None`` | ``None``/``"small"`` (default CNN), ``"vgg16"`` or a |
    | | | :class:`~visenv.models.backbone.FeatureBackbone` (its ``top`` map is read) |
    | ``backbone_weights`` | ``None`` | local VGG16 state dict, with ``backbone="vgg16"`` |
    | ``image_size`` | 512; Shapes 224 | ``N``, a multiple of 16 |
    | ``num_iterations`` | 5 | ``T`` |
    | ``anchor_sides`` | 80, 160, 320 x N/512 | sides of the anchor areas (pixels) |
    | ``aspect_ratios`` | 2, 1, 0.5 | width over height |
    | ``region_size`` | 7 | ``S`` |
    | ``feature_cache_size`` | 256 | scenes whose maps stay in memory (shared per process) |
    | ``num_threads`` | 1 | torch threads of CPU backbone passes; ``None``: torch's setting |
    | ``action_format`` | ``"dict"`` | ``"dict"`` or ``"flat"`` (Action Space) |
    | ``device``, ``backend``, ``output`` | cpu, torch, numpy | where it runs, what it returns |

    The default backbone is a small CNN trained multi-label on the training split of
    ``dataset`` at ``image_size`` (shipped, else cached under ``$VISENV_CACHE``, else trained
    on first use for about a minute). ``backend`` is ``"torch"`` on every device.
    Reset options: ``scene_index`` (int, or one per env) picks the scene.

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
        backbone: FeatureBackbone | str | None = None,
        backbone_weights: str | Path | None = None,
        image_size: int | None = None,
        num_iterations: int = 5,
        anchor_sides: tuple[float, ...] | None = None,
        aspect_ratios: tuple[float, ...] = PAPER_ASPECT_RATIOS,
        region_size: int = 7,
        feature_cache_size: int = 256,
        num_threads: int | None = 1,
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
        if backend not in (None, "torch"):
            raise ValueError(
                f"backend must be 'torch' (or None), got {backend!r}: RARL crops feature maps "
                "of many channels, which only the torch kernel takes, on the CPU too"
            )
        self.backend = "torch"
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be >= 1 or None, got {num_threads}")
        self.num_threads = num_threads
        self.dataset = load_dataset(dataset, root=root, split=split, year=year)
        if image_size is None:
            image_size = 224 if self.dataset.name == "shapes" else _PAPER_SIZE
        self.params = RARLParams(
            image_size=image_size, num_iterations=num_iterations,
            sides=None if anchor_sides is None else tuple(anchor_sides),
            aspect_ratios=tuple(aspect_ratios), region_size=region_size,
            num_labels=self.dataset.num_classes,
        )  # fmt: skip
        p = self.params
        self.backbone = resolve_backbone(
            backbone, self.dataset, p.image_size, weights_path=backbone_weights,
            device=self.device,
        )  # fmt: skip
        self.features = shared_feature_cache(
            self.backbone, self.dataset, p.image_size, capacity=feature_cache_size
        )
        channels, map_size = self._map_shape()
        self.action_format = action_format
        self.action_codec = ActionCodec(action_format, p.num_regions, p.num_labels)
        s = p.region_size
        self._set_spaces(
            spaces.Dict({
                "regions": spaces.Box(
                    -_F32_MAX, _F32_MAX, (p.num_regions, channels, s, s), np.float32
                ),
                "iteration": spaces.Discrete(p.num_iterations + 2),
                "location": spaces.Box(-1.0, 1.0, (2,), np.float32),
            }),
            self.action_codec.space,
        )  # fmt: skip
        n, k = self.num_envs, p.num_labels
        # map cells per image pixel (x, y): boxes of the N x N image -> the map's frame
        self._map_scale = (map_size[1] / p.image_size, map_size[0] / p.image_size)
        self._maps = torch.zeros((n, channels, *map_size), device=self.device)
        self._iteration = np.zeros(n, dtype=np.int64)
        self._location = np.zeros((n, 2))
        self._locations = np.zeros((n, p.num_iterations, 2))
        self._regions = region_boxes(self._location, self._iteration, p)
        self._fused = np.zeros((n, k))
        self._labels = np.zeros((n, k), dtype=bool)
        self._difficult_only = np.zeros((n, k), dtype=bool)
        self._scene_index = np.zeros(n, dtype=np.int64)
        self._objects: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros((0, 4)), np.zeros(0, dtype=np.int64))
        ] * n
        self._rows = np.arange(n)
        self._cache: dict[str, Any] = {}

    def _threads(self) -> contextlib.AbstractContextManager[None]:
        return _cpu_threads(self.device, self.num_threads)

    def _map_shape(self) -> tuple[int, tuple[int, int]]:
        """Channels and ``(h, w)`` of the backbone's top map at ``N x N``, by one dry pass."""
        size = self.params.image_size
        with torch.no_grad(), self._threads():
            top = self.backbone.top(
                self.backbone.mid(torch.zeros(1, 3, size, size).to(self.device))
            )
        if top.ndim != 4:
            raise ValueError(f"the backbone's top map must be [B, C, h, w], got {tuple(top.shape)}")
        return int(top.shape[1]), (int(top.shape[2]), int(top.shape[3]))

    # -- hooks -------------------------------------------------------------------------------
    def _scene_indices(self, env_ids: np.ndarray, options: dict[str, Any]) -> list[int] | None:
        unknown = set(options) - {"scene_index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; RARL takes 'scene_index'")
        if "scene_index" not in options:
            return None
        picked = np.asarray(options["scene_index"], dtype=np.int64)
        if picked.ndim == 0 or len(picked) == self.num_envs:
            picked = np.broadcast_to(picked, (self.num_envs,))[env_ids]
        if len(picked) != len(env_ids) or picked.min() < 0 or picked.max() >= len(self.dataset):
            raise ValueError(
                f"options['scene_index'] must be an int or {self.num_envs} ints in "
                f"[0, {len(self.dataset)}), got {options['scene_index']!r}"
            )
        return [int(k) for k in picked]

    def _draw_scene(self, env_id: int) -> int:
        """A random scene with at least one label, drawn with env ``env_id``'s generator."""
        rng = self._rngs[env_id]
        for _ in range(_MAX_DRAWS):
            index = int(rng.integers(len(self.dataset)))
            if len(self.dataset.annotation(index)[1]):
                return index
        raise ValueError(f"{_MAX_DRAWS} random scenes of {self.dataset} had no labels")

    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        picked = self._scene_indices(env_ids, options)
        scene_ids = [self._draw_scene(i) for i in env_ids] if picked is None else picked
        size = self.params.image_size
        for i, index in zip(env_ids, scene_ids, strict=True):
            scene = self.dataset[index]
            if not len(scene.labels):
                raise ValueError(f"scene {index} of {self.dataset} has no labels (Eq. 5 needs one)")
            boxes = scale_boxes(
                scene.boxes.astype(np.float64), size / scene.width, size / scene.height
            )
            self._objects[i] = (boxes, scene.labels.copy())
            self._labels[i] = False
            self._labels[i, scene.labels] = True
            self._difficult_only[i] = False
            self._difficult_only[i, scene.labels[scene.difficult]] = True
            self._difficult_only[i, scene.labels[~scene.difficult]] = False
        with self._threads():
            maps = self.features.get(scene_ids, "top")
        self._maps[torch.as_tensor(env_ids, device=self.device)] = maps.to(self.device)
        self._scene_index[env_ids] = scene_ids
        self._iteration[env_ids] = 0
        self._location[env_ids] = 0.0
        self._locations[env_ids] = 0.0
        self._regions[env_ids] = region_boxes(
            self._location[env_ids], np.zeros(len(env_ids), dtype=np.int64), self.params
        )
        self._fused[env_ids] = 0.0
        self._cache = {}

    def _check_actions(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        # both formats decode to the same decisions, on the host (a few numbers per env)
        return self.action_codec.decode(actions, self.num_envs)

    def _step_envs(
        self, decisions: tuple[np.ndarray, np.ndarray], active: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        locations, scores = decisions
        p, t = self.params, self._iteration
        rewards = np.zeros(self.num_envs)
        scoring = (t >= 1) & (t <= p.num_iterations)  # Eq. 3 fuses R_1..R_T, not R_0
        moving = t < p.num_iterations
        ending = t == p.num_iterations
        if scoring.all():
            np.maximum(self._fused, scores.max(axis=1), out=self._fused)
        elif scoring.any():
            self._fused[scoring] = np.maximum(self._fused[scoring], scores[scoring].max(axis=1))
        if moving.any():
            ids = self._rows[moving]
            self._location[ids] = locations[ids]
            self._locations[ids, t[ids]] = locations[ids]
            self._regions[ids] = region_boxes(locations[ids], t[ids] + 1, p)
        if ending.any():
            rewards[ending] = top_n_label_recall(self._fused[ending], self._labels[ending])
        self._iteration[t <= p.num_iterations] += 1
        self._cache = {}
        return rewards, ending, np.zeros(self.num_envs, dtype=bool)

    def _region_features(self, env_ids: np.ndarray | None) -> torch.Tensor:
        """``f_tr`` of envs ``env_ids`` (``None``: all): ``float32 [B, k, C, S, S]``."""
        rows = self._rows if env_ids is None else np.asarray(env_ids)
        boxes = scale_boxes(self._regions[rows], *self._map_scale)
        maps = (
            self._maps if env_ids is None else self._maps[torch.as_tensor(rows, device=self.device)]
        )
        s = self.params.region_size
        crops = crop_and_resize_torch(
            maps, torch.as_tensor(boxes, dtype=torch.float32, device=self.device), (s, s)
        ).contiguous()
        over = self._iteration[rows] > self.params.num_iterations
        if over.any():
            crops[torch.as_tensor(over, device=self.device)] = 0.0
        return crops

    def _observe(self, env_ids: np.ndarray | None) -> dict[str, Any]:
        if env_ids is not None:
            return self._observation(env_ids)
        if "obs" not in self._cache:
            self._cache["obs"] = self._observation(None)
        return self._cache["obs"]

    def _observation(self, env_ids: np.ndarray | None) -> dict[str, Any]:
        rows = self._rows if env_ids is None else np.asarray(env_ids)
        return {
            "regions": self._region_features(env_ids),
            "iteration": self._iteration[rows].copy(),
            "location": self._location[rows].astype(np.float32),
        }

    def _info(self) -> dict[str, Any]:
        # copies: the state arrays change in place at the next step or reset
        return {
            "iteration": self._iteration.copy(),
            "location": self._location.copy(),
            "locations": self._locations.copy(),
            "region_boxes": self._regions.copy(),
            "fused_scores": self._fused.copy(),
            "labels": self._labels.copy(),
            "num_labels": self._labels.sum(axis=1),
            "difficult_only": self._difficult_only.copy(),
            "scene_index": self._scene_index.copy(),
        }

    def object_boxes(
        self, env_ids: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every object of each env's scene: ``(boxes float64 [M, 4] in pixels of the N x N
        image, labels int64 [M])`` per env (``env_ids``, default all)."""
        rows = self._rows if env_ids is None else np.asarray(env_ids)
        return [self._objects[int(i)] for i in rows]

    def _render_env(self, env_id: int) -> np.ndarray:
        from visenv.render.rarl import rarl_frame

        p, i = self.params, env_id
        scene = self.dataset[int(self._scene_index[i])]
        image = cv2.resize(scene.image, (p.image_size,) * 2, interpolation=cv2.INTER_AREA)
        t = int(self._iteration[i])
        seen = self._locations[i, : min(t, p.num_iterations)]
        return rarl_frame(
            image, regions=self._regions[i], locations=seen, iteration=t,
            num_iterations=p.num_iterations, objects=self._objects[i],
            fused_scores=self._fused[i], labels=self._labels[i], classes=self.dataset.classes,
        )  # fmt: skip


class RARLEnv(SingleEnvShell):
    """A single RARL environment; see :class:`RARLVectorEnv` for the MDP and arguments.

    ``gym.make("VisAttn/RARL-Shapes-v0")`` returns this (wrapped in Gymnasium's checkers); it
    runs the same batched code with one env, so it matches the vector env step for step.
    """

    vector_env_class = RARLVectorEnv
