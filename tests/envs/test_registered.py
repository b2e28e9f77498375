"""Generic tests over every registered id: a new env family joins by registering its ids.

Ids that need real data run on ../shared/data (``VISENV_DATA``) with the arguments in
``HARNESS_KWARGS`` and skip with the reader's message where the data is absent.
"""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import visenv
from tests.envs.harness import HARNESS_KWARGS, assert_same, bad_actions, differ, leaves

IDS = visenv.registered_ids()
STEPS = 25  # covers more than two episodes of every family's default horizon
_CONTINUE = object()  # _rollout without a reset first


def _kwargs(env_id: str) -> dict:
    return dict(HARNESS_KWARGS.get(env_id, {}))


def _make(env_id: str, **extra):
    try:
        return gym.make(env_id, **_kwargs(env_id), **extra)
    except visenv.data.DatasetNotFoundError as err:
        pytest.skip(f"{env_id}: real data absent ({str(err).splitlines()[0]})")


def _make_vec(env_id: str, n: int, mode: str, **extra):
    try:
        return gym.make_vec(env_id, num_envs=n, vectorization_mode=mode, **_kwargs(env_id), **extra)
    except visenv.data.DatasetNotFoundError as err:
        pytest.skip(f"{env_id}: real data absent ({str(err).splitlines()[0]})")


def _rollout(env, actions, seed=_CONTINUE):
    """Reset with ``seed`` (unless told to continue) and step through ``actions``; a single env
    is reset when it ends."""
    out = [] if seed is _CONTINUE else [env.reset(seed=seed)]
    for action in actions:
        out.append(env.step(action))
        if isinstance(env, gym.Env) and (out[-1][2] or out[-1][3]):
            out.append(env.reset())
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_env_checker(env_id):
    env = _make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        gym_check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_env_checker(env_id):
    sb3_check_env(_make(env_id), warn=True)


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_trajectory_other_seed_differs(env_id):
    env_a, env_b = _make(env_id), _make(env_id)
    env_a.action_space.seed(5)
    actions = [env_a.action_space.sample() for _ in range(STEPS)]
    run_a, run_b = _rollout(env_a, actions, seed=7), _rollout(env_b, actions, seed=7)
    assert_same(run_a, run_b)
    first_other = env_b.reset(seed=8)[0]
    assert differ(run_a[0][0], first_other)


@pytest.mark.parametrize("env_id", IDS)
def test_pickled_env_continues_identically(env_id):
    env = _make(env_id)
    env.reset(seed=3)
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(5)]
    # both continue from the pickled state, resetting (unseeded) where an episode ends
    assert_same(_rollout(env.unwrapped, actions), _rollout(clone, actions))


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("autoreset", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_native_vector_env_equals_sync_vector_env(env_id, autoreset):
    n = 3
    native = _make_vec(env_id, n, "vector_entry_point", autoreset_mode=autoreset)
    sync = _make_vec(env_id, n, "sync", vector_kwargs={"autoreset_mode": autoreset})
    assert native.metadata["autoreset_mode"] == autoreset
    assert native.single_observation_space == sync.single_observation_space
    assert native.single_action_space == sync.single_action_space
    native.action_space.seed(1)
    actions = [native.action_space.sample() for _ in range(STEPS)]
    assert_same(_rollout(native, actions, seed=11), _rollout(sync, actions, seed=11))


@pytest.mark.parametrize("env_id", IDS)
def test_bad_actions_raise_clear_errors(env_id):
    env = _make(env_id)
    env.reset(seed=0)
    vec = _make_vec(env_id, 2, "vector_entry_point")
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(vec.action_space.sample())
    vec.reset(seed=0)
    for target, space in ((env.unwrapped, env.action_space), (vec, vec.single_action_space)):
        batched = target is vec
        for description, action in bad_actions(space, batch=2 if batched else None):
            with pytest.raises((ValueError, TypeError)) as err:
                target.step(action)
            assert "action" in str(err.value).lower(), (description, str(err.value))
        # the env still works after rejecting bad input
        target.step(vec.action_space.sample() if batched else space.sample())


@pytest.mark.parametrize("env_id", IDS)
def test_rgb_array_render(env_id):
    env = _make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.ndim == 3 and frame.shape[2] == 3


@pytest.mark.parametrize("env_id", IDS)
def test_torch_output_matches_numpy_output(env_id):
    native = _make_vec(env_id, 2, "vector_entry_point")
    as_torch = _make_vec(env_id, 2, "vector_entry_point", output="torch")
    native.action_space.seed(2)
    actions = [native.action_space.sample() for _ in range(6)]
    run_np, run_t = _rollout(native, actions, 4), _rollout(as_torch, actions, 4)
    assert all(isinstance(leaf, torch.Tensor) for leaf in leaves(run_t[1][0]))
    assert_same(run_np, run_t)
