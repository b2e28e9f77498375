"""One backbone and one feature cache per configuration in a process, shared by every env.

An env that acts on feature maps (RARL crops its regions from the top map) needs a backbone
and the maps of the scenes it shows. Eight single envs in a ``SyncVectorEnv``, or the native
env beside them, should not load eight copies of the weights nor run the backbone eight times
on the same scene, so:

* :func:`resolve_backbone` turns an env's ``backbone=`` argument into a
  :class:`~visenv.models.backbone.FeatureBackbone`, loading each default (and each VGG16
  weights file) once per process and device;
* :func:`shared_feature_cache` hands every env using the same backbone object, dataset and
  image size the same :class:`~visenv.models.feature_cache.FeatureCache`.

A pickled env carries its own copy of both (the cache travels empty and refills).
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

import torch

from visenv.data import SceneDataset
from visenv.models._cache import dataset_fingerprint, training_dataset
from visenv.models.backbone import FeatureBackbone, VGG16Backbone, default_backbone
from visenv.models.feature_cache import FeatureCache

__all__ = ["BACKBONES", "resolve_backbone", "shared_feature_cache"]

#: Names ``backbone=`` takes besides a :class:`FeatureBackbone` (``None`` means ``"small"``).
BACKBONES = ("small", "vgg16")

_LOCK = threading.Lock()
_BACKBONES: dict[tuple, FeatureBackbone] = {}
_CACHES: weakref.WeakKeyDictionary[FeatureBackbone, dict[tuple, FeatureCache]] = (
    weakref.WeakKeyDictionary()
)


def resolve_backbone(
    backbone: FeatureBackbone | str | None,
    dataset: SceneDataset,
    image_size: int,
    *,
    weights_path: str | Path | None = None,
    device: str | torch.device = "cpu",
) -> FeatureBackbone:
    """The backbone an env asked for, on ``device`` and in eval mode.

    Args:
        backbone: ``None`` or ``"small"``: the default :class:`SmallBackbone` of ``dataset``
            at ``image_size`` (shipped, else cached, else trained now; see
            :func:`~visenv.models.backbone.default_backbone`). ``"vgg16"``: torchvision VGG16
            from the local file ``weights_path`` (its multi-label head is untrained; the
            conv maps are what an env reads). A :class:`FeatureBackbone`: itself, moved to
            ``device``.
        dataset: The env's dataset (the default trains on its training split).
        image_size: Side of the square images the env feeds the backbone.
        weights_path: The VGG16 state dict, for ``backbone="vgg16"`` only.
        device: Where the backbone runs.

    Raises:
        ValueError: An unknown name, ``"vgg16"`` without ``weights_path``, or a
            ``weights_path`` given with another backbone.
        TypeError: Neither a name nor a :class:`FeatureBackbone`.
    """
    device = torch.device(device)
    if isinstance(backbone, FeatureBackbone):
        if weights_path is not None:
            raise ValueError("weights_path is read only with backbone='vgg16'")
        return backbone.to(device).eval()
    if backbone is not None and not isinstance(backbone, str):
        raise TypeError(
            f"backbone must be a FeatureBackbone, one of {BACKBONES} or None, "
            f"got {type(backbone).__name__}"
        )
    name = backbone or "small"
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES} or a FeatureBackbone, got {name!r}")
    if (name == "vgg16") != (weights_path is not None):
        raise ValueError(
            "backbone='vgg16' needs weights_path= (a local torchvision vgg16 state dict; "
            "nothing is downloaded), and only it reads one"
        )
    if name == "small":
        train_set = training_dataset(dataset)
        key: tuple = ("small", train_set.name, dataset_fingerprint(train_set), image_size)
    else:
        path = Path(weights_path).expanduser().resolve()
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        key = ("vgg16", str(path), stamp, dataset.num_classes, image_size)
    key += (str(device),)
    with _LOCK:  # one load (or training run) per configuration, even from several threads
        model = _BACKBONES.get(key)
        if model is None:
            if name == "small":
                model = default_backbone(dataset, image_size)
            else:
                model = VGG16Backbone(path, dataset.num_classes, image_size=image_size)
            model = _BACKBONES[key] = model.to(device).eval()
    return model


def shared_feature_cache(
    backbone: FeatureBackbone,
    dataset: SceneDataset,
    image_size: int,
    *,
    capacity: int = 256,
    levels: tuple[str, ...] = ("top",),
) -> FeatureCache:
    """The process's :class:`FeatureCache` of ``backbone`` on ``dataset`` at ``image_size``.

    Envs asking for the same backbone object, dataset object and size share one cache (its
    capacity grows to the largest asked for). On the CPU the cache runs the backbone one scene
    at a time, so a scene's maps never depend on which other scenes were computed with it
    (native and ``SyncVectorEnv`` runs then agree bit for bit); on other devices it batches 16.
    """
    device = next(backbone.parameters()).device
    key = (id(dataset), int(image_size), tuple(levels))
    with _LOCK:
        caches = _CACHES.setdefault(backbone, {})
        cache = caches.get(key)
        if cache is None or cache.dataset is not dataset:
            cache = caches[key] = FeatureCache(
                backbone, dataset, image_size, capacity=capacity, levels=levels,
                batch_size=1 if device.type == "cpu" else 16,
            )  # fmt: skip
        cache.capacity = max(cache.capacity, capacity)
    return cache
