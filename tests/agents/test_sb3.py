import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode
from stable_baselines3 import DQN

import visenv  # noqa: F401
from agents.sb3 import SB3VecEnv, make_sb3_vec_env


def test_dqn_trains_on_the_unchanged_gym_env():
    env = gym.make("VisAttn/DQSSTN-Shapes-v0", obs_size=48)
    model = DQN("CnnPolicy", env, buffer_size=500, learning_starts=50, train_freq=4, seed=0)
    model.learn(200)
    assert model.num_timesteps == 200
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))


def test_dqn_trains_through_the_native_vector_env_adapter():
    venv = make_sb3_vec_env("VisAttn/DQSSTN-Shapes-v0", n_envs=4, seed=0, obs_size=48)
    model = DQN("CnnPolicy", venv, buffer_size=500, learning_starts=50, seed=0)
    model.learn(240)
    assert model.num_timesteps >= 240
    assert len(model.ep_info_buffer) > 0  # VecMonitor saw whole episodes (10 steps each)
    assert all(info["l"] == 10 for info in model.ep_info_buffer)


def test_adapter_resets_in_the_same_step_and_keeps_the_final_observation():
    venv = make_sb3_vec_env("VisAttn/DQSSTN-Shapes-v0", n_envs=3, seed=4, obs_size=32).venv
    first = venv.reset()
    assert first.shape == (3, 32, 32, 3)
    for t in range(10):
        obs, rewards, dones, infos = venv.step(np.full(3, 5))
        assert dones.tolist() == [t == 9] * 3 and rewards.dtype == np.float32
    for info, o in zip(infos, obs, strict=True):
        assert info["terminal_observation"].shape == (32, 32, 3)
        assert info["TimeLimit.truncated"] is False
        assert info["step"] == 10  # the final info, not the reset one
        assert not np.array_equal(info["terminal_observation"], o)  # obs is the new episode's


def test_adapter_refuses_next_step_autoreset():
    env = gym.make_vec("VisAttn/DQSSTN-Shapes-v0", 2, vectorization_mode="vector_entry_point",
                       autoreset_mode=AutoresetMode.NEXT_STEP)  # fmt: skip
    with pytest.raises(ValueError, match="SameStep"):
        SB3VecEnv(env)


def test_ppo_trains_on_hsal_dict_observations_through_the_adapter():
    """HSAL's Dict observation and flat Box action work with SB3's MultiInputPolicy."""
    from stable_baselines3 import PPO

    from tests.envs.test_hsal import PooledInk
    from visenv.data import DigitCanvases, rendered_digits

    canvases = DigitCanvases(rendered_digits("train", 1000), multiset=True, num_canvases=32)
    venv = make_sb3_vec_env(
        "VisAttn/HSAL-DigitsMultiset-v0", n_envs=4, seed=0, dataset=canvases,
        activation_model=PooledInk(),
    )  # fmt: skip
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: on a busy machine more threads only wait
    try:
        model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=64, n_epochs=1, seed=0)
        model.learn(128)
    finally:
        torch.set_num_threads(threads)
    assert model.num_timesteps >= 128 and len(model.ep_info_buffer) > 0
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (4, 80) and np.abs(action).max() <= 1
