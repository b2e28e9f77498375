"""Calibration of BGCut's thresholds on a small validation set (paper 004, sec. 2.2, 2.3, 3.1).

The paper evaluates the score-drop threshold ``delta`` of each class and the heat map's
binarisation threshold "on a small validation set" without saying how. The rules here:

* **delta** (Eq. 1 asks whether a cut kept the object): for each validation pair (an image and
  a class in it), the score drop of the cut that removes exactly the background around the
  class's target box (the oracle's end state, :func:`~visenv.envs.bgcut_core.covering_cuts`),
  and of the four cuts that then remove half of the object, one from each side
  (:func:`object_cuts`). ``delta`` is the value that best separates the two groups
  (:func:`separating_threshold`). A class with fewer than :data:`MIN_CLASS_PAIRS` pairs gets
  the value of all pairs pooled.
* **heat threshold** (sec. 2.3): the fraction of the heat map's maximum, among
  :data:`HEAT_THRESHOLDS`, whose largest-region box alone localises the pairs' classes best
  (:func:`best_heat_threshold`).

The pairs are the first ``max_pairs`` of the env dataset's ``val`` split, else of its
training split (never its evaluation split). The result is cached on disk per classifier
weights and validation set (:func:`default_calibration`), so only the first env pays for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from visenv.core.boxes import box_iou
from visenv.core.cuts import kept_cells, largest_region_boxes, sum_pool, zero_outside_cells
from visenv.data import DatasetNotFoundError, SceneDataset, load_dataset
from visenv.envs.bgcut_core import (
    MIN_EXTENT,
    BGCutParams,
    CutSide,
    covering_cuts,
    episode_pairs,
    target_box,
)
from visenv.models._cache import dataset_fingerprint, find_weights, save_to_cache, training_dataset
from visenv.models.backbone import FeatureBackbone
from visenv.models.feature_cache import FeatureCache
from visenv.models.feature_classifiers import one_thread_on_cpu

__all__ = [
    "HEAT_THRESHOLDS",
    "MIN_CLASS_PAIRS",
    "BGCutCalibration",
    "best_heat_threshold",
    "calibrate",
    "default_calibration",
    "object_cuts",
    "separating_threshold",
    "validation_dataset",
]

logger = logging.getLogger(__name__)

HEAT_THRESHOLDS = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))
MIN_CLASS_PAIRS = 5  # validation pairs a class needs for its own delta
_CALIBRATION_VERSION = 1  # bump when the rule changes, so cached values are recomputed


@dataclass(frozen=True)
class BGCutCalibration:
    """What :func:`calibrate` chose. ``deltas[k]`` is class ``k``'s score-drop threshold."""

    deltas: tuple[float, ...]
    heat_threshold: float
    num_pairs: int


def separating_threshold(background: np.ndarray, obj: np.ndarray) -> float:
    """The ``delta`` that best tells background cuts (``drop <= delta``) from object cuts.

    Maximises the balanced accuracy ``(P(bg <= delta) + P(obj > delta)) / 2`` over the observed
    drops; returns the midpoint of the first best interval (its lower end if it is the last),
    and never less than 0, so a cut that leaves the score unchanged always counts as background.
    """
    background, obj = np.sort(np.asarray(background, float)), np.sort(np.asarray(obj, float))
    if not len(background) or not len(obj):
        raise ValueError("separating_threshold needs background and object drops")
    values = np.unique(np.concatenate([background, obj]))
    accuracy = 0.5 * (
        np.searchsorted(background, values, "right") / len(background)
        + 1.0 - np.searchsorted(obj, values, "right") / len(obj)
    )  # fmt: skip
    best = int(np.argmax(accuracy))
    end = best
    while end + 1 < len(values) and accuracy[end + 1] == accuracy[best]:
        end += 1
    delta = (values[best] + values[end + 1]) / 2 if end + 1 < len(values) else values[best]
    return float(max(delta, 0.0))


def best_heat_threshold(
    heat: np.ndarray, gt_boxes: Sequence[np.ndarray], thresholds: Sequence[float] = HEAT_THRESHOLDS
) -> float:
    """The binarisation threshold whose largest-region box localises best on validation pairs.

    Args:
        heat (ndarray[P, h, w]): Heat maps of the pairs' images.
        gt_boxes: Per pair, ``ndarray[G, 4]`` boxes of the pair's class in fractions of the
            image (the heat map's frame; IoU does not change with the scale of either axis).
        thresholds: Candidates, fractions of each map's maximum.

    Returns:
        The candidate with the highest CorLoc, then the highest mean IoU, then the smallest.
    """
    h, w = heat.shape[1:]
    best, best_key = float(thresholds[0]), (-1.0, -1.0)
    for threshold in thresholds:
        cells = largest_region_boxes(heat, float(threshold)).astype(np.float64)
        regions = cells / np.array([w, h, w, h])
        ious = np.array([box_iou(r[None], g).max() for r, g in zip(regions, gt_boxes, strict=True)])
        key = (float((ious >= 0.5).mean()), float(ious.mean()))
        if key > best_key:
            best, best_key = float(threshold), key
    return best


