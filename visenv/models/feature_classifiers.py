"""Which feature backbone an env scores with: the default small CNN, a fine-tuned VGG16 from a
local file, or the caller's own :class:`~visenv.models.backbone.FeatureBackbone`.

BGCut (paper 004) and RARL (paper 003) both fine-tune an ImageNet VGG16 with a sigmoid head; no
weights can be downloaded here, so ``"vgg16"`` needs the torchvision file on disk, and the
fine-tuned network is cached like every other default model (:mod:`visenv.models._cache`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import torch

from visenv.data import SceneDataset
from visenv.models._cache import dataset_fingerprint, find_weights, save_to_cache, training_dataset
from visenv.models.backbone import FeatureBackbone, default_backbone

__all__ = ["BACKBONE_NAMES", "finetuned_vgg16", "one_thread_on_cpu", "resolve_backbone"]

logger = logging.getLogger(__name__)

#: Names ``resolve_backbone`` accepts besides a model.
BACKBONE_NAMES = ("small", "vgg16")


def finetuned_vgg16(
    weights_path: str | Path,
    dataset: SceneDataset,
    *,
    image_size: int = 224,
    seconds: float = 1800.0,
    device: str | torch.device = "cpu",
) -> FeatureBackbone:
    """torchvision VGG16 from a local file, fine-tuned multi-label on ``dataset``'s training split.

    The convolutional weights come from ``weights_path`` (never downloaded); the network with a
    new sigmoid head is fine-tuned once (:func:`~visenv.models.backbone.train_backbone`, learning
    rate 1e-4, ``seconds`` at most: use a GPU) and then loaded from ``$VISENV_CACHE/models``,
    keyed by the weights file's name and size, the training split and ``image_size``.

    Raises:
        FileNotFoundError: ``weights_path`` does not exist (the message says how to get it).
    """
    from visenv.models.backbone import VGG16Backbone, train_backbone

    path = Path(weights_path)
    train_set = training_dataset(dataset)
    model = VGG16Backbone(path, train_set.num_classes, image_size=image_size)
    name = (
        f"backbone-vgg16-{path.stem}-{path.stat().st_size}-{train_set.name}-"
        f"{dataset_fingerprint(train_set)}-{image_size}px.pt"
    )
    cached = find_weights(name)
    if cached is not None:
        model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True))
        return model.eval()
    logger.warning("fine-tuning VGG16 from %s on %s (cached as %s)", path, train_set, name)
    model = train_backbone(
        train_set, image_size=image_size, seconds=seconds, lr=1e-4, model=model, device=device
    )
    save_to_cache(model.state_dict(), name)
    return model


def resolve_backbone(
    backbone: FeatureBackbone | str | None,
    dataset: SceneDataset,
    image_size: int,
    vgg16_weights: str | Path | None = None,
) -> FeatureBackbone:
    """The model an env's ``classifier`` / ``vgg16_weights`` arguments ask for.

    Args:
        backbone: ``None`` or ``"small"`` (the default small CNN for ``dataset``), ``"vgg16"``
            (needs ``vgg16_weights``) or a :class:`FeatureBackbone` with ``dataset``'s classes.
        dataset: The env's dataset.
        image_size: Side the env resizes images to.
        vgg16_weights: Local torchvision ``vgg16`` state dict, with ``"vgg16"`` only.

    Raises:
        TypeError: ``backbone`` is some other object.
        ValueError: An unknown name, ``vgg16_weights`` missing or misplaced, or a model with
            the wrong number of classes.
    """
    if vgg16_weights is not None and backbone != "vgg16":
        raise ValueError(f"vgg16_weights is read only with classifier='vgg16', got {backbone!r}")
    if backbone is None or backbone == "small":
        return default_backbone(dataset, image_size)
    if backbone == "vgg16":
        if vgg16_weights is None:
            raise ValueError(
                "classifier='vgg16' needs vgg16_weights=<path of a local torchvision vgg16 "
                "state dict, e.g. vgg16-397923af.pth>; visenv never downloads weights"
            )
        return finetuned_vgg16(vgg16_weights, dataset, image_size=image_size)
    if isinstance(backbone, str):
        raise ValueError(
            f"classifier must be a FeatureBackbone, None or one of {BACKBONE_NAMES}, "
            f"got {backbone!r}"
        )
    if not isinstance(backbone, FeatureBackbone):
        raise TypeError(
            "classifier must be a visenv FeatureBackbone (mid/top/classify), got "
            f"{type(backbone).__name__}"
        )
    if backbone.num_classes != dataset.num_classes:
        raise ValueError(
            f"classifier has {backbone.num_classes} classes, {dataset} has {dataset.num_classes}"
        )
    return backbone


@contextlib.contextmanager
def one_thread_on_cpu(device: torch.device) -> Iterator[None]:
    """Run torch on one intra-op thread when ``device`` is the CPU (no-op elsewhere).

    Small models on small maps gain nothing from a second thread, and on a busy shared CPU its
    synchronisation costs far more than the work: re-scoring one BGCut map of 28 x 28 took
    305 ms on 2 threads instead of 3 ms on 1 (measured on 2 shared cores; HSAL saw the same).
    """
    if torch.device(device).type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
