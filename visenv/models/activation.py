"""HSAL's activation model f_A: image -> activation volume V (C x 7 x 7), trainable offline.

The paper (sec. 5, "Implementation Details") uses an ImageNet ResNet-34 at 224 x 224, fine-tuned
on a single-object MNIST Set (for SVHN: on one randomly chosen label of an image per sample),
and takes its last conv layer, ``V in R^{512 x 7 x 7}``; the saliency model reduces the same
``V``. No weights may be downloaded here, so the default is :class:`DigitActivationModel`, a
small CNN on the canvas resized to 84 x 84 whose last conv block gives ``V [64, 7, 7]`` (ReLU),
fine-tuned the paper's way from scratch: classify single-digit canvases (same sizes and
clutter as the task, digits from the *train* pool) through a global max pool over ``V`` and a
linear layer, so high activations, hence high saliency, sit where digits are.

Weights for the embedded rendered digits and for MNIST canvases built from the MNIST files of
``../shared/data`` ship in ``models/weights/``; any other data (another MNIST root, SVHN)
trains on first use within ``seconds`` (20 s on two CPU cores) and is cached under
``$VISENV_CACHE/models``. Any ``nn.Module`` mapping ``float [B, 3, H, W]`` in ``[0, 1]`` to
``[B, C, h, w]`` can replace it (the env's ``activation_model=`` argument).

``python -m visenv.models.activation --dataset digits_multiset`` (or ``mnist_multiset``)
trains and saves the shipped weights and prints the single-digit accuracy on test-pool
canvases: 0.997 for rendered digits, 0.977 for MNIST (700 steps of 128 fresh canvases, 16 and
20 minutes on two shared CPU cores). Their saliency peaks on a cell overlapping a digit in
97% of multi-digit test canvases.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visenv.data import LabelledImages, SceneDataset, load_dataset
from visenv.data.multidigit import DigitCanvases
from visenv.models._cache import WEIGHTS_DIR, find_weights, save_to_cache

__all__ = [
    "DigitActivationModel",
    "activation_training_set",
    "default_activation_model",
    "single_object_accuracy",
    "train_activation_model",
    "weights_name",
]

logger = logging.getLogger(__name__)
_VERSION = "v1"  # bump when the architecture or the training recipe changes


class DigitActivationModel(nn.Module):
    """Small CNN: images ``float [B, 3, H, W]`` in ``[0, 1]`` -> ``V float [B, C, 7, 7]``.

    Images are resized (antialiased bilinear) to ``input_size`` (84) first. A 5 x 5 conv with
    stride 2 and two 3 x 3 conv blocks with 2 and 3 max pooling bring 84 to 7; a fourth block
    gives ``V`` (BatchNorm, ReLU, so ``V >= 0``; receptive field about 60 canvas px, a large
    digit). :meth:`classify` is the fine-tuning head: a global max pool over ``V`` and a linear
    layer, so the strongest cell, where the digit is, carries the class.

    Args:
        num_classes: Classes of the fine-tuning head.
        channels: ``C``, the depth of ``V``.
        width: Channels of the first block (doubling twice).
        input_size: Side the images are resized to (12 x the grid side).
    """

    def __init__(
        self, num_classes: int = 10, channels: int = 64, width: int = 16, input_size: int = 84
    ) -> None:
        super().__init__()
        self.num_classes, self.channels, self.input_size = num_classes, channels, input_size

        def block(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
            # replicate padding: zero padding draws an edge round the canvas that the features
            # (and so the saliency) would light up on
            conv = nn.Conv2d(
                cin, cout, kernel, stride, padding=kernel // 2, bias=False, padding_mode="replicate"
            )
            return [conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(3, width, 5, 2),
            *block(width, 2 * width),
            nn.MaxPool2d(2),
            *block(2 * width, 4 * width),
            nn.MaxPool2d(3),
            *block(4 * width, channels),
        )
        self.head = nn.Linear(channels, num_classes)

    def resize(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` at ``input_size`` (unchanged when already there)."""
        size = (self.input_size, self.input_size)
        if images.shape[-2:] == size:
            return images
        return F.interpolate(
            images, size=size, mode="bilinear", antialias=True, align_corners=False
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The activation volume ``V [B, C, 7, 7]``."""
        return self.features(self.resize(images) / 0.25)

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, num_classes]`` of the fine-tuning task (one object per image)."""
        return self.head(torch.amax(self(images), dim=(2, 3)))


def activation_training_set(
    dataset: SceneDataset, num_images: int, seed: int = 0, start: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Single-object training images for ``dataset``'s activation model (paper sec. 5).

    For :class:`~visenv.data.DigitCanvases`: canvases of *one* digit from its train pool, with
    the dataset's digit sizes and clutter (the single-object MNIST Set), numbered ``start``,
    ``start + 1``, ... For any other scene dataset (SVHN): random scenes, each labelled with one
    of its labels chosen at random.

    Returns:
        ``(images uint8 [M, H, W, 3], labels int64 [M])``.
    """
    if isinstance(dataset, DigitCanvases):
        singles = DigitCanvases(
            dataset.train_digits, multiset=False, split="train", num_canvases=start + num_images,
            num_digits=(1, 1), digit_size=dataset.digit_size, canvas_size=dataset.canvas_size,
            clutter=dataset.clutter, seed=10_000 + seed, cache_size=0,
        )  # fmt: skip
        scenes = [singles[i] for i in range(start, start + num_images)]
        return np.stack([s.image for s in scenes]), np.array([s.labels[0] for s in scenes])
    rng = np.random.default_rng([seed, start])
    scenes = [dataset[int(i)] for i in rng.integers(len(dataset), size=num_images)]
    labels = np.array([rng.choice(s.labels) for s in scenes], dtype=np.int64)
    return np.stack([s.image for s in scenes]), labels


def train_activation_model(
    dataset: SceneDataset,
    *,
    seconds: float = 20.0,
    steps: int = 3000,
    batch_size: int = 128,
    seed: int = 0,
) -> DigitActivationModel:
    """Fine-tune a :class:`DigitActivationModel` for ``dataset`` (CPU, or a GPU if present).

    Every batch is fresh (:func:`activation_training_set` from a running index), so nothing is
    held in memory and no image is seen twice. The learning rate follows a cosine from 3e-3 to
    0 over whichever ends first, ``steps`` or ``seconds``, so a cut by the time budget still
    ends annealed.
    """
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = DigitActivationModel(dataset.num_classes).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    start, step = time.perf_counter(), 0
    while (progress := max(step / steps, (time.perf_counter() - start) / seconds)) < 1:
        for group in opt.param_groups:
            group["lr"] = 3e-3 * 0.5 * (1 + math.cos(math.pi * progress))
        images, labels = activation_training_set(dataset, batch_size, seed, step * batch_size)
        x = torch.from_numpy(images).permute(0, 3, 1, 2).to(device).float().div_(255)
        loss = F.cross_entropy(model.classify(x), torch.from_numpy(labels).to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            logger.info("activation model: step %d loss %.3f", step, loss.item())
    logger.info("activation model: %d steps in %.0f s", step, time.perf_counter() - start)
    return model.cpu().eval()


def _fingerprint(dataset: SceneDataset) -> str:
    """Identifies the training data: the digit pool's pixels, or the reader's arguments."""
    digest = hashlib.sha1(_VERSION.encode())
    if isinstance(dataset, DigitCanvases):
        pool: LabelledImages = dataset.train_digits
        digest.update(pool.images.tobytes())
        digest.update(pool.labels.tobytes())
        digest.update(repr((dataset.digit_size, dataset.clutter, dataset.canvas_size)).encode())
    else:
        config = {k: v for k, v in sorted(dataset.config.items()) if k != "cache_size"}
        digest.update(f"{dataset.name}|{dataset.classes}|{config}|{len(dataset)}".encode())
    return digest.hexdigest()[:12]


def weights_name(dataset: SceneDataset) -> str:
    """File name of the default activation model's weights for ``dataset``."""
    kind = dataset.train_digits.name if isinstance(dataset, DigitCanvases) else dataset.name
    return f"hsal-activation-{kind}-{_fingerprint(dataset)}.pt"


def _training_source(dataset: SceneDataset) -> SceneDataset:
    """The scenes to fine-tune on: a canvas dataset itself (it knows its train pool), else the
    same reader's train split when it exists, else ``dataset`` (with a warning)."""
    config = dict(getattr(dataset, "config", {}))
    if isinstance(dataset, DigitCanvases) or config.get("split", "train") == "train":
        return dataset
    try:
        return type(dataset)(**{**config, "split": "train"})
    except (FileNotFoundError, ValueError, TypeError):
        logger.warning("no train split next to %s: the activation model trains on it", dataset)
        return dataset


def default_activation_model(dataset: SceneDataset, seconds: float = 20.0) -> DigitActivationModel:
    """The default activation model for ``dataset``: shipped, else cached, else trained now."""
    source = _training_source(dataset)
    name = weights_name(source)
    path = find_weights(name)
    if path is not None:
        model = DigitActivationModel(source.num_classes)
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()
    logger.warning("training the default HSAL activation model on %s (cached as %s)", source, name)
    model = train_activation_model(source, seconds=seconds)
    save_to_cache(model.state_dict(), name)
    return model


def single_object_accuracy(
    model: nn.Module, dataset: SceneDataset, num_images: int = 2000, seed: int = 1
) -> float:
    """Accuracy of ``model.classify`` on single-object images of ``dataset``'s *own* pool or
    scenes (for test-split canvases: test digits, never seen in training)."""
    if isinstance(dataset, DigitCanvases):
        dataset = DigitCanvases(
            dataset.digits, multiset=False, split="test", num_canvases=num_images,
            digit_size=dataset.digit_size, clutter=dataset.clutter, seed=seed,
            train_digits=dataset.digits,
        )  # fmt: skip
    images, labels = activation_training_set(dataset, num_images, seed)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255)
    with torch.no_grad():
        pred = torch.cat([model.classify(b).argmax(1) for b in x.split(256)]).numpy()
    return float((pred == labels).mean())


def _main() -> None:
    """Train and save a default activation model (``python -m visenv.models.activation``)."""
    import argparse

    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.add_argument("--dataset", default="digits_multiset")
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    dataset = load_dataset(args.dataset, split="train")
    model = train_activation_model(dataset, seconds=args.seconds, steps=args.steps)
    path = args.out / weights_name(dataset)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    test = load_dataset(args.dataset, split="test")
    acc = single_object_accuracy(model, test)
    print(f"saved {path}; single-digit accuracy on test-pool canvases: {acc:.3f}")


if __name__ == "__main__":
    _main()