def object_cuts(cuts: np.ndarray, grid: int) -> list[np.ndarray]:
    """From the background cut, cuts that also remove half of the object, from each side."""
    out = []
    for side in CutSide:
        extent = grid - cuts[side & ~1] - cuts[side | 1]  # extent along the side's axis
        if extent >= 2 * MIN_EXTENT:
            more = cuts.copy()
            more[side] += extent // 2
            out.append(more)
    return out


def validation_dataset(dataset: SceneDataset) -> SceneDataset:
    """The dataset's ``val`` split, else its training split, else itself."""
    config = dict(getattr(dataset, "config", {}))
    if config.get("split") in (None, "val"):
        return dataset
    try:
        return load_dataset(dataset.name, **{**config, "split": "val"})
    except (DatasetNotFoundError, ValueError):
        return training_dataset(dataset)


@torch.no_grad()
def calibrate(
    classifier: FeatureBackbone,
    dataset: SceneDataset,
    *,
    image_size: int = 224,
    grid: int = 28,
    max_pairs: int = 200,
) -> BGCutCalibration:
    """Calibrate each class's ``delta`` and the heat-map threshold on validation pairs.

    The rules are in the module docstring; the pairs are the first ``max_pairs`` of
    ``dataset`` (pass a validation split: the env passes :func:`validation_dataset`).

    Args:
        classifier: The env's classifier.
        dataset: Validation scenes with boxes.
        image_size: Side the images are resized to.
        grid: Cut units per side.
        max_pairs: Validation pairs to use.
    """
    scene_ids, labels = episode_pairs(dataset, max_pairs=max_pairs)
    if not len(labels):
        raise ValueError(f"{dataset} has no objects to calibrate BGCut on")
    classifier.eval()
    features = FeatureCache(classifier, dataset, image_size, levels=("mid",), capacity=0)
    unique, where = np.unique(scene_ids, return_inverse=True)
    with one_thread_on_cpu(next(classifier.parameters()).device):
        mid = features.get(unique, "mid")[torch.as_tensor(where)]
    size = tuple(mid.shape[-2:])
    maps, owner, kind, gt_boxes = [mid], [], [], []
    for row, (k, label) in enumerate(zip(scene_ids, labels, strict=True)):
        boxes, classes, difficult = dataset.annotation(int(k))
        image = dataset[int(k)].image
        frame = np.array([image.shape[1], image.shape[0]] * 2, dtype=np.float64)
        gt_boxes.append(boxes[classes == label] / frame)
        target = target_box(boxes, classes, difficult, int(label))
        cut = covering_cuts(target[None], np.array([image.shape[:2]]), grid)[0]
        for j, cuts in enumerate([cut, *object_cuts(cut, grid)]):
            cells = kept_cells(torch.as_tensor(cuts[None]), size, grid)
            maps.append(zero_outside_cells(mid[row : row + 1], cells))
            owner.append(row)
            kind.append(j > 0)
    with one_thread_on_cpu(mid.device):
        all_maps = torch.cat(maps)
        logits = torch.cat(
            [classifier.classify(classifier.top(chunk)) for chunk in all_maps.split(64)]
        )
    rows = np.concatenate([np.arange(len(labels)), owner])
    scores = torch.sigmoid(logits.double()).cpu().numpy()[np.arange(len(rows)), labels[rows]]
    drops = scores[: len(labels)][owner] - scores[len(labels) :]
    is_object, owner = np.array(kind), np.array(owner)
    pooled = separating_threshold(drops[~is_object], drops[is_object])
    deltas = []
    for k in range(dataset.num_classes):
        mine = labels[owner] == k
        enough = np.unique(owner[mine]).size >= MIN_CLASS_PAIRS and (mine & is_object).any()
        deltas.append(
            separating_threshold(drops[mine & ~is_object], drops[mine & is_object])
            if enough
            else pooled
        )
    heat = sum_pool(mid).cpu().numpy()
    threshold = best_heat_threshold(heat, gt_boxes)
    return BGCutCalibration(tuple(deltas), threshold, len(labels))


def _state_fingerprint(model: torch.nn.Module) -> str:
    digest = hashlib.sha1()
    for key, value in model.state_dict().items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def default_calibration(
    classifier: FeatureBackbone, dataset: SceneDataset, params: BGCutParams, max_pairs: int
) -> BGCutCalibration:
    """:func:`calibrate` on ``dataset``'s validation split, cached on disk per classifier."""
    val = validation_dataset(dataset)
    name = (
        f"bgcut-calibration-{_state_fingerprint(classifier)}-{dataset_fingerprint(val)}-"
        f"{params.image_size}px-{params.grid}-{max_pairs}-v{_CALIBRATION_VERSION}.pt"
    )
    path = find_weights(name)
    if path is not None:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        return BGCutCalibration(
            tuple(saved["deltas"].tolist()), float(saved["heat_threshold"]), int(saved["pairs"])
        )
    logger.info("calibrating BGCut's delta and heat threshold on %s", val)
    result = calibrate(
        classifier, val, image_size=params.image_size, grid=params.grid, max_pairs=max_pairs
    )
    save_to_cache(
        {
            "deltas": torch.tensor(result.deltas, dtype=torch.float64),
            "heat_threshold": torch.tensor(result.heat_threshold, dtype=torch.float64),
            "pairs": torch.tensor(result.num_pairs),
        },
        name,
    )
    return result
