"""HSAL's MDP against the paper's definitions, on small rendered-digit canvases.

The activation model here is a fixed pooling of the canvas (cheap and deterministic, salient
where the ink is), so every expected value can be recomputed independently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from agents.policies import HSALOraclePolicy, make_policy
from agents.policies.hsal import oracle_targets
from tests.core.test_saliency import reference_mask, reference_update
from visenv.data import DigitCanvases, rendered_digits
from visenv.envs.hsal import (
    HSALEnv,
    HSALVectorEnv,
    Phase,
    action_layout,
    encode_actions,
    mask_action_values,
)
from visenv.evaluation import evaluate_hsal

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
K, CELLS, STOP = 5, 49, 10


class PooledInk(torch.nn.Module):
    """``V = [g, g^2, 0.1 (1 - g)]`` with ``g`` the canvas pooled to 7 x 7 (C = 3)."""

    def forward(self, images):
        g = F.adaptive_avg_pool2d(images[:, :1], 7)
        return torch.cat([g, g * g, 0.1 * (1 - g)], 1)


@pytest.fixture(scope="module")
def canvases():
    return DigitCanvases(rendered_digits("train", 1000), multiset=True, num_canvases=64)


def _env(canvases, n=3, **kwargs):
    return HSALVectorEnv(n, dataset=canvases, activation_model=PooledInk(), **kwargs)


def _volume(image):
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    return PooledInk()(x)[0].double().numpy()


def _raw(mask_actions):
    """The documented map from a mask slice in [-1, 1] to the paper's raw 4K vector."""
    a, b, k1, k2 = np.split(np.asarray(mask_actions, float), 4)
    low, high = math.log(1.5), math.log(2.0)
    return np.concatenate([5 * a, low + (b + 1) / 2 * (high - low), 6 * k1, 6 * k2])


def _actions(env, rng):
    """Random valid actions (uniform in the box)."""
    return rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)


def test_spaces_and_phase_cycle(canvases):
    env = _env(canvases)
    assert env.single_action_space.shape == (4 * K + CELLS + STOP + 1,)
    assert (env.single_action_space.low == -1).all() and (env.single_action_space.high == 1).all()
    assert action_layout(env.params) == {
        "mask": slice(0, 20),
        "location": slice(20, 69),
        "label": slice(69, 80),
    }
    obs, _ = env.reset(seed=0)
    assert env.single_observation_space.contains({k: v[0] for k, v in obs.items()})
    rng = np.random.default_rng(0)
    phases, counts = [obs["phase"][0]], [obs["glimpse_count"][0]]
    for _ in range(8):
        # label 0..9, never stop, so the episode runs through two meta steps
        actions = _actions(env, rng)
        actions[:, 69 + STOP] = -1
        obs, *_ = env.step(actions)
        phases.append(obs["phase"][0])
        counts.append(obs["glimpse_count"][0])
        in_mask = obs["phase"] == Phase.MASK
        assert (obs["mask"][in_mask] == 0).all() and (obs["priority"][in_mask] == 0).all()
        assert (obs["glimpse"][in_mask] == 0).all()
    assert phases == [0, 1, 1, 2, 0, 1, 1, 2, 0]
    assert counts == [0, 0, 1, 2, 0, 0, 1, 2, 0]
    assert obs["meta_step"].tolist() == [2, 2, 2]


def test_mask_step_follows_the_paper(canvases):
    env = _env(canvases)
    obs, info = env.reset(seed=1)
    rng = np.random.default_rng(1)
    actions = _actions(env, rng)
    s0 = obs["saliency"].astype(float)
    new, rewards, *_ = env.step(actions)
    assert (rewards == 0).all()
    for n in range(3):
        image = canvases[int(info["scene_index"][n])].image
        volume = _volume(image)
        saliency = (volume**2).sum(0)
        saliency = (saliency - saliency.min()) / (saliency.max() - saliency.min())
        np.testing.assert_allclose(s0[n], saliency, atol=1e-6)
        mask = reference_mask(_raw(actions[n, :20]))
        np.testing.assert_allclose(new["mask"][n], mask, atol=1e-6)
        p = mask * saliency
        np.testing.assert_allclose(
            new["priority"][n], (p - p.min()) / (p.max() - p.min()), atol=1e-5
        )
        g0 = (mask[None] * volume).sum((1, 2))
        np.testing.assert_allclose(new["glimpse"][n], g0, rtol=1e-5)


