"""UnifiedAttn / RAM MDP against paper 002's definitions, on small in-memory digit pools."""

import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from agents.policies import RandomPolicy, UnifiedAttnOraclePolicy
from tests.envs.harness import assert_same
from visenv.core.boxes import quadrant_boxes
from visenv.core.crop import crop_and_resize
from visenv.core.glimpses import glimpse_boxes
from visenv.data import rendered_digits
from visenv.envs.unifiedattn import (
    ActionCodec,
    ActionLayout,
    Phase,
    UnifiedAttnEnv,
    UnifiedAttnParams,
    UnifiedAttnVectorEnv,
    observation_phases,
)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
P, G, D = Phase.PICK, Phase.GLIMPSE, Phase.PREDICT


@pytest.fixture(scope="module")
def pool():
    return rendered_digits("test", num_digits=200)


def _env(pool, n=3, **kwargs):
    kwargs = {"canvas": "cluttered", "canvas_size": 60, "num_glimpses": 4, **kwargs}
    return UnifiedAttnVectorEnv(n, dataset=pool, **kwargs)


def test_spaces_follow_the_sensor_and_the_pyramid(pool):
    env = _env(pool, levels=2, glimpse_size=10, num_scales=3)
    obs_space = env.single_observation_space
    assert obs_space["glimpse"].shape == (3, 10, 10, 1)  # m patches of g x g, channels last
    assert obs_space["location"].shape == (2,) and obs_space["phase"].n == 4
    assert obs_space["quadrants"].shape == (4, 15, 15, 1)  # 60 / 2^2
    assert env.action_format == "dict"  # the paper's spaces, literally
    assert env.single_action_space == spaces.Dict(
        quadrant=spaces.Discrete(4),
        location=spaces.Box(-1.0, 1.0, (2,), np.float32),
        label=spaces.Discrete(10),
    )
    assert _env(pool, levels=2, action_format="flat").single_action_space == spaces.Box(
        -1.0, 1.0, (2 + 4 + 10,), np.float32
    )
    ram = _env(pool, levels=0)
    assert "quadrants" not in ram.single_observation_space.spaces
    assert ram.single_action_space == spaces.Dict(
        location=spaces.Box(-1.0, 1.0, (2,), np.float32), label=spaces.Discrete(10)
    )
    assert _env(pool, levels=0, action_format="flat").single_action_space.shape == (2 + 10,)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_action_layout_encodes_and_decodes_every_decision():
    layout = ActionLayout(4, 11)
    actions = layout.encode(3, location=[[0.5, -0.5]] * 3, quadrant=[0, 3, 2], label=[10, 0, 4])
    assert actions.shape == (3, 17) and actions.dtype == np.float32
    assert ((actions >= -1) & (actions <= 1)).all()
    location, quadrant, label = layout.decode(actions.astype(np.float64))
    np.testing.assert_allclose(location, [[0.5, -0.5]] * 3)
    assert quadrant.tolist() == [0, 3, 2] and label.tolist() == [10, 0, 4]


@pytest.mark.parametrize("action_format", ["dict", "flat"])
@pytest.mark.parametrize("num_quadrants", [4, 0])
def test_both_formats_decode_to_the_same_decisions(action_format, num_quadrants):
    codec = ActionCodec(action_format, num_quadrants, 11)
    actions = codec.encode(3, location=[[0.5, -0.5]] * 3, quadrant=[0, 3, 2], label=[10, 0, 4])
    assert codec.space.contains(_first(actions))
    location, quadrant, label = codec.decode(actions, 3)
    assert location.dtype == np.float64 and location.shape == (3, 2)
    np.testing.assert_allclose(location, [[0.5, -0.5]] * 3)
    assert quadrant.tolist() == ([0, 3, 2] if num_quadrants else [0, 0, 0])
    assert label.tolist() == [10, 0, 4]


def _first(actions):
    return {k: v[0] for k, v in actions.items()} if isinstance(actions, dict) else actions[0]


