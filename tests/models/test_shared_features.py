"""One backbone and one feature cache per configuration, shared by the envs of a process."""

from __future__ import annotations

import pytest
import torch

from tests.envs.fakes import RectScenes
from visenv.models import shared_features
from visenv.models.backbone import SmallBackbone
from visenv.models.shared_features import resolve_backbone, shared_feature_cache


def test_the_default_is_built_once_per_configuration(monkeypatch):
    built = []

    def fake_default(dataset, image_size):
        built.append(image_size)
        return SmallBackbone(dataset.num_classes, width=2, image_size=image_size)

    monkeypatch.setattr(shared_features, "default_backbone", fake_default)
    monkeypatch.setattr(shared_features, "_BACKBONES", {})
    data = RectScenes(4)
    first = resolve_backbone(None, data, 64)
    assert resolve_backbone("small", data, 64) is first
    assert resolve_backbone(None, data, 96) is not first
    assert built == [64, 96] and not first.training


def test_a_given_backbone_is_used_as_is_and_bad_arguments_raise(tmp_path):
    data = RectScenes(4)
    model = SmallBackbone(4, width=2).train()
    assert resolve_backbone(model, data, 64) is model and not model.training
    with pytest.raises(ValueError, match="weights_path"):
        resolve_backbone(model, data, 64, weights_path=tmp_path / "w.pth")
    with pytest.raises(ValueError, match="weights_path"):
        resolve_backbone("vgg16", data, 64)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        resolve_backbone("vgg16", data, 64, weights_path=tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="one of"):
        resolve_backbone("resnet50", data, 64)
    with pytest.raises(TypeError, match="FeatureBackbone"):
        resolve_backbone(torch.nn.Identity(), data, 64)


def test_feature_caches_are_shared_per_backbone_dataset_and_size():
    data, other = RectScenes(4), RectScenes(4, seed=1)
    model = SmallBackbone(4, width=2)
    cache = shared_feature_cache(model, data, 64, capacity=8)
    assert shared_feature_cache(model, data, 64, capacity=32) is cache and cache.capacity == 32
    assert shared_feature_cache(model, data, 96) is not cache
    assert shared_feature_cache(model, other, 64) is not cache
    assert shared_feature_cache(SmallBackbone(4, width=2), data, 64) is not cache
    assert cache.batch_size == 1  # on the CPU: a scene's maps never depend on its batch
