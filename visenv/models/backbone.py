"""Feature backbones split where RARL and BGCut read them, and their multi-label training.

Both papers run one ConvNet over the whole image and act on its feature maps:

* BGCut (paper 004, sec. 2.2) cuts background off a *mid-level* map (VGG16 conv4_3, 28 x 28
  at 224 input, stride 8) and re-scores the cut map with the rest of the network, whose last
  softmax is replaced by a sigmoid for multi-label classification.
* RARL (paper 003, "Proposed Method") crops anchor regions from the *last* conv map (conv5_3,
  32 x 32 at 512 input, stride 16) with bilinear crop-and-resize.

So a :class:`FeatureBackbone` exposes ``mid(images)``, ``top(mid)`` and ``classify(top)``;
``forward`` chains them, and ``classify(top(cut_mid))`` re-scores a modified mid map.

No pretrained weights can be downloaded here, so the default is :class:`SmallBackbone`, a small
CNN trained multi-label on the env's own training split (:func:`train_backbone`), shipped for the
embedded Shapes scenes and cached on disk for other datasets (:func:`default_backbone`).
:class:`VGG16Backbone` is the papers' network, loaded from a local torchvision state-dict file.

Train and ship weights with ``python -m visenv.models.backbone --dataset shapes``. The shipped
``weights/backbone-small-shapes-09fa3df6b6d9-224px.pt`` (1.8 MB; mAP 0.953, VOC07 11-point 0.917,
on the 2000 Shapes test scenes at 224, chance 0.25) came from two CPU runs with
``OMP_NUM_THREADS=1`` (on a shared 2-core machine one thread ran 2-5x faster than two): 40 min
at ``--image-size 128`` (9142 steps of 32 scenes, lr 2e-3), then 25 min at ``--image-size 224
--lr 1e-3 --init <the 128 px weights>`` (3492 steps). Most steps ran at 128 px because the
loss sits near the label prior for the first ~4000 steps and only drops after, so steps per
second mattered more than resolution; the last run adapts the network to 224.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visenv.core.metrics import mean_average_precision
from visenv.data import SceneDataset, load_dataset
from visenv.models._cache import (
    WEIGHTS_DIR,
    dataset_fingerprint,
    find_weights,
    save_to_cache,
    training_dataset,
)

__all__ = [
    "FeatureBackbone",
    "SmallBackbone",
    "SpatialMaxHead",
    "VGG16Backbone",
    "default_backbone",
    "multilabel_scores",
    "multilabel_targets",
    "scene_images",
    "train_backbone",
]

logger = logging.getLogger(__name__)

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class FeatureBackbone(nn.Module, ABC):
    """A multi-label ConvNet split into mid-level features, top features and a head.

    Subclasses set the attributes and implement the three stages. Images are float
    ``[B, 3, H, W]`` in ``[0, 1]``; each backbone normalises them itself. For ``H`` and ``W``
    multiples of 16 the maps are exactly ``H / 8 x W / 8`` and ``H / 16 x W / 16``, and they
    share the image's frame (see :mod:`visenv.core`): a box maps to map cells by dividing by
    the stride.

    Attributes:
        num_classes: Number of labels ``K`` (independent sigmoids, not a softmax).
        mid_channels: Channels ``C_mid`` of :meth:`mid`.
        top_channels: Channels ``C_top`` of :meth:`top`.
        mid_stride: Image pixels per mid-map cell (8).
        top_stride: Image pixels per top-map cell (16).
        image_size: Side of the square images it was trained on (``None`` if unknown).
    """

    num_classes: int
    mid_channels: int
    top_channels: int
    mid_stride: int = 8
    top_stride: int = 16
    image_size: int | None = None

    @abstractmethod
    def mid(self, images: torch.Tensor) -> torch.Tensor:
        """Mid-level map (BGCut's cut map): ``[B, 3, H, W] -> [B, C_mid, H/8, W/8]``, >= 0."""

    @abstractmethod
    def top(self, mid: torch.Tensor) -> torch.Tensor:
        """Last conv map (RARL's crop map): ``[B, C_mid, h, w] -> [B, C_top, h/2, w/2]``, >= 0."""

    @abstractmethod
    def classify(self, top: torch.Tensor) -> torch.Tensor:
        """Multi-label logits ``[B, K]`` of a top map or of crops of it (any spatial size)."""

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mid, top)`` maps of ``images``, computing the mid map once."""
        mid = self.mid(images)
        return mid, self.top(mid)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, K]`` of images ``float [B, 3, H, W]`` in ``[0, 1]``."""
        return self.classify(self.top(self.mid(images)))