def test_dict_actions_accept_what_the_spaces_sample():
    codec = ActionCodec("dict", 4, 10)
    codec.space.seed(0)
    single = codec.space.sample()  # numpy scalars and a [2] array
    location, quadrant, label = codec.decode({k: np.asarray(v)[None] for k, v in single.items()}, 1)
    assert (quadrant[0], label[0]) == (single["quadrant"], single["label"])
    batch = batch_space(codec.space, 5)
    batch.seed(0)
    sample = batch.sample()  # {"quadrant": int64 [5], "location": float32 [5, 2], ...}
    location, quadrant, label = codec.decode(sample, 5)
    np.testing.assert_array_equal(location, sample["location"])
    np.testing.assert_array_equal(quadrant, sample["quadrant"])
    as_tensors = {k: torch.as_tensor(v) for k, v in sample.items()}
    np.testing.assert_array_equal(codec.decode(as_tensors, 5)[2], sample["label"])


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"quadrant": [4, 0]}, ValueError, r"actions\['quadrant'\] must lie in Discrete\(4\)"),
        ({"quadrant": [0.0, 1.0]}, TypeError, r"actions\['quadrant'\] must be integers"),
        ({"label": [0, -1]}, ValueError, r"actions\['label'\] must lie in Discrete\(10\)"),
        ({"label": [[0, 1]]}, ValueError, r"actions\['label'\] must have shape \(2,\)"),
        ({"location": [[0, 0], [0, 1.5]]}, ValueError, r"actions\['location'\] must lie in"),
        ({"location": [[0, np.nan], [0, 0]]}, ValueError, r"actions\['location'\] must be finite"),
        ({"location": [0.0, 0.0]}, ValueError, r"actions\['location'\] must have shape"),
        ({"extra": [0, 0]}, ValueError, "must have the keys"),
    ],
)
def test_every_dict_part_is_checked_in_every_phase(pool, change, error, match):
    env = _env(pool, n=2, levels=2)
    env.reset(seed=0)
    for _ in range(2):  # past the picks: a quadrant is no longer read, but still checked
        env.step(env.action_codec.encode(2))
    assert (env._phase() == G).all()
    actions = {**env.action_codec.encode(2), **change}
    with pytest.raises(error, match=match):
        env.step(actions)
    missing = env.action_codec.encode(2)
    del missing["label"]
    with pytest.raises(ValueError, match="must have the keys"):
        env.step(missing)
    with pytest.raises(TypeError, match="action_format='flat'"):
        env.step(np.zeros((2, 16), dtype=np.float32))


def test_equivalent_dict_and_flat_actions_give_identical_trajectories(pool):
    runs = []
    for action_format in ("dict", "flat"):
        env = _env(pool, n=3, levels=2, action_format=action_format)
        rng = np.random.default_rng(0)
        run = [env.reset(seed=3)]
        for _ in range(20):  # three episodes and more, NextStep autoreset included
            decisions = {
                "location": rng.uniform(-1, 1, (3, 2)),
                "quadrant": rng.integers(0, 4, 3),
                "label": rng.integers(0, 10, 3),
            }
            run.append(env.step(env.action_codec.encode(3, **decisions)))
        runs.append(run)
    assert_same(*runs)


def test_phases_run_picks_then_glimpses_then_the_prediction():
    params = UnifiedAttnParams(levels=2, num_glimpses=6)
    steps = np.arange(9)
    phases = observation_phases(steps, steps >= 8, params)
    assert phases.tolist() == [P, P, G, G, G, G, G, D, Phase.DONE]
    ram = UnifiedAttnParams(levels=0, num_glimpses=6)
    assert observation_phases(np.arange(6), np.zeros(6, bool), ram).tolist() == [G] * 5 + [D]
    svhn = UnifiedAttnParams(levels=1, num_glimpses=3, max_labels=6, end_label=10, num_labels=11)
    assert observation_phases(np.arange(7), np.zeros(7, bool), svhn).tolist() == [
        P, G, G, D, G, G, D
    ]  # fmt: skip


@pytest.mark.parametrize("levels", [0, 1, 2])
def test_an_episode_is_levels_picks_and_t_glimpses(pool, levels):
    env = _env(pool, n=4, levels=levels)
    obs, info = env.reset(seed=1)
    policy = RandomPolicy(env.action_space, seed=0)
    for t in range(levels + 4):
        assert (obs["phase"] == (P if t < levels else G if t < levels + 3 else D)).all()
        obs, _, terminated, truncated, info = env.step(policy(obs, info))
        assert terminated.all() == (t == levels + 3) and not truncated.any()
    assert (obs["phase"] == Phase.DONE).all() and (info["num_glimpses"] == 4).all()
    assert (info["picks"] >= 0).all() and info["picks"].shape == (4, levels)


