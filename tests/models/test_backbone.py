"""Feature backbones: shapes and strides, the mid/top/classify split, training and defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from visenv.core.metrics import mean_average_precision
from visenv.data import load_dataset
from visenv.models import backbone as backbone_module
from visenv.models.backbone import (
    SmallBackbone,
    VGG16Backbone,
    default_backbone,
    multilabel_scores,
    multilabel_targets,
    scene_images,
    train_backbone,
)


@pytest.mark.parametrize(("size", "width"), [(224, 16), (512, 16), (96, 4)])
def test_small_backbone_shapes_and_strides(size, width):
    torch.manual_seed(0)
    model = SmallBackbone(5, width=width).eval()
    images = torch.rand(2, 3, size, size)
    with torch.no_grad():
        mid, top = model.features(images)
        logits = model(images)
    assert (model.mid_stride, model.top_stride) == (8, 16)
    assert mid.shape == (2, model.mid_channels, size // 8, size // 8)
    assert top.shape == (2, model.top_channels, size // 16, size // 16)
    assert logits.shape == (2, 5)
    assert (model.mid_channels, model.top_channels) == (4 * width, 8 * width)
    assert mid.min() >= 0 and top.min() >= 0  # post-ReLU: zero is "no evidence"


def test_non_square_input_keeps_the_frame():
    model = SmallBackbone(3, width=4).eval()
    mid, top = model.features(torch.rand(1, 3, 64, 160))
    assert mid.shape[-2:] == (8, 20) and top.shape[-2:] == (4, 10)


def test_classify_of_top_of_mid_is_forward_and_takes_cut_maps_and_crops():
    torch.manual_seed(0)
    model = SmallBackbone(4, width=4).eval()
    images = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        mid = model.mid(images)
        torch.testing.assert_close(model.classify(model.top(mid)), model(images))
        cut = mid.clone()
        cut[:, :, :, :3] = 0  # BGCut: cut three columns from the left, map size unchanged
        assert model.classify(model.top(cut)).shape == (3, 4)
        top = model.top(mid)
        crop = top[:, :, 1:3, 0:3]  # RARL: a region of the top map, any size
        maps = model.head.class_maps(crop)
        torch.testing.assert_close(model.classify(crop), maps.amax(dim=(2, 3)))


def test_bad_images_raise():
    model = SmallBackbone(2, width=4)
    with pytest.raises(ValueError, match=r"float \[B, 3, H, W\]"):
        model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"float \[B, 3, H, W\]"):
        model(torch.zeros(1, 1, 32, 32))


def test_scene_images_and_targets():
    data = load_dataset("shapes", split="val", num_scenes=4)
    images = scene_images(data, [0, 2], 48)
    assert images.shape == (2, 3, 48, 48) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1
    targets = multilabel_targets(data, [0, 2])
    for row, index in enumerate([0, 2]):
        assert set(np.flatnonzero(targets[row])) == set(data[index].labels.tolist())


def _bce(model, data, size) -> float:
    scores, targets = multilabel_scores(model, data, image_size=size)
    p = torch.from_numpy(scores).clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(p, torch.from_numpy(targets).float()).item()


def test_training_reduces_bce_on_a_tiny_subset():
    data = load_dataset("shapes", split="train", num_scenes=16, image_size=64)
    torch.manual_seed(0)
    model = SmallBackbone(data.num_classes, width=8, image_size=64)
    before = _bce(model.eval(), data, 64)
    trained = train_backbone(
        data, image_size=64, seconds=120, max_epochs=30, batch_size=8, lr=5e-3, model=model
    )
    assert trained is model and not trained.training
    assert _bce(trained, data, 64) < 0.8 * before


@pytest.fixture(scope="module")
def shipped():
    """The default Shapes backbone, which must load from the package without training."""
    test_set = load_dataset("shapes", split="test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backbone_module, "train_backbone", _no_training)
        return default_backbone(test_set, 224), test_set  # weights of the train split


def _no_training(*args, **kwargs):
    raise AssertionError("the Shapes backbone should ship with the package")


def test_shipped_shapes_backbone_beats_chance(shipped):
    model, test_set = shipped
    scores, targets = multilabel_scores(model, test_set, image_size=224, indices=range(128))
    _, m_ap = mean_average_precision(scores, targets)
    chance = targets.mean()  # expected AP of a random ranking: the positive rate (~0.25)
    assert m_ap > max(0.8, chance + 0.5), (m_ap, chance)


def test_shipped_backbone_scores_survive_background_cuts_not_object_cuts(shipped):
    """BGCut's premise (paper 004 Eq. 1): zeroing the mid map outside a class's boxes keeps
    its score, zeroing the boxes drops it."""
    model, test_set = shipped
    outside, inside = [], []
    with torch.no_grad():
        for index in range(12):
            scene = test_set[index]
            mid = model.mid(scene_images(test_set, [index], 224))
            score = torch.sigmoid(model.classify(model.top(mid)))[0]
            for label in set(scene.labels.tolist()):
                keep = torch.zeros(28, 28)
                for x1, y1, x2, y2 in scene.boxes[scene.labels == label]:
                    sx, sy = 28 / scene.width, 28 / scene.height
                    keep[int(y1 * sy) : math.ceil(y2 * sy), int(x1 * sx) : math.ceil(x2 * sx)] = 1
                for cut, drops in ((keep, outside), (1 - keep, inside)):
                    cut_score = torch.sigmoid(model.classify(model.top(mid * cut)))[0, label]
                    drops.append((score[label] - cut_score).item())
    assert np.median(outside) < 0.05 and np.median(inside) > 0.4, (outside, inside)


def test_default_backbone_trains_once_then_loads_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("VISENV_CACHE", str(tmp_path))
    calls = []

    def quick_training(dataset, **kwargs):
        calls.append(dataset)
        return train_backbone(dataset, **{**kwargs, "max_epochs": 1})

    monkeypatch.setattr(backbone_module, "train_backbone", quick_training)
    test_set = load_dataset("shapes", split="test", num_scenes=4, image_size=40)
    first = default_backbone(test_set, 32, seconds=30)
    second = default_backbone(test_set, 32, seconds=30)
    assert len(calls) == 1 and calls[0].config["split"] == "train"  # never the test scenes
    assert len(list((tmp_path / "models").glob("backbone-small-shapes-*-32px.pt"))) == 1
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    assert not second.training and second.image_size == 32


@pytest.fixture(scope="module")
def vgg16_weights(tmp_path_factory):
    """A randomly initialised torchvision vgg16's conv weights, saved like a local download."""
    from torchvision.models import vgg16

    torch.manual_seed(0)
    state = {k: v for k, v in vgg16(weights=None).state_dict().items() if k.startswith("features")}
    path = tmp_path_factory.mktemp("weights") / "vgg16-random.pth"
    torch.save(state, path)
    return path, state


def test_vgg16_backbone_loads_a_local_file_and_splits_at_conv4_3_and_conv5_3(vgg16_weights):
    path, state = vgg16_weights
    model = VGG16Backbone(path, num_classes=3).eval()
    torch.testing.assert_close(model.mid_layers[21].weight, state["features.21.weight"])  # conv4_3
    torch.testing.assert_close(model.top_layers[5].weight, state["features.28.weight"])  # conv5_3
    assert isinstance(model.top_layers[0], torch.nn.MaxPool2d)  # pool4 opens the top stage
    with torch.no_grad():
        mid, top = model.features(torch.rand(1, 3, 224, 224))
        logits = model.classify(top)
    assert mid.shape == (1, 512, 28, 28) and top.shape == (1, 512, 14, 14)
    assert logits.shape == (1, 3)


def test_vgg16_backbone_missing_or_wrong_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        VGG16Backbone(tmp_path / "vgg16-397923af.pth", num_classes=20)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="features"):
        VGG16Backbone(tmp_path / "other.pth", num_classes=20)