def _check_images(images: torch.Tensor) -> None:
    if images.ndim != 4 or images.shape[1] != 3 or not images.is_floating_point():
        raise ValueError(
            f"images must be float [B, 3, H, W] in [0, 1], got {images.dtype} {tuple(images.shape)}"
        )


class SpatialMaxHead(nn.Module):
    """Per-location class logits (a 1 x 1 conv), then the maximum over locations.

    Global *max* pooling rather than average pooling, for both papers: a class score depends
    only on the best location for that class, so zeroing background cells of the mid map (a
    BGCut cut, paper 004 sec. 2.2) leaves it unchanged while cutting the object lowers it,
    which is exactly what BGCut's reward (Eq. 1) tests; an average would drop with every cut
    as the zeros dilute it. It is also RARL's category-wise max-pooling (paper 003, Eq. 3)
    and applies to region crops of any size.

    Args:
        in_channels: Channels of the top map.
        num_classes: Number of labels.
        dropout: Dropout on the features during training.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv2d(in_channels, num_classes, 1)

    def class_maps(self, top: torch.Tensor) -> torch.Tensor:
        """Per-location logits ``[B, C_top, h, w] -> [B, K, h, w]`` (class activation maps)."""
        return self.conv(self.dropout(top))

    def forward(self, top: torch.Tensor) -> torch.Tensor:
        return self.class_maps(top).amax(dim=(2, 3))


def _conv_bn_relu(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False)
    return [conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class SmallBackbone(FeatureBackbone):
    """The default backbone: a small CNN sized for the CPU (0.44 M parameters at width 16).

    Mid: three stages of (3x3 stride-2 conv, 3x3 conv), each with BatchNorm and ReLU, widths
    ``w, 2w, 4w`` (receptive field 43 px). Top: a stride-2 stage of width ``8w`` whose last
    conv is dilated by 2, so a top cell sees 155 px, about the largest Shapes object at 224
    input. Head: :class:`SpatialMaxHead`.

    Args:
        num_classes: Number of labels.
        width: Channels of the first stage (``mid_channels = 4 * width``, ``top_channels =
            8 * width``).
        image_size: Side of the square images it is meant for (recorded, not enforced).
    """

    def __init__(self, num_classes: int, *, width: int = 16, image_size: int | None = 224) -> None:
        super().__init__()
        if num_classes < 1 or width < 1:
            raise ValueError(f"num_classes and width must be >= 1, got {num_classes}, {width}")
        self.num_classes, self.width, self.image_size = num_classes, width, image_size
        self.mid_channels, self.top_channels = 4 * width, 8 * width
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise((3, width, 2 * width, 4 * width)):
            layers += _conv_bn_relu(cin, cout, stride=2) + _conv_bn_relu(cout, cout)
        self.mid_layers = nn.Sequential(*layers)
        self.top_layers = nn.Sequential(
            *_conv_bn_relu(4 * width, 8 * width, stride=2),
            *_conv_bn_relu(8 * width, 8 * width),
            *_conv_bn_relu(8 * width, 8 * width, dilation=2),
        )
        self.head = SpatialMaxHead(8 * width, num_classes)
        # Shapes and photos are roughly centred grey; exact statistics matter little with BN
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.45))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))

    def mid(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images)
        return self.mid_layers((images - self.mean) / self.std)

    def top(self, mid: torch.Tensor) -> torch.Tensor:
        return self.top_layers(mid)

    def classify(self, top: torch.Tensor) -> torch.Tensor:
        return self.head(top)


class VGG16Backbone(FeatureBackbone):
    """torchvision VGG16 split at conv4_3 and conv5_3, with a new multi-label head.

    Mid is ``features[:23]`` (through conv4_3 + ReLU, stride 8, 512 channels: BGCut's map);
    top is ``features[23:30]`` (pool4, conv5_1..conv5_3 + ReLU, stride 16, 512 channels:
    RARL's conv5_3). The fully connected layers are dropped: the head is a
    :class:`SpatialMaxHead`, randomly initialised, to be trained with :func:`train_backbone`
    (``model=``). Images are normalised with the ImageNet statistics the weights expect.

    Weights are read from a local file and never downloaded.

    Args:
        weights_path: A torchvision ``vgg16`` state dict (e.g. ``vgg16-397923af.pth``); only the
            ``features.*`` entries are used, so a file holding just those works too.
        num_classes: Number of labels of the new head.
        image_size: Side of the square images it is meant for (recorded, not enforced).

    Raises:
        FileNotFoundError: ``weights_path`` does not exist (the message says how to get it).
        ValueError: The file holds no VGG16 ``features.*`` weights.
    """

    def __init__(
        self, weights_path: str | Path, num_classes: int, *, image_size: int | None = 224
    ) -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        weights = _vgg16_feature_weights(Path(weights_path))  # fail fast, before building
        # vgg16's conv layers alone: building the whole network would first initialise its
        # 120 M classifier weights, which are dropped (3 s of the 4 s this took)
        features = make_layers(cfgs["D"])
        features.load_state_dict(weights)
        self.num_classes, self.image_size = num_classes, image_size
        self.mid_channels = self.top_channels = 512
        self.mid_layers, self.top_layers = features[:23], features[23:30]
        self.head = SpatialMaxHead(512, num_classes)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def mid(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images)
        return self.mid_layers((images - self.mean) / self.std)

    def top(self, mid: torch.Tensor) -> torch.Tensor:
        return self.top_layers(mid)

    def classify(self, top: torch.Tensor) -> torch.Tensor:
        return self.head(top)


def _vgg16_feature_weights(path: Path) -> dict[str, torch.Tensor]:
    """The ``features.*`` entries of a VGG16 state-dict file, prefix stripped."""
    if not path.is_file():
        raise FileNotFoundError(
            f"VGG16 weights not found at {path}. visenv never downloads weights: on a machine "
            'with internet run `python -c "import torchvision; '
            "torchvision.models.vgg16(weights='IMAGENET1K_V1')\"`, which saves "
            "~/.cache/torch/hub/checkpoints/vgg16-397923af.pth (528 MB), copy that file here "
            "and pass its path as weights_path"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    features = {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    if not features:
        raise ValueError(
            f"{path} holds no VGG16 'features.*' weights (keys start {list(state)[:3]}); "
            "expected a torchvision vgg16 state dict"
        )
    return features


def scene_images(
    dataset: SceneDataset,
    indices: Sequence[int] | np.ndarray | torch.Tensor,
    image_size: int,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Whole scenes resized to ``image_size x image_size``: ``float [B, 3, S, S]`` in ``[0, 1]``.

    The aspect ratio is not kept (both papers resize to ``N x N``). Downscaling averages pixel
    areas (OpenCV ``INTER_AREA``) so 640-pixel photos do not alias at 224.
    """
    size = (image_size, image_size)
    arrays = [
        cv2.resize(dataset[int(i)].image, size, interpolation=cv2.INTER_AREA) for i in indices
    ]
    batch = torch.from_numpy(np.stack(arrays)).to(device)
    return batch.permute(0, 3, 1, 2).float().div_(255)


def multilabel_targets(
    dataset: SceneDataset, indices: Sequence[int] | np.ndarray | None = None
) -> np.ndarray:
    """``bool [N, K]``: which classes have at least one object in each scene (difficult too)."""
    indices = range(len(dataset)) if indices is None else indices
    targets = np.zeros((len(indices), dataset.num_classes), dtype=bool)
    for row, index in enumerate(indices):
        targets[row, dataset.annotation(int(index))[1]] = True
    return targets


@torch.no_grad()
def multilabel_scores(
    backbone: FeatureBackbone,
    dataset: SceneDataset,
    *,
    image_size: int,
    indices: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Sigmoid scores and multi-hot targets of scenes (for ``mean_average_precision``).

    Returns:
        ``(scores float [N, K], targets bool [N, K])``.
    """
    indices = np.arange(len(dataset)) if indices is None else np.asarray(indices)
    device = next(backbone.parameters()).device
    was_training = backbone.training
    backbone.eval()
    scores = [
        torch.sigmoid(backbone(scene_images(dataset, chunk, image_size, device))).cpu()
        for chunk in np.array_split(indices, max(1, math.ceil(len(indices) / batch_size)))
    ]
    backbone.train(was_training)
    return torch.cat(scores).numpy(), multilabel_targets(dataset, indices)


def _cosine_lr(progress: float, warmup: float = 0.05) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to 0 at ``progress = 1``."""
    if progress < warmup:
        return progress / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def _shuffled_batches(n: int, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches of one random permutation of ``range(n)`` after another, forever."""
    while True:
        yield from torch.randperm(n, generator=gen).split(batch_size)


def train_backbone(
    dataset: SceneDataset,
    *,
    image_size: int = 224,
    seconds: float = 60.0,
    max_epochs: int = 30,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    model: FeatureBackbone | None = None,
    device: str | torch.device = "cpu",
) -> FeatureBackbone:
    """Train a backbone multi-label (sigmoid BCE) on whole scenes within a time budget.

    Labels are the classes present in a scene; augmentation is a random horizontal flip (both
    papers). The learning rate warms up, then decays on a cosine to 0 at whichever comes
    first, ``max_epochs`` or ``seconds``, so a time-limited run still ends annealed (and,
    being timed, is not bit-reproducible across machines).

    Args:
        dataset: Training scenes (streamed; only ``batch_size`` are decoded at a time).
        image_size: Side the scenes are resized to.
        seconds: Wall-clock budget.
        max_epochs: Passes over ``dataset`` at most.
        batch_size: Scenes per step.
        lr: Peak AdamW learning rate.
        seed: Seeds the initialisation, the order and the flips.
        model: Backbone to train (e.g. a :class:`VGG16Backbone` to fine-tune); default a new
            :class:`SmallBackbone`.
        device: Where to train.

    Returns:
        The trained backbone, in eval mode.
    """
    torch.manual_seed(seed)
    if model is None:
        model = SmallBackbone(dataset.num_classes, image_size=image_size)
    if model.num_classes != dataset.num_classes:
        raise ValueError(f"model has {model.num_classes} classes, dataset {dataset.num_classes}")
    model.to(device).train()
    targets = torch.from_numpy(multilabel_targets(dataset)).float().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    total = max_epochs * math.ceil(len(dataset) / batch_size)
    start, step = time.perf_counter(), 0
    for batch in _shuffled_batches(len(dataset), batch_size, gen):
        progress = max(step / total, (time.perf_counter() - start) / seconds)
        if progress >= 1:
            break
        for group in opt.param_groups:
            group["lr"] = lr * _cosine_lr(progress)
        x = scene_images(dataset, batch.tolist(), image_size, device)
        flip = (torch.rand(len(x), generator=gen) < 0.5).to(device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        loss = F.binary_cross_entropy_with_logits(model(x), targets[batch.to(device)])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            logger.info("backbone: step %d (%.0f%%) loss %.4f", step, 100 * progress, loss.item())
    logger.info("backbone: %d steps in %.0f s", step, time.perf_counter() - start)
    return model.eval()


def _weights_name(dataset: SceneDataset, image_size: int) -> str:
    return f"backbone-small-{dataset.name}-{dataset_fingerprint(dataset)}-{image_size}px.pt"


def default_backbone(
    dataset: SceneDataset, image_size: int = 224, *, seconds: float = 60.0
) -> SmallBackbone:
    """The default backbone for ``dataset``: shipped weights, else cached, else trained now.

    It is trained on the training split matching ``dataset``'s split (VOC ``test`` ->
    ``trainval``, Shapes ``test`` -> ``train``) at ``image_size``, and cached under
    ``$VISENV_CACHE/models`` keyed by that split's configuration and ``image_size``.

    Args:
        dataset: The env's dataset.
        image_size: Side of the square images the env feeds it.
        seconds: Training budget when nothing is shipped or cached.
    """
    train_set = training_dataset(dataset)
    name = _weights_name(train_set, image_size)
    path = find_weights(name)
    if path is not None:
        model = SmallBackbone(train_set.num_classes, image_size=image_size)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()
    logger.warning("training the default backbone on %s (cached as %s)", train_set, name)
    model = train_backbone(train_set, image_size=image_size, seconds=seconds)
    save_to_cache(model.state_dict(), name)
    return model


def _main() -> None:
    """Train, save and evaluate a default backbone (``python -m visenv.models.backbone``)."""
    import argparse

    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--split", default="train")
    parser.add_argument("--test-split", default="test")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--test-scenes", type=int, default=2000)
    parser.add_argument("--init", type=Path, help="continue from these SmallBackbone weights")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dataset = load_dataset(args.dataset, split=args.split)
    torch.manual_seed(0)
    model = SmallBackbone(dataset.num_classes, image_size=args.image_size)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
    model = train_backbone(
        dataset, image_size=args.image_size, seconds=args.seconds, max_epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, model=model,
    )  # fmt: skip
    path = args.out / _weights_name(dataset, args.image_size)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    test_set = load_dataset(args.dataset, split=args.test_split)
    indices = np.arange(min(args.test_scenes, len(test_set)))
    scores, targets = multilabel_scores(
        model, test_set, image_size=args.image_size, indices=indices
    )
    _, m_ap = mean_average_precision(scores, targets)
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB); mAP on {len(indices)} "
          f"{args.test_split} scenes: {m_ap:.4f} (chance: {targets.mean():.4f})")  # fmt: skip


if __name__ == "__main__":
    _main()