def test_picks_map_into_the_next_level_and_place_the_first_glimpse(pool):
    env = _env(pool, n=2, levels=2, canvas_size=100)
    obs, info = env.reset(seed=2)
    image = env._images.arrays[0]
    whole = np.array([0.0, 0.0, 100.0, 100.0])
    # level 1: the whole image at half resolution, split 2 x 2 (25 x 25 px per quadrant)
    for q in range(4):
        box = quadrant_boxes(whole, np.int64(q))
        expected = crop_and_resize([image], box[None], (25, 25))[0]
        np.testing.assert_array_equal(obs["quadrants"][0, q, ..., 0], expected)
    # at half resolution a quadrant pixel is the mean of 2 x 2 original pixels
    halved = image.reshape(50, 2, 50, 2).mean(axis=(1, 3))
    assert np.abs(obs["quadrants"][0, 0, ..., 0] - halved[:25, :25]).max() <= 1
    codec = env.action_codec
    obs, _, _, _, info = env.step(codec.encode(2, quadrant=[3, 1]))
    first = quadrant_boxes(np.tile(whole, (2, 1)), np.array([3, 1]))
    np.testing.assert_allclose(info["region_box"], first)
    # level 2: the picked quadrant at full resolution (50 x 50), again 25 x 25 per quadrant
    box = quadrant_boxes(first[0], np.int64(2))
    expected = crop_and_resize([image], box[None], (25, 25))[0]
    np.testing.assert_array_equal(obs["quadrants"][0, 2, ..., 0], expected)
    assert (obs["glimpse"] == 0).all() and (obs["phase"] == P).all()
    obs, _, _, _, info = env.step(codec.encode(2, quadrant=[2, 0]))
    second = quadrant_boxes(first, np.array([2, 0]))
    np.testing.assert_allclose(info["region_box"], second)
    assert info["picks"].tolist() == [[3, 2], [1, 0]]
    # the first glimpse lands inside the picked region (Algorithm 1, line 6)
    centre = (obs["location"] + 1) / 2 * 100
    assert ((second[:, :2] <= centre) & (centre <= second[:, 2:])).all()
    assert (obs["phase"] == G).all() and (obs["quadrants"] == 0).all()


def test_glimpse_is_m_patches_resampled_from_the_original_image(pool):
    env = _env(pool, n=2, levels=0, canvas_size=100, glimpse_size=12, num_scales=4)
    obs, info = env.reset(seed=3)
    codec = env.action_codec
    for location in ([0.1, -0.3], [1.0, 1.0], [-0.95, 0.4]):
        obs, _, _, _, info = env.step(codec.encode(2, location=[location] * 2))
        np.testing.assert_allclose(obs["location"], [location] * 2, atol=1e-7)
        sent = np.array([location] * 2, dtype=np.float32).astype(np.float64)  # as the action
        boxes = glimpse_boxes(sent, (100, 100), 12, 4)
        np.testing.assert_array_equal(info["glimpse_boxes"], boxes)
        np.testing.assert_allclose(boxes[0, :, 2] - boxes[0, :, 0], [12, 24, 48, 96])
        for i in range(2):
            direct = crop_and_resize([env._images.arrays[i]], boxes[i][None], (12, 12))[0]
            np.testing.assert_array_equal(obs["glimpse"][i, ..., 0], direct)
    sent = np.float32([[[0.1, -0.3], [1, 1], [-0.95, 0.4]]] * 2)
    np.testing.assert_array_equal(info["locations"][:, 1:4], sent)


def test_reward_and_pick_rewards_are_the_final_outcome(pool):
    env = _env(pool, n=8, levels=2)
    codec = env.action_codec
    _, info = env.reset(seed=4)
    truth = info["target"][:, 0]
    guess = np.where(np.arange(8) % 2 == 0, truth, (truth + 1) % 10)
    for _ in range(5):
        _, reward, terminated, _, info = env.step(codec.encode(8, quadrant=np.zeros(8)))
        assert (reward == 0).all() and not terminated.any() and (info["pick_rewards"] == 0).all()
    _, reward, terminated, _, info = env.step(codec.encode(8, label=guess))
    assert terminated.all()
    np.testing.assert_array_equal(reward, guess == truth)
    np.testing.assert_array_equal(info["correct"], guess == truth)
    np.testing.assert_array_equal(info["pick_rewards"], np.repeat(reward[:, None], 2, axis=1))
    np.testing.assert_array_equal(info["prediction"][:, 0], guess)


