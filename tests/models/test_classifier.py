import numpy as np
import pytest
import torch

from tests.envs.fakes import RectScenes
from visenv.data import Scene, SceneDataset, load_dataset
from visenv.envs.dqsstn import DQSSTNVectorEnv, salient_targets
from visenv.evaluation.dqsstn import classify_views
from visenv.models import classifier
from visenv.models.classifier import (
    ViewClassifier,
    default_view_classifier,
    train_view_classifier,
    training_views,
)


class ColourRects(SceneDataset):
    """Grey images whose largest rectangle's colour is its class: learnable in seconds."""

    name = "colour-rects"
    classes = ("red", "green", "blue", "yellow")
    _colours = np.array([[220, 30, 30], [30, 200, 30], [30, 30, 220], [220, 220, 30]])

    def __init__(self, num_scenes: int = 200, seed: int = 0) -> None:
        super().__init__(cache_size=0)
        self.num_scenes, self.seed = num_scenes, seed

    def __len__(self) -> int:
        return self.num_scenes

    def _load(self, index: int) -> Scene:
        rng = np.random.default_rng([self.seed, index])
        image = np.full((64, 80, 3), 128, np.uint8)
        label = int(rng.integers(0, 4))
        w, h = rng.integers(16, 40), rng.integers(16, 40)
        x, y = rng.integers(0, 80 - w), rng.integers(0, 64 - h)
        image[y : y + h, x : x + w] = self._colours[label]
        return Scene(image, [[x, y, x + w, y + h]], [label])


def test_view_classifier_takes_any_view_size():
    model = ViewClassifier(7).eval()
    for size in (32, 64, 224):
        assert model(torch.rand(2, 3, size, size)).shape == (2, 7)


def test_training_views_frame_the_salient_object():
    data = RectScenes(8)
    views, labels = training_views(data, 8, 4, 32, seed=0)
    assert views.shape == (32, 32, 32, 3) and views.dtype == np.uint8
    expected = [salient_targets(*data.annotation(i), data.num_classes)[1] for i in range(8)]
    assert sorted(set(labels.tolist())) == sorted(set(expected))


def test_training_learns_a_learnable_task():
    torch.manual_seed(0)
    model = train_view_classifier(ColourRects(200), num_scenes=200, views_per_scene=3,
                                  seconds=20, max_epochs=4, input_size=32)  # fmt: skip
    views, labels = training_views(ColourRects(100, seed=1), 100, 2, 32, seed=5)
    assert (classify_views(model, views) == labels).mean() > 0.8  # chance is 0.25


def test_default_trains_once_then_loads_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VISENV_CACHE", str(tmp_path))
    calls = []

    def quick(dataset, **kwargs):
        calls.append(dataset)
        return ViewClassifier(dataset.num_classes).eval()

    monkeypatch.setattr(classifier, "train_view_classifier", quick)
    data = load_dataset("shapes", split="val", num_scenes=40)  # no shipped weights for this
    first = default_view_classifier(data)
    second = default_view_classifier(data)
    assert len(calls) == 1 and calls[0].config["split"] == "train"  # trains on the train split
    assert list((tmp_path / "models").glob("view-classifier-shapes-*.pt"))
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_shipped_shapes_classifier_loads_without_training(monkeypatch):
    monkeypatch.setattr(classifier, "train_view_classifier", pytest.fail)
    env = DQSSTNVectorEnv(4, dataset="shapes", split="test", reward="continuous_loss", obs_size=64)
    assert isinstance(env.classifier, ViewClassifier)
    data = load_dataset("shapes", split="test")
    views, labels = training_views(data, 200, 3, 64, seed=3)
    # 12 classes: chance is about 0.08
    assert (classify_views(env.classifier, views) == labels).mean() > 0.4