def test_glimpses_earn_the_priority_and_see_the_activation_column(canvases):
    env = _env(canvases)
    obs, info = env.reset(seed=2)
    rng = np.random.default_rng(2)
    obs, *_ = env.step(_actions(env, rng))  # mask
    volume = [_volume(canvases[int(i)].image) for i in info["scene_index"]]
    cells = []
    for g in range(2):
        cell = rng.integers(0, CELLS, 3)
        cells.append(cell)
        priority, saliency = obs["priority"], obs["saliency"]
        obs, rewards, _, _, info = env.step(encode_actions(env.params, 3, location=cell))
        for n in range(3):
            r, c = divmod(int(cell[n]), 7)
            assert rewards[n] == pytest.approx(priority[n, r, c], abs=1e-6)
            np.testing.assert_allclose(obs["glimpse"][n], volume[n][:, r, c], rtol=1e-6)
            assert info["glimpse_saliency"][n, g] == pytest.approx(saliency[n, r, c], abs=1e-6)
        assert obs["last_location"].tolist() == cell.tolist()
    np.testing.assert_array_equal(info["glimpse_cells"], np.stack(cells, 1))
    assert (obs["phase"] == Phase.CLASSIFY).all()


def _find_duplicates(canvases):
    for index in range(len(canvases)):
        labels = canvases[index].labels
        values, counts = np.unique(labels, return_counts=True)
        if counts.max() >= 2:
            return index, int(values[counts.argmax()]), labels
    raise AssertionError("no canvas with a repeated label")


def _meta_step(env, label, rng):
    env.step(_actions(env, rng))
    env.step(_actions(env, rng))
    env.step(_actions(env, rng))
    return env.step(encode_actions(env.params, env.num_envs, label=np.full(env.num_envs, label)))


def test_multiset_bookkeeping_on_duplicates(canvases):
    index, twice, labels = _find_duplicates(canvases)
    copies = int((labels == twice).sum())
    absent = next(v for v in range(10) if v not in labels)
    env = _env(canvases, n=1, max_meta_steps=20)
    _, info = env.reset(seed=3, options={"scene_index": index})
    true = np.bincount(labels, minlength=10)
    np.testing.assert_array_equal(info["true_counts"][0], true)
    rng = np.random.default_rng(3)
    for k in range(copies):
        _, reward, terminated, _, info = _meta_step(env, twice, rng)
        assert reward[0] == 1 and not terminated[0]
        assert info["remaining"][0, twice] == copies - k - 1
    _, reward, _, _, info = _meta_step(env, twice, rng)  # one copy too many
    assert reward[0] == -1 and info["remaining"][0, twice] == 0
    _, reward, _, _, info = _meta_step(env, absent, rng)
    assert reward[0] == -1
    assert (
        info["predicted_counts"][0, twice] == copies + 1
        and info["predicted_counts"][0, absent] == 1
    )
    for label in labels[labels != twice]:
        _, reward, _, _, info = _meta_step(env, int(label), rng)
        assert reward[0] == 1
    assert info["remaining"][0].sum() == 0
    _, reward, terminated, truncated, info = _meta_step(env, STOP, rng)
    assert reward[0] == 1 and terminated[0] and not truncated[0]
    assert info["predicted_counts"][0].sum() == len(labels) + 2  # stop is not a prediction


def test_stopping_early_is_wrong_and_ends_the_episode(canvases):
    env = _env(canvases, n=2)
    env.reset(seed=4)
    _, reward, terminated, truncated, _ = _meta_step(env, STOP, np.random.default_rng(4))
    assert (reward == -1).all() and terminated.all() and not truncated.any()


def test_step_limit_truncates_and_end_on_empty_terminates(canvases):
    env = _env(canvases, n=2, max_meta_steps=3)
    env.reset(seed=5)
    rng = np.random.default_rng(5)
    for t in range(3):
        _, _, terminated, truncated, info = _meta_step(env, 0, rng)
        assert truncated.tolist() == [t == 2] * 2 and not terminated.any()
    assert info["meta_step"].tolist() == [3, 3]
    index, _, labels = _find_duplicates(canvases)
    env = _env(canvases, n=1, end_on_empty=True)
    env.reset(seed=5, options={"scene_index": index})
    for k, label in enumerate(sorted(labels)):
        _, reward, terminated, _, _ = _meta_step(env, int(label), rng)
        assert reward[0] == 1 and terminated[0] == (k == len(labels) - 1)