def test_reset_index_option_and_its_errors(pool):
    env = _env(pool, n=2)
    _, info = env.reset(options={"index": [3, 5]})
    assert info["index"].tolist() == [3, 5]
    assert info["target"][:, 0].tolist() == pool.labels[[3, 5]].tolist()
    with pytest.raises(ValueError, match="index"):
        env.reset(options={"index": 200})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"scene_index": 1})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": 6}, "levels"),
        ({"glimpse_size": 80}, "glimpse_size"),
        ({"num_scales": 0}, "num_scales"),
        ({"canvas": "tiled"}, "canvas kind"),
        ({"dataset": "imagenet"}, "unknown dataset"),
        ({"output": "jax"}, "output must be one of"),
    ],
)
def test_bad_constructor_arguments(pool, kwargs, match):
    kwargs = {"dataset": pool, **kwargs}
    with pytest.raises(ValueError, match=match):
        UnifiedAttnVectorEnv(2, canvas_size=60, **kwargs)


def _rollout(env, actions, seed=5):
    obs, info = env.reset(seed=seed)
    out = [(obs, info)]
    for a in actions:
        obs, r, terminated, _, info = env.step(a)
        out.append((obs, info, r, terminated))
    return out


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_torch_backend_agrees_with_opencv_backend(pool, device):
    ref_env = _env(pool, n=4, levels=2)
    ref_env.action_space.seed(0)
    actions = [ref_env.action_space.sample() for _ in range(14)]
    ref = _rollout(ref_env, actions)
    got = _rollout(_env(pool, n=4, levels=2, device=device, backend="torch"), actions)
    for a, b in zip(ref, got, strict=True):
        for key in ("glimpse", "quadrants"):
            diff = np.abs(a[0][key].astype(int) - b[0][key].astype(int))
            assert diff.max() <= 1  # OpenCV's fixed-point interpolation vs grid_sample
        np.testing.assert_array_equal(a[0]["phase"], b[0]["phase"])
        np.testing.assert_allclose(a[0]["location"], b[0]["location"])
        np.testing.assert_allclose(a[1]["entropy"], b[1]["entropy"], atol=0.1)
        for x, y in zip(a[2:], b[2:], strict=True):
            np.testing.assert_array_equal(x, y)


def test_torch_output_stays_on_the_device(pool):
    env = _env(pool, n=2, levels=1, backend="torch", output="torch")
    obs, info = env.reset(seed=0)
    actions = {k: torch.as_tensor(v) for k, v in env.action_space.sample().items()}
    obs, reward, _, _, info = env.step(actions)
    assert all(isinstance(v, torch.Tensor) for v in (*obs.values(), reward, info["entropy"]))
    assert obs["glimpse"].dtype == torch.uint8 and obs["glimpse"].shape == (2, 3, 12, 12, 1)


def test_single_env_matches_the_vector_env_of_one(pool):
    single = UnifiedAttnEnv(dataset=pool, canvas_size=60, num_glimpses=4)
    vec = _env(pool, n=1)
    obs_s, _ = single.reset(seed=9)
    obs_v, _ = vec.reset(seed=9)
    single.action_space.seed(1)
    for _ in range(7):
        for key in obs_s:
            np.testing.assert_array_equal(obs_s[key], obs_v[key][0])
        action = single.action_space.sample()
        obs_s, r_s, term_s, *_ = single.step(action)
        obs_v, r_v, term_v, *_ = vec.step({k: np.asarray(v)[None] for k, v in action.items()})
        assert r_s == r_v[0] and term_s == term_v[0]
        if term_s:
            obs_s, _ = single.reset()
            obs_v, _ = vec.reset()


class TinyRecurrentAgent(torch.nn.Module):
    """A RAM-shaped torch policy: glimpse + location -> GRU -> every part of the action, in
    the env's format (a dict of samples, or the flat vector of location and scores)."""

    def __init__(self, env):
        super().__init__()
        self.format, self.layout = env.action_format, env.action_codec.layout
        glimpse = int(np.prod(env.single_observation_space["glimpse"].shape))
        self.encode = torch.nn.Linear(glimpse + 2 + 4, 32)
        self.core = torch.nn.GRUCell(32, 32)
        self.head = torch.nn.Linear(32, self.layout.size)  # location, quadrant and label logits

    def forward(self, obs, hidden):
        glimpse = torch.as_tensor(obs["glimpse"]).flatten(1).float() / 255
        location = torch.as_tensor(obs["location"])
        phase = torch.nn.functional.one_hot(torch.as_tensor(obs["phase"]), 4).float()
        hidden = self.core(
            torch.relu(self.encode(torch.cat([glimpse, location, phase], 1))), hidden
        )
        out = self.head(hidden)
        if self.format == "flat":
            return torch.tanh(out), hidden  # every part in [-1, 1]: location and scores
        sample = lambda part: torch.distributions.Categorical(logits=out[:, part]).sample()  # noqa: E731
        return {
            "location": torch.tanh(out[:, self.layout.location]),
            "quadrant": sample(self.layout.quadrant),
            "label": sample(self.layout.label),
        }, hidden


