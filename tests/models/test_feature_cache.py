"""FeatureCache: equal to direct computation, bounded, thread-safe, dropped on pickle."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import torch

from visenv.data import load_dataset
from visenv.models.backbone import SmallBackbone, scene_images
from visenv.models.feature_cache import FeatureCache


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = SmallBackbone(12, width=4, image_size=64).eval()
    data = load_dataset("shapes", split="val", num_scenes=12, image_size=80)
    with torch.no_grad():
        mid, top = model.features(scene_images(data, range(12), 64))
    return model, data, mid, top


def test_equal_to_direct_computation_with_repeats(setup):
    model, data, mid, top = setup
    cache = FeatureCache(model, data, capacity=8, batch_size=3)
    indices = [5, 1, 5, 7]
    maps = cache.features(indices)
    torch.testing.assert_close(maps["mid"], mid[indices], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cache.get(indices, "top"), top[indices], atol=1e-5, rtol=1e-5)
    assert (cache.misses, cache.hits) == (3, 3)  # second call: every scene cached


def test_bounded_least_recently_used(setup):
    model, data, _, _ = setup
    cache = FeatureCache(model, data, capacity=3)
    cache.get([0, 1, 2])
    cache.get([0])  # 0 is now the most recent, 1 the least
    cache.get([3, 4])
    assert len(cache) == 3 and list(cache._cache) == [0, 3, 4]
    assert (FeatureCache(model, data, capacity=0).get([0, 1]).shape[0]) == 2
    cache.clear()
    assert len(cache) == 0


def test_levels_and_arguments_are_checked(setup):
    model, data, mid, _ = setup
    cache = FeatureCache(model, data, levels=("mid",))
    torch.testing.assert_close(cache.get([2], "mid"), mid[[2]], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match=r"\('mid',\)"):
        cache.get([2], "top")
    with pytest.raises(ValueError, match=r"\('mid', 'top'\)"):
        FeatureCache(model, data, levels=("conv5",))
    with pytest.raises(ValueError, match="image_size"):
        FeatureCache(SmallBackbone(12, width=4, image_size=None), data)


def test_pickling_drops_the_cache(setup):
    model, data, _, top = setup
    cache = FeatureCache(model, data)
    cache.get([0, 1])
    clone = pickle.loads(pickle.dumps(cache))
    assert len(clone) == 0 and len(cache) == 2
    torch.testing.assert_close(clone.get([1]), top[[1]], atol=1e-5, rtol=1e-5)


def test_threads_share_one_bounded_cache(setup):
    model, data, _, top = setup
    cache = FeatureCache(model, data, capacity=5, batch_size=2)
    errors = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(8):
            indices = rng.integers(0, 12, 3)
            try:
                torch.testing.assert_close(cache.get(indices), top[indices], atol=1e-5, rtol=1e-5)
            except AssertionError as error:  # pragma: no cover - reported below
                errors.append(error)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 5