def test_inhibition_of_return_over_whole_episodes(canvases):
    env = _env(canvases, n=4, max_meta_steps=5)
    obs, _ = env.reset(seed=6)
    rng = np.random.default_rng(6)
    checked = 0
    for _ in range(20):
        before = {k: v.copy() for k, v in obs.items()}
        actions = _actions(env, rng)
        actions[:, 69 + STOP] = -1
        obs, _, terminated, truncated, info = env.step(actions)
        classified = (before["phase"] == Phase.CLASSIFY) & ~terminated & ~truncated
        for n in np.flatnonzero(classified):
            expected = reference_update(
                before["saliency"][n].astype(float), before["mask"][n].astype(float),
                info["glimpse_cells"][n],
            )  # fmt: skip
            np.testing.assert_allclose(obs["saliency"][n], expected, atol=1e-6)
            checked += 1
    assert checked >= 12


def test_label_order_is_shuffled_at_every_reset(canvases):
    index = next(i for i in range(len(canvases)) if len(set(canvases[i].labels.tolist())) >= 3)
    env = _env(canvases, n=1)
    orders = set()
    for seed in range(12):
        _, info = env.reset(seed=seed, options={"scene_index": index})
        d = int(info["num_digits"][0])
        orders.add(tuple(info["digit_labels"][0, :d]))
        assert sorted(info["digit_labels"][0, :d]) == sorted(canvases[index].labels)
        assert (info["digit_labels"][0, d:] == -1).all()
    assert len(orders) > 1


def test_oracle_targets_name_each_copy_once():
    labels = np.array([[3, 5, 3, -1], [2, 2, 2, -1], [1, -1, -1, -1]])
    true = np.zeros((3, 10), int)
    for i, row in enumerate(labels):
        np.add.at(true[i], row[row >= 0], 1)
    remaining = true.copy()
    remaining[0, 3] -= 1  # one 3 named: the first 3 in list order is done, the 5 is next
    remaining[1, 2] -= 2
    remaining[2, 1] -= 1
    assert oracle_targets(labels, true, remaining).tolist() == [1, 2, -1]
    remaining[0, 5] -= 1
    assert oracle_targets(labels, true, remaining)[0] == 2


def test_oracle_is_perfect_and_random_is_not(canvases):
    env = _env(canvases, n=8)
    oracle = evaluate_hsal(env, HSALOraclePolicy(env.params), scene_indices=range(32))
    assert oracle.exact_match == 1.0 and oracle.macro_f1 == 1.0 and oracle.truncated == 0
    random = evaluate_hsal(env, make_policy("random", env, seed=0), scene_indices=range(32))
    assert random.macro_f1 < 0.5 and random.exact_match < 0.2
    # the oracle glimpses on the digits, where this activation model's saliency is
    assert oracle.attention_on_saliency > random.attention_on_saliency + 0.1


def test_mask_action_values_round_trip(canvases):
    env = _env(canvases, n=1)
    kappa1, kappa2 = np.array([[0.5, 1.2, 3.5, 5.0, 6.6]]), np.array([[6.0, 0.1, 3.5, 2.2, 4.0]])
    values = mask_action_values(env.params, kappa1, kappa2, beta=1.8)
    assert values.shape == (1, 20) and np.abs(values).max() <= 1
    raw = _raw(values[0])
    np.testing.assert_allclose(7 / (1 + np.exp(-raw[10:15])), kappa1[0], atol=1e-9)
    np.testing.assert_allclose(7 / (1 + np.exp(-raw[15:])), kappa2[0], atol=1e-9)
    np.testing.assert_allclose(np.exp(raw[5:10]), 1.8)


def test_torch_backend_matches_numpy(canvases):
    _compare_backends(canvases, "cpu")


@CUDA
def test_cuda_backend_matches_numpy(canvases):
    _compare_backends(canvases, "cuda")


