"""The RAM agent (agents/ram.py) learns the RAM env: on the embedded digits in every run, on
MNIST where ../shared/data has it."""

from __future__ import annotations

import numpy as np
import pytest

from agents.policies import make_policy
from agents.ram import RAMAgent, RAMConfig, train_ram
from visenv.envs.unifiedattn import UnifiedAttnVectorEnv
from visenv.evaluation import evaluate_unifiedattn

# the sensor of VisAttn/RAM-MNIST-v0 (Table 1 of the UnifiedAttn paper: RAM, 6 glimpses of 8x8)
RAM_MNIST = {"canvas": "plain", "levels": 0, "num_glimpses": 6, "glimpse_size": 8, "num_scales": 1}


def _test_env(dataset: str) -> UnifiedAttnVectorEnv:
    return UnifiedAttnVectorEnv(64, dataset=dataset, split="test", **RAM_MNIST)


def _compare(agent: RAMAgent, env: UnifiedAttnVectorEnv, images: int):
    indices = np.arange(images)
    trained = evaluate_unifiedattn(env, agent.policy(), indices=indices, seed=0)
    random = evaluate_unifiedattn(env, make_policy("random", env, seed=0), indices=indices, seed=0)
    return trained, random


def test_ram_learns_the_embedded_digits():
    """30,000 episodes (about 10 s): measured test error 0.086 against random's 0.915."""
    config = RAMConfig(episodes=30_000, env_kwargs={"dataset": "rendered", "split": "train"})
    agent, log = train_ram(config)
    assert log[-1]["episodes"] == 30_016 and len(log) == 469  # whole batches of 64
    assert np.mean([e["accuracy"] for e in log[-20:]]) > np.mean([e["accuracy"] for e in log[:20]])
    trained, random = _compare(agent, _test_env("rendered"), 1000)
    assert random.error_rate > 0.8
    assert trained.error_rate < 0.25, trained.to_markdown()
    assert trained.mean_glimpses == 6


def test_ram_learns_mnist(mnist_root):
    """The registered VisAttn/RAM-MNIST-v0 with the default budget (120,000 episodes, about
    40 s): measured test error 0.083 against random's 0.90, digit coverage 0.63 against 0.40."""
    agent, _ = train_ram(RAMConfig())
    trained, random = _compare(agent, _test_env("mnist"), 2000)
    assert trained.error_rate < 0.2, trained.to_markdown()
    assert random.error_rate > 0.8
    assert trained.coverage > random.coverage + 0.1


def test_policy_restarts_its_core_state_each_episode():
    env = UnifiedAttnVectorEnv(4, dataset="rendered", split="test", **RAM_MNIST)
    policy = RAMAgent(env).policy()
    runs = []
    for _ in range(2):
        obs, info = env.reset(seed=3)
        actions = []
        for _ in range(6):
            action = policy(obs, info)
            actions.append(action["location"].copy())
            obs, _, terminated, _, info = env.step(action)
        assert terminated.all()
        runs.append(np.stack(actions))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.abs(runs[0]).max() <= 1.0


def test_ram_refuses_envs_it_cannot_drive():
    with pytest.raises(ValueError, match="levels=0"):
        RAMAgent(UnifiedAttnVectorEnv(1, dataset="rendered", canvas="plain"))
    with pytest.raises(ValueError, match="'dict' action format"):
        RAMAgent(UnifiedAttnVectorEnv(1, dataset="rendered", action_format="flat", **RAM_MNIST))
    with pytest.raises(TypeError, match="UnifiedAttnVectorEnv"):
        from visenv.envs.dqsstn import DQSSTNVectorEnv

        RAMAgent(DQSSTNVectorEnv(1))
