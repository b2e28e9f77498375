"""HSAL's default activation model: shipped weights, accuracy, and training on first use."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.data.test_svhn import make_svhn_tree
from visenv.data import DigitCanvases, load_dataset, rendered_digits
from visenv.models import activation
from visenv.models._cache import WEIGHTS_DIR
from visenv.models.activation import (
    DigitActivationModel,
    default_activation_model,
    single_object_accuracy,
    weights_name,
)


def _no_training(*args, **kwargs):
    raise AssertionError("the default model was trained instead of loaded")


@pytest.fixture
def quick_training(monkeypatch):
    """First-use training cut to two small batches (the real one runs for ``seconds``)."""
    train = activation.train_activation_model

    def quick(dataset, **kwargs):
        return train(dataset, **{**kwargs, "steps": 2, "batch_size": 8})

    monkeypatch.setattr(activation, "train_activation_model", quick)


def saliency_peak_on_digit(model, canvases, num_canvases):
    """Share of canvases whose most salient 7 x 7 cell overlaps a digit's box."""
    scenes = [canvases[i] for i in range(num_canvases)]
    x = torch.from_numpy(np.stack([s.image for s in scenes])).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        saliency = (model(x) ** 2).sum(1).flatten(1).numpy()
    hits = []
    for scene, cell in zip(scenes, saliency.argmax(1), strict=True):
        side = scene.image.shape[0] / 7
        row, col = divmod(int(cell), 7)
        x1, y1, x2, y2 = col * side, row * side, (col + 1) * side, (row + 1) * side
        b = scene.boxes
        overlap = (np.minimum(b[:, 2], x2) > np.maximum(b[:, 0], x1)) & (
            np.minimum(b[:, 3], y2) > np.maximum(b[:, 1], y1)
        )
        hits.append(overlap.any())
    return float(np.mean(hits))


def test_volume_shape_and_nonnegative():
    model = DigitActivationModel().eval()
    with torch.no_grad():
        volume = model(torch.rand(2, 3, 100, 100))
        logits = model.classify(torch.rand(3, 3, 64, 80))
    assert volume.shape == (2, 64, 7, 7) and (volume >= 0).all()
    assert logits.shape == (3, 10)


@pytest.mark.parametrize("name", ["digits_multiset", "mnist_multiset"])
def test_shipped_weights_load_without_training_and_classify_test_digits(name, monkeypatch, request):
    kwargs = {"root": request.getfixturevalue("mnist_root")} if name.startswith("mnist") else {}
    test = load_dataset(name, split="test", **kwargs)
    assert (WEIGHTS_DIR / weights_name(test)).is_file()
    monkeypatch.setattr(activation, "train_activation_model", _no_training)
    model = default_activation_model(test)
    # the paper's fine-tuning task on digits of the *test* pool, never seen in training
    assert single_object_accuracy(model, test, num_images=400) >= 0.9
    # its saliency F(V) = sum_c V_c^2 peaks on a digit of multi-digit test canvases
    assert saliency_peak_on_digit(model, test, num_canvases=96) >= 0.85
    # Set and Multiset canvases of a pool share one model
    set_name = name.replace("multiset", "set")
    assert weights_name(load_dataset(set_name, split="train", **kwargs)) == weights_name(test)


def test_other_data_trains_on_first_use_then_loads_from_the_cache(
    tmp_path, monkeypatch, quick_training
):
    monkeypatch.setenv("VISENV_CACHE", str(tmp_path))
    pool = rendered_digits("train", 300)
    canvases = DigitCanvases(pool, multiset=True, num_canvases=20)
    model = default_activation_model(canvases)
    assert (tmp_path / "models" / weights_name(canvases)).is_file()
    monkeypatch.setattr(activation, "train_activation_model", _no_training)
    again = default_activation_model(canvases)
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_svhn_model_trains_on_the_train_split(tmp_path, monkeypatch, quick_training):
    monkeypatch.setenv("VISENV_CACHE", str(tmp_path / "cache"))
    root = make_svhn_tree(make_svhn_tree(tmp_path / "svhn"), split="test")
    test = load_dataset("svhn_multiset", root=root, split="test")
    images, _ = activation.activation_training_set(test, 30)
    assert images.shape == (30, 100, 100, 3)
    model = default_activation_model(test)
    assert isinstance(model, DigitActivationModel)
    assert "svhn-train-multiset" in next((tmp_path / "cache" / "models").iterdir()).name


def test_random_label_per_scene_is_one_of_its_labels(tmp_path):
    root = make_svhn_tree(tmp_path)
    data = load_dataset("svhn_multiset", root=root, split="train")
    rng = np.random.default_rng([0, 0])
    picks = rng.integers(len(data), size=40)
    _, labels = activation.activation_training_set(data, 40)
    for index, label in zip(picks, labels, strict=True):
        assert label in data[int(index)].labels
