"""UnifiedAttn / RAM on the MNIST and CIFAR-10 files in ../shared/data (skips where absent)."""

import gymnasium as gym
import numpy as np
import pytest

import visenv  # noqa: F401 - registers the ids
from agents.policies import make_policy
from tests.core.reference import binary_entropy_reference
from visenv.evaluation import evaluate_unifiedattn

TEST_IMAGES = range(120)  # of the 2000-digit MNIST test pool


def _vec(env_id, root, n=40, **kwargs):
    return gym.make_vec(
        env_id, num_envs=n, vectorization_mode="vector_entry_point", root=root, split="test",
        **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env_id", "random_coverage"),
    [
        ("VisAttn/RAM-MNIST-v0", 0.55),  # 8x8 glimpses on a 28x28 digit: chance covers a lot
        ("VisAttn/UnifiedAttn-MNIST-v0", 0.55),
        ("VisAttn/RAM-ClutteredMNIST-v0", 0.2),
        ("VisAttn/UnifiedAttn-ClutteredMNIST-v0", 0.2),
    ],
)
def test_oracle_glimpses_cover_the_digit_random_ones_little(mnist_root, env_id, random_coverage):
    env = _vec(env_id, mnist_root)
    oracle = evaluate_unifiedattn(env, make_policy("oracle", env), indices=TEST_IMAGES)
    assert oracle.episodes == len(TEST_IMAGES) and oracle.error_rate == 0
    assert oracle.coverage > 0.9
    levels = env.unwrapped.params.levels
    for seed in range(2):
        random = evaluate_unifiedattn(
            env, make_policy("random", env, seed=seed), indices=TEST_IMAGES, seed=seed
        )
        assert random.coverage < random_coverage < oracle.coverage - 0.3
        assert random.error_rate > 0.75  # 10 classes: about 0.9
        if levels:  # 2 levels: the random final region holds the digit 1 time in 16
            assert oracle.region_hit_rate == 1 and random.region_hit_rate < 0.2


def test_reward_is_one_exactly_when_the_prediction_is_the_label(mnist_root):
    env = _vec("VisAttn/UnifiedAttn-ClutteredMNIST-v0", mnist_root, n=32)
    policy = make_policy("random", env, seed=3)
    obs, info = env.reset(seed=3)
    ends = rewards = 0
    while ends < 96:  # three episodes per env
        obs, reward, terminated, truncated, info = env.step(policy(obs, info))
        assert not truncated.any()
        right = info["prediction"][:, 0] == info["target"][:, 0]
        np.testing.assert_array_equal(reward, np.where(terminated, right, 0.0))
        ends += terminated.sum()
        rewards += reward.sum()
    assert 0 < rewards < ends  # both outcomes happened


def test_patch_entropy_in_info_matches_the_slow_reference(mnist_root):
    env = _vec("VisAttn/RAM-ClutteredMNIST-v0", mnist_root, n=6)
    policy = make_policy("oracle", env)
    obs, info = env.reset(seed=0)
    for _ in range(4):
        for glimpse, entropy in zip(obs["glimpse"], info["entropy"], strict=True):
            ref = [binary_entropy_reference(patch, 128) for patch in glimpse]
            np.testing.assert_allclose(entropy, ref, atol=1e-12)
        obs, _, _, _, info = env.step(policy(obs, info))
    assert info["entropy"].max() > 0.5  # on the digit, patches hold ink and background


def test_cifar10_oracle_covers_more_of_the_image_than_random(cifar10_root):
    env = _vec("VisAttn/UnifiedAttn-CIFAR10-v0", cifar10_root, n=20)
    obs, _ = env.reset(seed=0)
    assert obs["glimpse"].shape == (20, 1, 12, 12, 3) and obs["quadrants"].shape[-1] == 3
    oracle = evaluate_unifiedattn(env, make_policy("oracle", env), indices=range(40))
    random = evaluate_unifiedattn(env, make_policy("random", env, seed=0), indices=range(40))
    assert oracle.error_rate == 0 and random.error_rate > 0.6
    assert oracle.coverage > random.coverage + 0.15  # 6 glimpses of 12x12 on 32x32
