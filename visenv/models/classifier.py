"""The view classifier that DQ-SSTN's loss and accuracy rewards query, trainable offline.

The paper fine-tunes an ImageNet ResNet18 on PASCAL VOC (sec. 4.1.2). No weights may be
downloaded here, so the default is a small CNN trained on the env's own training split on first
use (a few seconds to ~20 s on two CPU cores), cached under ``$VISENV_CACHE/models``; for the
embedded Shapes scenes its weights ship with the package. Any ``nn.Module`` mapping
``float [B, 3, H, W]`` in ``[0, 1]`` to logits ``[B, num_classes]`` can replace it.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visenv.core.crop import crop_and_resize
from visenv.data import SceneDataset, load_dataset
from visenv.models._cache import (
    WEIGHTS_DIR,
    cache_dir,
    dataset_fingerprint,
    find_weights,
    save_to_cache,
    training_dataset,
)

__all__ = [
    "ViewClassifier",
    "cache_dir",
    "default_view_classifier",
    "train_view_classifier",
    "training_views",
]

logger = logging.getLogger(__name__)


class ViewClassifier(nn.Module):
    """Small CNN: views ``float [B, 3, H, W]`` in ``[0, 1]`` -> logits ``[B, num_classes]``.

    Inputs of any size are resized (antialiased bilinear) to ``input_size`` first.

    Args:
        num_classes: Number of output classes.
        input_size: Side the views are resized to.
        width: Channels of the first block (doubling twice).
    """

    def __init__(self, num_classes: int, input_size: int = 64, width: int = 32) -> None:
        super().__init__()
        self.num_classes, self.input_size, self.width = num_classes, input_size, width
        chans = [3, width, 2 * width, 4 * width, 4 * width]
        blocks: list[nn.Module] = []
        for cin, cout in itertools.pairwise(chans):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)]
            blocks += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(chans[-1], num_classes))
        self.register_buffer("mean", torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))

    def forward(self, views: torch.Tensor) -> torch.Tensor:
        if views.shape[-2:] != (self.input_size, self.input_size):
            size = (self.input_size, self.input_size)
            views = F.interpolate(
                views, size=size, mode="bilinear", antialias=True, align_corners=False
            )
        x = self.features((views - self.mean) / self.std)
        return self.head(F.adaptive_avg_pool2d(x, 1))


def training_views(
    dataset: SceneDataset, num_scenes: int, views_per_scene: int, size: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Views like those a DQ-SSTN agent sees, labelled with the salient class.

    For each scene: the whole image, then windows with the image's aspect ratio that frame the
    salient box loosely (1.1 to 4 times its larger relative side), shifted at random with the
    box's centre inside; a view zoomed *into* an object carries no label information.

    Returns:
        ``(views uint8 [M, size, size, 3], labels int64 [M])``.
    """
    from visenv.envs.dqsstn import salient_targets  # the env defines what "salient" means

    rng = np.random.default_rng(seed)
    picks = rng.permutation(len(dataset))[:num_scenes]
    images, boxes, labels = [], [], []
    for index in picks:
        scene = dataset[int(index)]
        box, label, _, _ = salient_targets(
            scene.boxes, scene.labels, scene.difficult, dataset.num_classes
        )
        w, h = scene.width, scene.height
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        fit = max((box[2] - box[0]) / w, (box[3] - box[1]) / h)  # zoom that just fits the box
        for v in range(views_per_scene):
            z = 1.0 if v == 0 else min(1.0, fit * rng.uniform(1.1, 4.0))
            vw, vh = w * z, h * z
            x1 = cx - vw * rng.uniform(0.25, 0.75)
            y1 = cy - vh * rng.uniform(0.25, 0.75)
            images.append(scene.image)
            boxes.append([x1, y1, x1 + vw, y1 + vh])
            labels.append(label)
    views = crop_and_resize(images, np.asarray(boxes, dtype=np.float64), (size, size))
    return views, np.asarray(labels, dtype=np.int64)


def train_view_classifier(
    dataset: SceneDataset,
    *,
    num_scenes: int = 1000,
    views_per_scene: int = 6,
    seconds: float = 15.0,
    max_epochs: int = 30,
    seed: int = 0,
    input_size: int = 64,
    lr: float = 3e-3,
) -> ViewClassifier:
    """Train a :class:`ViewClassifier` on views of ``dataset`` within a time budget (CPU).

    Every epoch draws fresh views (new scenes from a large or procedural dataset, new windows
    of a small one), so a long run does not memorise a fixed set. The learning rate follows a
    cosine over the budget: ``max_epochs`` or ``seconds``, whichever runs out first.
    """
    torch.manual_seed(seed)
    model = ViewClassifier(dataset.num_classes, input_size).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for epoch in range(max_epochs):
        views, labels = training_views(
            dataset, num_scenes, views_per_scene, input_size, seed + epoch
        )
        x = torch.from_numpy(views).permute(0, 3, 1, 2).float().div_(255)
        y = torch.from_numpy(labels)
        batches = torch.randperm(len(x), generator=gen).split(64)
        for k, batch in enumerate(batches):
            progress = max(
                (time.perf_counter() - start) / seconds, (epoch + k / len(batches)) / max_epochs
            )
            if progress >= 1:
                return model.eval()
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * progress))
            flip = torch.rand(len(batch), generator=gen) < 0.5  # the paper's horizontal flips
            xb = torch.where(flip[:, None, None, None], x[batch].flip(-1), x[batch])
            loss = F.cross_entropy(model(xb), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        logger.info("view classifier: epoch %d loss %.3f", epoch + 1, loss.item())
    return model.eval()


def default_view_classifier(dataset: SceneDataset) -> ViewClassifier:
    """The default classifier for ``dataset``: shipped weights, else cached, else trained now."""
    train_set = training_dataset(dataset)
    name = f"view-classifier-{train_set.name}-{dataset_fingerprint(train_set)}.pt"
    path = find_weights(name)
    if path is not None:
        model = ViewClassifier(train_set.num_classes)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()
    logger.warning("training the default view classifier on %s (cached as %s)", train_set, name)
    model = train_view_classifier(train_set)
    save_to_cache(model.state_dict(), name)
    return model


def _main() -> None:
    """Train and save a default classifier (``python -m visenv.models.classifier``)."""
    import argparse

    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("--dataset", default="shapes")
    parser.add_argument("--split", default="train")
    parser.add_argument("--scenes", type=int, default=4000)
    parser.add_argument("--views", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dataset = load_dataset(args.dataset, split=args.split)
    model = train_view_classifier(
        dataset, num_scenes=args.scenes, views_per_scene=args.views, seconds=args.seconds,
        max_epochs=args.epochs,
    )  # fmt: skip
    path = args.out / f"view-classifier-{dataset.name}-{dataset_fingerprint(dataset)}.pt"
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    views, labels = training_views(load_dataset(args.dataset, split="test"), 500, args.views, 64, 1)
    x = torch.from_numpy(views).permute(0, 3, 1, 2).float().div_(255)
    with torch.no_grad():
        acc = (model(x).argmax(1).numpy() == labels).mean()
    print(f"saved {path}; accuracy on 500 test scenes x {args.views} views: {acc:.3f}")


if __name__ == "__main__":
    _main()
