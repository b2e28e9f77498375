"""The external-library recipes of docs/interop.md train, and store only real transitions.

Each recipe (``examples/interop/<library>_dqn.py``) trains a few hundred steps on a DQ-SSTN id
(a ``Box`` image observation) and on BG-Cut (a ``Dict`` observation). A wrongly handled
autoreset shows up in the stored transitions: under ``NextStep`` the step after an episode's end
is a fake transition (final observation -> first observation, reward 0), so DQ-SSTN episodes
(always ``T = 10`` steps) would store 11-step runs and BG-Cut (every step rewards +-scale or
+-eta) would store zero rewards. The tests read the libraries' own buffers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

DQSSTN = ("VisAttn/DQSSTN-Shapes-v0", {"obs_size": 48})  # SB3's NatureCNN needs >= 36 px
BGCUT = ("VisAttn/BGCut-Shapes-v0", {})


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks on a shared machine: more threads only wait
    yield
    torch.set_num_threads(threads)


def episode_lengths(done: np.ndarray) -> list[int]:
    """Lengths of the complete episodes in one env's ``done`` sequence (time order)."""
    ends = np.flatnonzero(done)
    return np.diff(np.concatenate([[-1], ends])).tolist()


def check_transitions(env_id: str, done: np.ndarray, rewards: np.ndarray) -> None:
    """``done``, ``rewards``: ``[T, num_envs]`` in time order, as the library stored them."""
    if env_id.startswith("VisAttn/DQSSTN"):
        lengths = [n for env in done.T for n in episode_lengths(env)]
        assert lengths and set(lengths) == {10}, f"episode lengths stored: {sorted(set(lengths))}"
    else:
        assert (rewards != 0).all(), f"{int((rewards == 0).sum())} fake (zero-reward) transitions"


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "kwargs"), [DQSSTN, BGCUT], ids=["DQSSTN", "BGCut"])
def test_torchrl_recipe(env_id, kwargs):
    pytest.importorskip("torchrl", reason="torchrl not installed (pip install visenv[interop])")
    from examples.interop.torchrl_dqn import train

    result = train(env_id, steps=200, num_envs=4, learning_starts=40, **kwargs)
    data = result["buffer"][:]
    assert len(data) == 200 and np.isfinite(result["losses"]).all() and result["losses"]
    traj = data["collector", "traj_ids"].numpy()
    done = data["next", "done"][:, 0].numpy()
    rewards = data["next", "reward"][:, 0].numpy()
    # one column per trajectory id, in stored (time) order
    for t in np.unique(traj):
        rows = traj == t
        assert not done[rows][:-1].any(), "done inside a trajectory"
        check_transitions(env_id, done[rows][:, None], rewards[rows][:, None])


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "kwargs"), [DQSSTN, BGCUT], ids=["DQSSTN", "BGCut"])
def test_skrl_recipe(env_id, kwargs):
    pytest.importorskip("skrl", reason="skrl not installed (pip install visenv[interop])")
    from examples.interop.skrl_dqn import train

    result = train(env_id, steps=200, num_envs=4, **kwargs)
    memory = result["memory"]
    assert result["transitions"] == 200
    done = memory.get_tensor_by_name("terminated")[..., 0].numpy()
    rewards = memory.get_tensor_by_name("rewards")[..., 0].numpy()
    check_transitions(env_id, done, rewards)


@pytest.mark.slow
def test_skrl_under_next_step_stores_one_fake_transition_per_episode():
    """Why the recipe uses SameStep: skrl ignores the autoreset mode (docs/interop.md)."""
    pytest.importorskip("skrl", reason="skrl not installed (pip install visenv[interop])")
    from examples.interop.skrl_dqn import train

    result = train("VisAttn/DQSSTN-Shapes-v0", 220, 2, autoreset_mode="NextStep", obs_size=32)
    memory = result["memory"]
    done = memory.get_tensor_by_name("terminated")[..., 0].numpy()
    rewards = memory.get_tensor_by_name("rewards")[..., 0].numpy()
    # 110 steps per env = 10 episodes of 10 real steps, each followed by one reset step
    assert done.sum(axis=0).tolist() == [10, 10]
    fake = np.roll(done, 1, axis=0)  # the step right after each episode's end
    fake[0] = False
    assert int(fake.sum()) == 20 and (rewards[fake] == 0).all()  # 20 of 220: 9%
    assert [set(episode_lengths(env)) for env in done.T] == [{10, 11}, {10, 11}]


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "kwargs"), [DQSSTN, BGCUT], ids=["DQSSTN", "BGCut"])
def test_tianshou_recipe(env_id, kwargs):
    pytest.importorskip("tianshou", reason="tianshou not installed (pip install visenv[interop])")
    from examples.interop.tianshou_dqn import train

    result = train(env_id, steps=120, num_envs=2, learning_starts=40, **kwargs)
    buffer = result["buffer"]
    assert result["transitions"] >= 120 and np.isfinite(result["losses"]).all()
    for sub in buffer.buffers:  # one sub-buffer per env, in time order
        n = len(sub)
        done = (sub.terminated[:n] | sub.truncated[:n])[:, None]
        check_transitions(env_id, done, sub.rew[:n][:, None])


@pytest.mark.slow
@pytest.mark.parametrize(("env_id", "kwargs"), [DQSSTN, BGCUT], ids=["DQSSTN", "BGCut"])
def test_sb3_recipe(env_id, kwargs):
    from examples.interop.sb3_dqn import train

    model = train(env_id, steps=240, num_envs=4, **kwargs)
    buffer = model.replay_buffer
    n = buffer.size()
    assert model.num_timesteps >= 240 and n == 60
    check_transitions(env_id, buffer.dones[:n].astype(bool), buffer.rewards[:n])