def _compare_backends(canvases, device):
    cpu = _env(canvases, n=4)
    torch_env = _env(canvases, n=4, device=device, backend="torch", output="torch")
    obs_a, _ = cpu.reset(seed=7)
    obs_b, _ = torch_env.reset(seed=7)
    rng = np.random.default_rng(7)
    for _ in range(30):
        for key in obs_a:
            assert isinstance(obs_b[key], torch.Tensor) and obs_b[key].device.type == device
            np.testing.assert_allclose(obs_b[key].cpu().numpy(), obs_a[key], atol=1e-5, err_msg=key)
        actions = _actions(cpu, rng)
        obs_a, r_a, te_a, tr_a, info_a = cpu.step(actions)
        obs_b, r_b, te_b, tr_b, info_b = torch_env.step(torch.as_tensor(actions, device=device))
        np.testing.assert_allclose(r_b.cpu().numpy(), r_a, atol=1e-5)
        np.testing.assert_array_equal(te_b.cpu().numpy(), te_a)
        np.testing.assert_array_equal(tr_b.cpu().numpy(), tr_a)
        np.testing.assert_array_equal(info_b["remaining"].cpu().numpy(), info_a["remaining"])


class TinyHierarchicalPolicy(torch.nn.Module):
    """What a custom agent looks like: one head per phase, the phase picks the head."""

    def __init__(self, params):
        super().__init__()
        self.params = params
        h, w = params.grid
        self.encode = torch.nn.Linear(3 * h * w + params.channels + 3, 32)
        self.mask_head = torch.nn.Linear(32, 4 * params.num_components)
        self.location_head = torch.nn.Linear(32, h * w)
        self.label_head = torch.nn.Linear(32, params.num_classes + 1)

    def forward(self, obs):
        phase = obs["phase"].long()
        x = torch.cat(
            [obs[k].flatten(1) for k in ("saliency", "mask", "priority")]
            + [obs["glimpse"], F.one_hot(phase, 3).float()],
            1,
        )
        z = torch.tanh(self.encode(x))
        mask = torch.tanh(self.mask_head(z))  # in [-1, 1]: the mask slice directly
        location = torch.distributions.Categorical(logits=self.location_head(z)).sample()
        label = torch.distributions.Categorical(logits=self.label_head(z)).sample()
        layout = action_layout(self.params)
        action = torch.zeros(len(phase), layout["label"].stop)
        action[:, layout["mask"]] = mask * (phase == Phase.MASK)[:, None]
        action[torch.arange(len(phase)), layout["location"].start + location] = 1.0
        action[torch.arange(len(phase)), layout["label"].start + label] = 1.0
        return action


def test_a_tiny_torch_policy_acts_in_every_phase(canvases):
    env = _env(canvases, n=4, backend="torch", output="torch")
    torch.manual_seed(0)
    policy = TinyHierarchicalPolicy(env.params)
    obs, _ = env.reset(seed=8)
    seen, episodes = set(), 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: more threads only wait on each other
    for _ in range(60):
        with torch.no_grad():
            action = policy(obs)
        seen |= set(obs["phase"].tolist())
        obs, _, terminated, truncated, _ = env.step(action)
        episodes += int((terminated | truncated).sum())
    torch.set_num_threads(threads)
    assert seen == {0, 1, 2} and episodes > 0


def test_arguments_options_and_rendering(canvases):
    with pytest.raises(ValueError, match="backend"):
        _env(canvases, backend="cuda")
    with pytest.raises(TypeError, match="activation_model"):
        HSALVectorEnv(1, dataset=canvases, activation_model=lambda x: x)
    with pytest.raises(ValueError, match="C, h, w"):
        HSALVectorEnv(1, dataset=canvases, activation_model=torch.nn.Flatten())
    with pytest.raises(ValueError, match="num_glimpses"):
        _env(canvases, num_glimpses=0)
    with pytest.raises(ValueError, match="max_meta_steps"):
        _env(canvases, max_meta_steps=0)
    env = _env(canvases, n=2, render_mode="rgb_array")
    with pytest.raises(ValueError, match="scene_index"):
        env.reset(options={"scene_index": [0, 64]})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"seed": 1})
    _, info = env.reset(options={"scene_index": [5, 6]})
    assert info["scene_index"].tolist() == [5, 6]
    env.step(_actions(env, np.random.default_rng(0)))
    frame = env.render()[0]
    # four 256 px panels, a two-line caption, a rule and four legend lines
    assert frame.dtype == np.uint8 and frame.shape == (
        256 + 2 * 18 + 1 + 4 * 18,
        4 * 256 + 3 * 4,
        3,
    )
    single = HSALEnv(dataset=canvases, activation_model=PooledInk())
    obs, _ = single.reset(seed=0)
    assert single.observation_space.contains(obs)