@pytest.mark.parametrize("action_format", ["dict", "flat"])
def test_a_tiny_recurrent_torch_agent_acts_in_every_phase(pool, action_format):
    env = _env(pool, n=4, levels=2, output="torch", action_format=action_format)
    agent = TinyRecurrentAgent(env)
    torch.manual_seed(0)
    obs, _ = env.reset(seed=0)
    hidden = torch.zeros(4, 32)
    seen, total = set(), torch.zeros(4)
    for _ in range(20):
        with torch.no_grad():
            actions, hidden = agent(obs, hidden)
        seen |= set(obs["phase"].tolist())
        obs, reward, terminated, truncated, _ = env.step(actions)
        hidden = hidden * (1 - (terminated | truncated).float())[:, None]  # CleanRL-style reset
        total += reward
    assert seen == {P, G, D, Phase.DONE}
    assert ((total >= 0) & (total <= 3)).all()


def test_sb3_checker_passes_on_dict_actions_with_its_expected_warning(pool):
    from stable_baselines3.common.env_checker import check_env

    with pytest.warns(UserWarning, match="action space is not based off a numpy array"):
        check_env(UnifiedAttnEnv(dataset=pool, canvas="plain", levels=1, num_glimpses=3))


def test_sb3_ppo_trains_with_the_multi_input_policy(pool):
    import gymnasium as gym
    from stable_baselines3 import PPO

    env = gym.wrappers.PassiveEnvChecker(  # SB3 trains on no Dict action: the flat format
        UnifiedAttnEnv(dataset=pool, canvas="plain", levels=1, num_glimpses=3, action_format="flat")
    )
    model = PPO("MultiInputPolicy", env, n_steps=128, batch_size=128, n_epochs=1, seed=0)
    model.learn(256)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)


def test_oracle_beats_random_on_rendered_canvases(pool):
    from visenv.evaluation import evaluate_unifiedattn

    env = _env(pool, n=20, levels=2, canvas_size=100, num_glimpses=6)
    oracle = evaluate_unifiedattn(env, UnifiedAttnOraclePolicy(env), indices=range(40))
    random = evaluate_unifiedattn(env, RandomPolicy(env.action_space, seed=0), indices=range(40))
    assert oracle.error_rate == 0 and random.error_rate > 0.6
    assert oracle.region_hit_rate == 1 and random.region_hit_rate < 0.3
    assert oracle.coverage > 0.9 > 0.3 > random.coverage
    assert oracle.mean_entropy > random.mean_entropy  # glimpses on ink, not on black
    assert "| error rate | 0.0000 |" in oracle.to_markdown()
    flat = _env(pool, n=20, levels=2, canvas_size=100, num_glimpses=6, action_format="flat")
    assert evaluate_unifiedattn(flat, UnifiedAttnOraclePolicy(flat), indices=range(20)) == (
        evaluate_unifiedattn(env, UnifiedAttnOraclePolicy(env), indices=range(20))
    )  # the oracle speaks either format, with the same episodes


def test_rgb_frames_show_the_quad_tree_and_every_glimpse_scale(pool):
    env = _env(pool, n=1, levels=2, canvas_size=100, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(env.action_codec.encode(1, quadrant=[0]))
    env.step(env.action_codec.encode(1, quadrant=[3]))
    frame = env.render()[0]
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[0] >= 256
    r, g, b = frame[..., 0].astype(int), frame[..., 1].astype(int), frame[..., 2].astype(int)
    assert ((r > 200) & (g < 80) & (b < 80)).sum() > 100  # the picked region (red)
    assert ((r > 150) & (g > 120) & (b < 60)).sum() > 100  # 4 glimpse scales (yellow lines)
    assert ((b > 200) & (r < 100)).sum() > 100  # the quad-tree splits (blue)
