"""HSAL: saliency-based hierarchical glimpses with multiset prediction.

Welleck, Mao, Cho, Zhang, "Saliency-based Sequential Image Attention with Multiset Prediction"
(paper 001 in ../shared/papers). An activation model maps the image to a volume ``V`` (C x 7 x
7) and the saliency map is ``S = sum_c V_c^2`` (sec. 3). Each *meta step* ``t`` has ``k + 2``
env steps, one per decision of the paper's hierarchy:

1. **mask** (meta-controller): a ``K = 5`` Gaussian-mixture covert mask ``M_t``; the env
   forms the priority map ``P_t = M_t * S_t`` and the initial glimpse ``g0 = sum M_t V``.
2. **glimpse** x ``k = 2`` (controller): a cell of the 7 x 7 grid; reward ``P_t`` there
   (``R_loc``, sec. 4.2), observation the activation column ``V[:, cell]``.
3. **classify** (controller): a label or "stop"; reward ``+1`` if the label is in the remaining
   multiset, which then loses one copy, else ``-1`` (``R_clf``, sec. 4.2). Then inhibition of
   return: glimpsed cells of ``S`` drop to 0, the others to ``max(S_t - M_t, 0)``.

The kernels are in :mod:`visenv.core.saliency` and :mod:`visenv.core.multiset`.

Choices the paper leaves open, made here:

* **One action space for every phase** (so SB3 and a hierarchical agent can both drive it): a
  flat ``Box(-1, 1, (4K + h*w + C + 1,))``; each phase reads its own slice and ignores the
  rest (:func:`action_layout`). Mask slice ``a`` (order ``alpha, beta, kappa1, kappa2``, K each)
  maps to the paper's raw vector as ``alpha_raw = alpha_scale * a`` (5), ``kappa_raw =
  kappa_scale * a`` (6; ``sigmoid(+-6)`` reaches the grid's edges) and ``beta_raw = log 1.5 +
  (a + 1) / 2 * (log 2 - log 1.5)``, so ``beta = exp(beta_raw)`` lies in ``[1.5, 2.0]``
  (appendix A) by construction. Location and label slices are scores: the choice is their
  argmax (first maximum on ties), so a categorical agent writes a one-hot
  (:func:`encode_actions`).
* **Grid geometry**: cell ``(i, j)`` is centred at ``(i + 0.5, j + 0.5)`` and ``kappa =
  sigmoid * 7`` spans ``(0, 7)``; the paper's ``i = 1..m`` is the same grid shifted by half a
  cell. ``kappa1`` is the row, ``kappa2`` the column (as ``phi`` pairs them).
* **Normalisation** (appendix A: saliency and priority maps "normalized to have maximum 1 and
  minimum 0"): ``S_0`` and every ``P_t`` are min-max stretched; ``S_{t+1}`` is the update
  applied as written to ``S_t`` (not re-stretched, so attended regions stay low in absolute
  terms). A constant map stretches to zeros. Glimpse rewards use the stretched ``P_t``.
* **Stop** is a label of the classify phase, so it comes after a mask and ``k`` glimpses, as
  in the paper (the controller runs ``k + 1`` steps every meta step). It is right (``+1``)
  when the remaining multiset is empty, else ``-1``; either way the episode ends (the paper's
  inference stops at the stop class; its training uses a supervised stop target at step
  ``m + 1``). The mask step earns 0.
* **Episode end**: *terminated* by the stop label (or, with ``end_on_empty=True``, as soon as
  the multiset is empty); *truncated* after ``max_meta_steps`` meta steps (default: the
  dataset's most digits + 2, i.e. 6 for canvases, ``6 * (k + 2) = 24`` env steps).
* **Label order**: the digit order of every scene is shuffled at each reset with the env's
  generator (the paper's SVHN Multiset randomises it "when a batch is sampled").
* **Observation** (``Dict``): the phase, the current ``S_t``, ``M_t``, ``P_t`` (zeros in the
  mask phase, before they exist), the latest glimpse vector, the previous glimpse location and
  the previous label: the inputs of the paper's meta-controller ``[S_t, y_{t-1}]`` and
  controller ``[P_t, y_{t-1}, a_{i-1}, g_{i-1}]``.
* **Activation model**: one model gives both ``V`` and (through ``F``) the saliency, as in
  the paper; the default is :class:`~visenv.models.activation.DigitActivationModel`
  (``V [64, 7, 7]``, fine-tuned on single-digit canvases) in place of the paper's ResNet-34.
  Volumes are computed once per episode at reset, one image at a time on the CPU path
  (identical across batch sizes, so the native env equals a ``SyncVectorEnv``) and as one
  batch on the torch path.
* **Attention on saliency** (sec. 5) is measured on the stretched ``S_t`` (values in
  ``[0, 1]``), not on the raw scale of the paper's ResNet activations, so its numbers (58.7 ->
  126.5) are not comparable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from visenv.core.images import resolve_backend
from visenv.core.saliency import normalize_min_max, saliency_map
from visenv.data import SceneDataset, load_dataset
from visenv.envs.base import (
    BatchedVectorEnv,
    Output,
    SingleEnvShell,
    check_box_actions,
    copy_arrays,
)
from visenv.envs.hsal_core import (
    HSALParams,
    Phase,
    action_layout,
    action_size,
    classify_step,
    encode_actions,
    glimpse_step,
    mask_action_values,
    mask_step,
)
from visenv.envs.hsal_core import select as _where

__all__ = [
    "HSALEnv",
    "HSALParams",
    "HSALVectorEnv",
    "Phase",
    "action_layout",
    "encode_actions",
    "mask_action_values",
]

DEFAULT_MAX_DIGITS = 6  # info padding for datasets that do not say (SVHN's most digits)
_F32_MAX = float(np.finfo(np.float32).max)


# -- environments ------------------------------------------------------------------------------
class HSALVectorEnv(BatchedVectorEnv):
    """Saliency-guided hierarchical glimpses and multiset prediction, ``num_envs`` at once.

    ## Description
    Each episode shows one image (a canvas of 1-4 digits, or an SVHN house number) whose
    labels form a multiset. The activation model gives the volume ``V`` and the saliency ``S_0``
    at reset; then every meta step is a mask decision, ``k`` glimpse decisions and a label
    decision, one env step each (module docstring).

    ## Action Space
    ``Box(-1, 1, (4K + h*w + C + 1,), float32)`` = 80 values by default; each phase reads one
    slice (:func:`action_layout`) and ignores the others:

    | slice | size | read in phase | meaning |
    |---|---|---|---|
    | ``mask`` | ``4K`` = 20 | mask | ``alpha, beta, kappa1, kappa2`` (K each), see above |
    | ``location`` | ``h*w`` = 49 | glimpse | scores; the glimpse cell is the argmax (row-major) |
    | ``label`` | ``C + 1`` = 11 | classify | scores; the label is the argmax, index ``C`` = stop |

    ## Observation Space
    ``Dict``:

    | key | space | value |
    |---|---|---|
    | ``phase`` | ``Discrete(3)`` | :class:`Phase`: 0 mask, 1 glimpse, 2 classify |
    | ``glimpse_count`` | ``Discrete(k + 1)`` | glimpses taken in this meta step |
    | ``meta_step`` | ``Discrete(T + 1)`` | meta steps done (``T = max_meta_steps``) |
    | ``saliency`` | ``Box(0, 1, (h, w))`` | ``S_t`` |
    | ``mask`` | ``Box(0, 1, (h, w))`` | ``M_t`` (zeros in the mask phase) |
    | ``priority`` | ``Box(0, 1, (h, w))`` | ``P_t`` (zeros in the mask phase) |
    | ``glimpse`` | ``Box(f32 range, (C_V,))`` | ``g0`` after the mask, then ``V[:, cell]`` |
    | ``last_location`` | ``Discrete(h*w + 1)`` | this meta step's last glimpse; ``h*w``: none |
    | ``last_label`` | ``Discrete(C + 2)`` | the last label (``C``: stop); ``C + 1``: none yet |

    ## Rewards
    Mask: 0. Glimpse: ``P_t`` at the cell, in ``[0, 1]``. Classify: ``+1`` if the label is in
    the remaining multiset (one copy is removed), else ``-1``; stop: ``+1`` if the multiset is
    empty, else ``-1``.

    ## Episode End
    Terminated by the stop label, or (``end_on_empty=True``) when the multiset empties.
    Truncated at the classify step of meta step ``max_meta_steps``.

    ## Info
    ``remaining``, ``true_counts``, ``predicted_counts`` (``[C]`` counts; predictions exclude
    stop), ``digit_boxes`` (``[D, 4]`` canvas pixels, zero pads), ``digit_labels`` (``[D]``,
    -1 pads), ``num_digits``, ``image_size`` (``[2]``: h, w), ``glimpse_cells`` (``[k]`` flat
    cells of this meta step, -1 not yet), ``glimpse_saliency`` (``[k]``: ``S_t`` there),
    ``phase``, ``meta_step``, ``glimpse_count``, ``scene_index``, ``step``.

    ## Arguments
    | name | default | meaning |
    |---|---|---|
    | ``dataset`` | ``"digits_multiset"`` | a reader name (below) or a ``SceneDataset`` |
    | ``root``, ``split`` | reader defaults | where and which part of the dataset |
    | ``activation_model`` | per dataset | ``nn.Module``: images in [0, 1] -> ``V [B, C, h, w]`` |
    | ``num_components``, ``num_glimpses`` | 5, 2 | ``K`` and ``k`` |
    | ``beta_range`` | (1.5, 2.0) | range of the Gaussian widths |
    | ``alpha_scale``, ``kappa_scale`` | 5, 6 | action -> raw logit scales of alpha and kappa |
    | ``max_meta_steps`` | most digits + 2 | truncation |
    | ``end_on_empty`` | False | end when the multiset is empty instead of waiting for stop |
    | ``device``, ``backend``, ``output`` | cpu, auto, numpy | where it runs, what it returns |

    Readers: ``digits_set``, ``digits_multiset`` (rendered digits), ``mnist_set``,
    ``mnist_multiset`` (MNIST IDX files), ``svhn_multiset`` (SVHN format 1). ``backend`` is
    ``"numpy"`` (CPU default) or ``"torch"`` (default elsewhere; on the CPU it runs the tensor
    path, for tests).

    Reset options: ``scene_index`` (int, or one per env) picks the scene instead of sampling.

    ## Version History
    * v0: initial release.
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        dataset: str | SceneDataset = "digits_multiset",
        root: str | None = None,
        split: str | None = None,
        activation_model: torch.nn.Module | None = None,
        num_components: int = 5,
        num_glimpses: int = 2,
        beta_range: tuple[float, float] = (1.5, 2.0),
        alpha_scale: float = 5.0,
        kappa_scale: float = 6.0,
        max_meta_steps: int | None = None,
        end_on_empty: bool = False,
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
        self.dataset = load_dataset(dataset, root=root, split=split)
        self.max_digits = int(getattr(self.dataset, "max_digits", DEFAULT_MAX_DIGITS))
        self.activation_model = self._resolve_activation_model(activation_model)
        channels, grid = self._volume_shape()
        self.params = HSALParams(
            grid=grid, channels=channels, num_classes=self.dataset.num_classes,
            num_components=num_components, num_glimpses=num_glimpses,
            beta_range=tuple(beta_range), alpha_scale=alpha_scale, kappa_scale=kappa_scale,
            max_meta_steps=self.max_digits + 2 if max_meta_steps is None else max_meta_steps,
            end_on_empty=end_on_empty,
        )  # fmt: skip
        self._set_spaces(self._observation_space(), self._action_space())
        self._init_state()

    # -- construction ------------------------------------------------------------------------
    @property
    def _on_torch(self) -> bool:
        return self.backend == "torch"

    def _resolve_activation_model(self, model: torch.nn.Module | None) -> torch.nn.Module:
        if model is None:
            from visenv.models.activation import default_activation_model

            model = default_activation_model(self.dataset)
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"activation_model must be a torch.nn.Module, got {type(model).__name__}"
            )
        return model.to(self.device).eval()

    def _volume_shape(self) -> tuple[int, tuple[int, int]]:
        """``C`` and ``(h, w)`` of ``V``, from one dry forward pass on the first scene."""
        volume = self._volumes([self.dataset[0].image])
        if volume.ndim != 4:
            raise ValueError(
                f"the activation model must return [B, C, h, w] volumes, got {tuple(volume.shape)}"
            )
        return int(volume.shape[1]), (int(volume.shape[2]), int(volume.shape[3]))

    def _observation_space(self) -> spaces.Dict:
        p = self.params
        unit = spaces.Box(0.0, 1.0, p.grid, np.float32)
        return spaces.Dict({
            "phase": spaces.Discrete(len(Phase)),
            "glimpse_count": spaces.Discrete(p.num_glimpses + 1),
            "meta_step": spaces.Discrete(p.max_meta_steps + 1),
            "saliency": unit,
            "mask": unit,
            "priority": unit,
            # any finite float32 (an activation model's range is its own; +-inf would make
            # Gymnasium's checker warn)
            "glimpse": spaces.Box(-_F32_MAX, _F32_MAX, (p.channels,), np.float32),
            "last_location": spaces.Discrete(p.num_cells + 1),
            "last_label": spaces.Discrete(p.num_classes + 2),
        })  # fmt: skip

    def _action_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, (action_size(self.params),), np.float32)

    def _zeros(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float64) -> Any:
        if self._on_torch:
            return torch.zeros(shape, dtype=dtype, device=self.device)
        return np.zeros(shape, dtype=torch.empty((), dtype=dtype).numpy().dtype)

    def _init_state(self) -> None:
        p, n = self.params, self.num_envs
        h, w = p.grid
        self._volume = self._zeros((n, p.channels, h, w), torch.float32)
        self._saliency = self._zeros((n, h, w))
        self._mask = self._zeros((n, h, w))
        self._priority = self._zeros((n, h, w))
        self._glimpse = self._zeros((n, p.channels), torch.float32)
        self._cells = self._zeros((n, p.num_glimpses), torch.int64) - 1
        self._glimpse_saliency = self._zeros((n, p.num_glimpses))
        self._remaining = self._zeros((n, p.num_classes), torch.int64)
        self._true_counts = self._zeros((n, p.num_classes), torch.int64)
        self._predicted = self._zeros((n, p.num_classes), torch.int64)
        for name in ("_phase", "_glimpse_count", "_meta_step", "_step"):
            setattr(self, name, self._zeros((n,), torch.int64))
        self._last_location = self._zeros((n,), torch.int64) + p.num_cells
        self._last_label = self._zeros((n,), torch.int64) + p.num_classes + 1
        # ground truth for info and oracles, always on the host
        self._boxes = np.zeros((n, self.max_digits, 4))
        self._labels = np.full((n, self.max_digits), -1, dtype=np.int64)
        self._num_digits = np.zeros(n, dtype=np.int64)
        self._image_size = np.zeros((n, 2), dtype=np.int64)
        self._scene_index = np.zeros(n, dtype=np.int64)

    # -- reset -------------------------------------------------------------------------------
    def _volumes(self, images: list[np.ndarray]) -> Any:
        """``V [B, C, h, w]`` of uint8 images: one at a time on the CPU path (the same numbers
        whatever the batch), one batch on the torch path when sizes agree."""
        tensors = [
            torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1).float().div_(255)
            for im in images
        ]
        threads = _one_thread() if self.device.type == "cpu" else contextlib.nullcontext()
        with torch.no_grad(), threads:
            if self._on_torch and len({t.shape for t in tensors}) == 1:
                return self.activation_model(torch.stack(tensors).to(self.device)).float()
            out = [self.activation_model(t[None].to(self.device)).float() for t in tensors]
        volume = torch.cat(out)
        return volume if self._on_torch else volume.cpu().numpy()

    def _scene_indices(self, env_ids: np.ndarray, options: dict[str, Any]) -> np.ndarray:
        unknown = set(options) - {"scene_index"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; HSAL takes 'scene_index'")
        if "scene_index" not in options:
            return np.array([self._rngs[i].integers(len(self.dataset)) for i in env_ids])
        picked = np.asarray(options["scene_index"], dtype=np.int64)
        if picked.ndim == 0 or len(picked) == self.num_envs:
            picked = np.broadcast_to(picked, (self.num_envs,))[env_ids]
        if len(picked) != len(env_ids) or picked.min() < 0 or picked.max() >= len(self.dataset):
            raise ValueError(
                f"options['scene_index'] must be an int or {self.num_envs} ints in "
                f"[0, {len(self.dataset)}), got {options['scene_index']!r}"
            )
        return picked

    def _reset_envs(self, env_ids: np.ndarray, options: dict[str, Any]) -> None:
        scene_ids = self._scene_indices(env_ids, options)
        images, counts = [], np.zeros((len(env_ids), self.params.num_classes), np.int64)
        for row, (i, k) in enumerate(zip(env_ids, scene_ids, strict=True)):
            scene = self.dataset[int(k)]
            d = len(scene.labels)
            if not 1 <= d <= self.max_digits:
                raise ValueError(
                    f"scene {k} of {self.dataset} has {d} labels; HSAL needs 1 to "
                    f"{self.max_digits} (the dataset's max_digits)"
                )
            order = self._rngs[i].permutation(d)  # the label order is never a cue
            self._boxes[i], self._labels[i] = 0.0, -1
            self._boxes[i, :d], self._labels[i, :d] = scene.boxes[order], scene.labels[order]
            self._num_digits[i], self._image_size[i] = d, scene.image.shape[:2]
            np.add.at(counts[row], scene.labels, 1)
            images.append(scene.image)
        self._scene_index[env_ids] = scene_ids
        volume = self._volumes(images)
        ids = torch.as_tensor(env_ids, device=self.device) if self._on_torch else env_ids
        counts = torch.as_tensor(counts, device=self.device) if self._on_torch else counts
        self._volume[ids] = volume
        self._saliency[ids] = normalize_min_max(saliency_map(volume.double()
            if self._on_torch else volume.astype(np.float64)))  # fmt: skip
        self._remaining[ids] = counts
        self._true_counts[ids] = counts
        for name in ("_mask", "_priority", "_glimpse", "_glimpse_saliency", "_predicted"):
            getattr(self, name)[ids] = 0
        for name in ("_phase", "_glimpse_count", "_meta_step", "_step"):
            getattr(self, name)[ids] = 0
        self._cells[ids] = -1
        self._last_location[ids] = self.params.num_cells
        self._last_label[ids] = self.params.num_classes + 1

    # -- step --------------------------------------------------------------------------------
    def _check_actions(self, actions: Any) -> Any:
        checked = check_box_actions(
            actions, self.single_action_space, self.num_envs,
            self.device if self._on_torch else None,
        )  # fmt: skip
        return checked.double() if self._on_torch else checked

    def _argmax(self, scores: Any) -> Any:
        # the first maximum on ties, on both paths
        return scores.argmax(1) if self._on_torch else np.argmax(scores, axis=1)

    def _step_envs(self, actions: Any, active: np.ndarray) -> tuple[Any, Any, Any]:
        p, layout = self.params, action_layout(self.params)
        is_mask, is_glimpse = self._phase == Phase.MASK, self._phase == Phase.GLIMPSE
        is_classify = self._phase == Phase.CLASSIFY
        rows = (
            torch.arange(self.num_envs, device=self.device)
            if self._on_torch
            else np.arange(self.num_envs)
        )
        # 1. mask (meta-controller): M, P = M * S, g0 = sum M V; a new meta step's glimpses
        mask, priority, g0 = mask_step(p, actions[:, layout["mask"]], self._saliency, self._volume)
        self._mask = _where(is_mask, mask, self._mask)
        self._priority = _where(is_mask, priority, self._priority)
        self._cells = _where(is_mask, self._cells * 0 - 1, self._cells)
        self._glimpse_saliency = _where(is_mask, self._glimpse_saliency * 0, self._glimpse_saliency)
        # 2. glimpse (controller): reward P at the cell, observe V's column there
        cells = self._argmax(actions[:, layout["location"]])
        r_loc, column = glimpse_step(self._priority, self._volume, cells)
        slot = self._glimpse_count.clip(0, p.num_glimpses - 1)
        self._cells[rows, slot] = _where(is_glimpse, cells, self._cells[rows, slot])
        seen = self._saliency.reshape(self.num_envs, -1)[rows, cells]
        self._glimpse_saliency[rows, slot] = _where(
            is_glimpse, seen, self._glimpse_saliency[rows, slot]
        )
        glimpse = _where(is_mask, g0, _where(is_glimpse, column, self._glimpse))
        self._glimpse = glimpse.float() if self._on_torch else glimpse.astype(np.float32)
        # 3. classify (controller): multiset reward, then inhibition of return
        labels = self._argmax(actions[:, layout["label"]])
        r_clf, remaining, stopped, next_saliency = classify_step(
            p, self._remaining, labels, self._saliency, self._mask, self._cells.clip(0, None)
        )
        stopped = stopped & is_classify
        self._remaining = _where(is_classify, remaining, self._remaining)
        self._saliency = _where(is_classify, next_saliency, self._saliency)
        counted = is_classify & ~stopped
        self._predicted[rows, labels.clip(0, p.num_classes - 1)] += (
            counted.long() if self._on_torch else counted
        )
        rewards = _where(is_mask, r_loc * 0, _where(is_glimpse, r_loc, r_clf))
        return (rewards, *self._advance(is_mask, is_glimpse, is_classify, cells, labels, stopped))

    def _advance(
        self, is_mask: Any, is_glimpse: Any, is_classify: Any, cells: Any, labels: Any, stopped: Any
    ) -> tuple[Any, Any]:
        """Phase, counters and previous choices after the step; ``(terminated, truncated)``."""
        p = self.params
        count = self._glimpse_count + is_glimpse
        to_classify = is_glimpse & (count >= p.num_glimpses)
        self._phase = _where(
            is_mask | (is_glimpse & ~to_classify),
            self._phase * 0 + Phase.GLIMPSE,
            _where(to_classify, self._phase * 0 + Phase.CLASSIFY, self._phase * 0 + Phase.MASK),
        )
        self._glimpse_count = _where(is_classify, count * 0, count)
        none = self._last_location * 0 + p.num_cells
        self._last_location = _where(
            is_glimpse, cells, _where(is_classify, none, self._last_location)
        )
        self._last_label = _where(is_classify, labels, self._last_label)
        self._meta_step = self._meta_step + is_classify
        self._step = self._step + 1
        empty = self._remaining.sum(1) == 0
        terminated = stopped | (is_classify & empty) if p.end_on_empty else stopped
        truncated = is_classify & ~terminated & (self._meta_step >= p.max_meta_steps)
        return terminated, truncated

    # -- observations, info, frames ----------------------------------------------------------
    def _observe(self, env_ids: np.ndarray | None) -> dict[str, Any]:
        def pick(x: Any) -> Any:
            if env_ids is None:
                return x.clone() if self._on_torch else x.copy()
            return x[torch.as_tensor(env_ids, device=self.device) if self._on_torch else env_ids]

        def f32(x: Any) -> Any:
            return x.float() if self._on_torch else x.astype(np.float32)

        def placed(x: Any) -> Any:  # M, P and g exist only once this meta step's mask is
            return f32(_where(in_mask, x * 0, x))

        phase = pick(self._phase)
        in_mask = phase == Phase.MASK
        return {
            "phase": phase,
            "glimpse_count": pick(self._glimpse_count),
            "meta_step": pick(self._meta_step),
            "saliency": f32(pick(self._saliency)),
            "mask": placed(pick(self._mask)),
            "priority": placed(pick(self._priority)),
            "glimpse": placed(pick(self._glimpse)),
            "last_location": pick(self._last_location),
            "last_label": pick(self._last_label),
        }

    def _info(self) -> dict[str, Any]:
        info = {
            "remaining": self._remaining,
            "true_counts": self._true_counts,
            "predicted_counts": self._predicted,
            "digit_boxes": self._boxes,
            "digit_labels": self._labels,
            "num_digits": self._num_digits,
            "image_size": self._image_size,
            "glimpse_cells": self._cells,
            "glimpse_saliency": self._glimpse_saliency,
            "phase": self._phase,
            "meta_step": self._meta_step,
            "glimpse_count": self._glimpse_count,
            "scene_index": self._scene_index,
            "step": self._step,
        }
        # copies: the state arrays are updated in place at the next step or reset
        return copy_arrays(info)

    def _render_env(self, env_id: int) -> np.ndarray:
        from visenv.render.hsal import hsal_frame

        scene = self.dataset[int(self._scene_index[env_id])]
        d = int(self._num_digits[env_id])
        return hsal_frame(
            scene.image, self._boxes[env_id, :d], self._labels[env_id, :d],
            saliency=_np(self._saliency[env_id]), mask=_np(self._mask[env_id]),
            priority=_np(self._priority[env_id]), cells=_np(self._cells[env_id]),
            phase=Phase(int(self._phase[env_id])), meta_step=int(self._meta_step[env_id]),
            remaining=_np(self._remaining[env_id]), predicted=_np(self._predicted[env_id]),
        )  # fmt: skip


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread: the small activation model gains little from more, and
    on a busy machine their synchronisation costs up to 50x the work (measured on 2 shared
    cores: 480 ms instead of 8 ms per canvas)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _np(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class HSALEnv(SingleEnvShell):
    """A single HSAL environment; see :class:`HSALVectorEnv` for the MDP and arguments.

    ``gym.make("VisAttn/HSAL-DigitsMultiset-v0")`` returns this (wrapped in Gymnasium's
    checkers); it runs the same batched code with one env, so it matches the vector env.
    """

    vector_env_class = HSALVectorEnv
