"""BGCut's MDP (paper 004, sec. 2.2-2.3) on blocks whose classifier behaves as the paper assumes.

The :class:`~tests.envs.fakes.ChannelSumBackbone` scores a class by the amount of its colour
left in the map, so cutting black background never lowers a score and cutting into a block
always does: every reward, end and calibration value below has a known answer.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.policies import make_policy
from tests.envs.fakes import BlockScenes, ChannelSumBackbone, RectScenes
from visenv.core.cuts import kept_cells, zero_outside_cells
from visenv.envs.bgcut import BGCutEnv, BGCutVectorEnv, CutSide, cut_action
from visenv.envs.bgcut_calibration import (
    best_heat_threshold,
    calibrate,
    separating_threshold,
)
from visenv.envs.bgcut_core import (
    NUM_ACTIONS,
    TERMINATE,
    BGCutParams,
    apply_cuts,
    episode_pairs,
    nearest_cuts,
)
from visenv.evaluation import evaluate_bgcut

TOP, BOTTOM, LEFT, RIGHT = CutSide
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


@pytest.fixture(scope="module")
def blocks():
    return BlockScenes(12)


def make_env(blocks, n=1, **kwargs):
    kwargs = {"delta": 0.05, "heat_threshold": 0.5, "image_size": 64, "grid": 8, **kwargs}
    return BGCutVectorEnv(n, dataset=blocks, classifier=ChannelSumBackbone(), **kwargs)


def reset_on(env, scene, label):
    return env.reset(options={"scene_index": scene, "class_index": label})


# -- spaces and resets -------------------------------------------------------------------------
def test_spaces_follow_the_paper(blocks):
    env = make_env(blocks, 2)
    assert env.single_action_space.n == NUM_ACTIONS == 13
    obs_space = env.single_observation_space
    assert obs_space["features"].shape == (3, 8, 8)  # C x image_size / 8 x image_size / 8
    assert obs_space["history"].shape == (4 * 13,)
    assert cut_action(TOP, 1) == 0 and cut_action(RIGHT, 3) == 11 and TERMINATE == 12
    obs, _ = env.reset(seed=0)
    assert obs["features"].dtype == np.float32 and obs["history"].dtype == np.float32
    assert not obs["history"].any()  # no action taken yet


def test_reset_options_pick_a_pair_and_reject_bad_ones(blocks):
    env = make_env(blocks, 2)
    _, info = env.reset(options={"scene_index": [1, 1], "class_index": [2, 0]})
    assert info["scene_index"].tolist() == [1, 1] and info["label"].tolist() == [2, 0]
    np.testing.assert_array_equal(info["target_box"], blocks[1].boxes[[0, 1]])
    with pytest.raises(ValueError, match="not in scene 1"):
        env.reset(options={"scene_index": 1, "class_index": 1})
    with pytest.raises(ValueError, match="needs options\\['scene_index'\\]"):
        env.reset(options={"class_index": 0})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"pair": 0})
    with pytest.raises(ValueError, match="scene_index"):
        env.reset(options={"scene_index": 12})


def test_sampled_pairs_are_classes_present_in_the_scene(blocks):
    env = make_env(blocks, 4)
    seen = set()
    env.reset(seed=0)
    for _ in range(50):
        _, info = env.reset()
        for scene, label in zip(info["scene_index"], info["label"], strict=True):
            assert label in blocks[scene].labels
            seen.add((int(scene), int(label)))
    assert len(seen) == len(episode_pairs(blocks)[0])  # every pair, not one per scene


def test_episode_pairs_enumerate_present_classes(blocks):
    scenes, labels = episode_pairs(blocks)
    assert len(scenes) == sum(len(np.unique(blocks[i].labels)) for i in range(len(blocks)))
    assert scenes[:3].tolist() == [0, 1, 1] and labels[:3].tolist() == [2, 0, 2]
    assert len(episode_pairs(blocks, max_pairs=2)[0]) == 2


# -- transitions and rewards -------------------------------------------------------------------
def test_apply_cuts_clips_at_one_unit_and_counts_what_it_removed():
    cuts = np.array([[0, 0, 0, 0], [2, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]])
    actions = np.array([cut_action(TOP, 3), cut_action(BOTTOM, 3), cut_action(BOTTOM, 2), 12])
    nxt, removed, scale, is_cut = apply_cuts(cuts, actions, grid=4)
    assert nxt.tolist() == [[3, 0, 0, 0], [2, 1, 0, 0], [3, 0, 0, 0], [0, 0, 0, 0]]
    assert removed.tolist() == [3, 0, 0, 0] and scale.tolist() == [3, 3, 2, 0]
    assert is_cut.tolist() == [True, True, True, False]
    nxt_t, removed_t, *_ = apply_cuts(torch.as_tensor(cuts), torch.as_tensor(actions), grid=4)
    assert nxt_t.tolist() == nxt.tolist() and removed_t.tolist() == removed.tolist()


def test_background_cuts_earn_their_scale_object_cuts_lose_it(blocks):
    """Scene 0: one blue block in cells x 0-1, y 1-2 of the 8 x 8 map (grid 8: a unit is a
    cell). The map is cut from the bottom (background: rows 3-7) and then into the block."""
    env = make_env(blocks, end_ratio=0.0)
    reset_on(env, 0, 2)
    _, r, term, trunc, info = env.step(np.array([cut_action(BOTTOM, 3)]))
    assert r.tolist() == [3.0] and not term[0] and not trunc[0]
    assert info["cuts"].tolist() == [[0, 3, 0, 0]] and info["score"][0] == info["score_uncut"][0]
    _, r, *_ = env.step(np.array([cut_action(BOTTOM, 2)]))  # rows 3-4: still background
    assert r.tolist() == [2.0]
    _, r, term, _, info = env.step(np.array([cut_action(BOTTOM, 1)]))  # row 2: half the block
    assert r.tolist() == [-1.0] and not term[0]
    assert info["score_uncut"][0] - info["score"][0] > info["delta"][0]
    _, r, term, *_ = env.step(np.array([TERMINATE]))  # the object is lost: -eta
    assert r.tolist() == [-3.0] and term[0]
    reset_on(env, 0, 2)
    env.step(np.array([cut_action(RIGHT, 3)]))
    _, r, term, *_ = env.step(np.array([TERMINATE]))  # only background cut: +eta
    assert r.tolist() == [3.0] and term[0]


def test_a_cut_that_removes_nothing_costs_its_scale(blocks):
    env = make_env(blocks, end_ratio=0.0, delta=10.0)  # every cut passes the score test
    reset_on(env, 0, 2)
    for expected in (3.0, 3.0, 1.0):  # 3, 6 and 7 rows: the last cut is clipped to 1 row
        _, r, *_ = env.step(np.array([cut_action(TOP, 3)]))
        assert r.tolist() == [expected]
    _, r, term, _, info = env.step(np.array([cut_action(BOTTOM, 2)]))
    assert info["cuts"].tolist() == [[7, 0, 0, 0]] and r.tolist() == [-2.0] and not term[0]


def test_episode_ends(blocks):
    # the score falls under end_ratio * p_bar: terminated at once
    env = make_env(blocks, end_ratio=0.5)
    reset_on(env, 0, 2)
    _, r, term, trunc, info = env.step(np.array([cut_action(TOP, 2)]))  # the block's top row
    assert info["score"][0] < 0.5 * info["score_uncut"][0] and term[0] and not trunc[0]
    assert r.tolist() == [-2.0]
    # no cut possible (one unit left both ways): terminated
    env = make_env(blocks, delta=10.0, end_ratio=0.0, grid=2)
    reset_on(env, 0, 2)
    _, _, term, *_ = env.step(np.array([cut_action(TOP, 1)]))
    assert not term[0]
    _, r, term, trunc, info = env.step(np.array([cut_action(LEFT, 3)]))
    assert info["cuts"].tolist() == [[1, 0, 1, 0]] and r.tolist() == [1.0]
    assert term[0] and not trunc[0]
    # the time limit: truncated, not terminated
    env = make_env(blocks, delta=10.0, end_ratio=0.0, max_steps=3)
    reset_on(env, 0, 2)
    for t in range(3):
        _, _, term, trunc, info = env.step(np.array([cut_action(TOP, 3)]))  # no-ops from t=2
        assert not term[0] and trunc[0] == (t == 2)
    assert info["step"].tolist() == [3]


def test_observation_is_the_cut_map_and_the_action_history(blocks):
    env = make_env(blocks, 2, end_ratio=0.0)
    obs0, _ = reset_on(env, [0, 3], [2, 1])
    actions = [cut_action(BOTTOM, 1), cut_action(LEFT, 2), cut_action(TOP, 3), 4, 5]
    for a in actions:
        obs, *_, info = env.step(np.array([a, a]))
    cells = kept_cells(info["cuts"], (8, 8), 8)
    np.testing.assert_array_equal(obs["features"], zero_outside_cells(obs0["features"], cells))
    history = obs["history"].reshape(2, 4, 13)
    assert np.argmax(history[0], axis=1).tolist() == actions[::-1][:4]
    assert history.sum(axis=2).tolist() == [[1] * 4] * 2


def test_info_boxes_are_in_image_pixels_and_refined_by_the_heat_map(blocks):
    """Scene 4: a blue block (x 16-40, y 0-24, 9 cells) and a smaller green one (x 8-40,
    y 32-48, 8 cells), apart; the heat map's largest region is the blue block."""
    env = make_env(blocks, end_ratio=0.0, delta=10.0)
    _, info = reset_on(env, 4, 1)
    np.testing.assert_array_equal(info["box"], [[0, 0, 64, 64]])
    np.testing.assert_array_equal(info["refined_box"], [[16, 0, 40, 24]])
    for a in (cut_action(LEFT, 3), cut_action(TOP, 1)):
        *_, info = env.step(np.array([a]))
    np.testing.assert_array_equal(info["box"], [[24, 8, 64, 64]])
    np.testing.assert_array_equal(info["refined_box"], [[24, 8, 40, 24]])
    *_, info = env.step(np.array([cut_action(TOP, 2)]))  # now disjoint from the region
    np.testing.assert_array_equal(info["box"], [[24, 24, 64, 64]])
    np.testing.assert_array_equal(info["refined_box"], info["box"])  # falls back to the box


# -- policies, metrics, calibration ------------------------------------------------------------
def test_oracle_localises_every_block_and_out_earns_random(blocks):
    env = make_env(blocks, 4)
    oracle = evaluate_bgcut(env, make_policy("oracle", env))
    assert oracle.episodes == len(episode_pairs(blocks)[0])
    assert oracle.corloc_before == 1.0 and oracle.map_before == 1.0
    assert oracle.score_dropped == 0.0 and oracle.truncated == 0.0
    random = evaluate_bgcut(env, make_policy("random", env, seed=0))
    assert random.corloc_before < 0.5 and oracle.mean_return > random.mean_return + 5
    assert "CorLoc, refined box" in oracle.to_markdown()


def test_enclosing_oracle_never_cuts_into_the_target_object(blocks):
    """On a 28-unit grid over 64-pixel images units do not meet block edges: the "enclose"
    oracle stops at the last whole unit of background on each side."""
    env = make_env(blocks, 4, grid=28)
    oracle = make_policy("oracle", env, rule="enclose")
    _, info = env.reset(seed=0)
    ended = np.zeros(4, dtype=bool)
    finished = 0
    for _ in range(80):
        box, target = info["box"], info["target_box"]
        assert (box[:, :2] <= target[:, :2]).all() and (box[:, 2:] >= target[:, 2:]).all()
        # at the end, less than one unit of background is left on any side
        assert (np.abs(box - target)[ended] < 64 / 28).all()
        finished += ended.sum()
        _, _, terminated, truncated, info = env.step(oracle(None, info))
        ended = terminated | truncated
    assert finished >= 10


def test_centre_oracle_ends_on_the_target_rounded_to_the_nearest_units(blocks):
    """The default oracle cuts every unit whose centre lies outside the target: at the end each
    edge of its box is within half a unit of the target's, and it never overshoots by more."""
    env = make_env(blocks, 4, grid=28)
    oracle = make_policy("oracle", env)
    unit = 64 / 28
    _, info = env.reset(seed=0)
    ended = np.zeros(4, dtype=bool)
    finished = 0
    for _ in range(80):
        # the info of the step that ended an episode still holds its final box
        overshoot = np.abs(info["box"] - info["target_box"])[ended]
        assert (overshoot <= unit / 2 + 1e-6).all(), overshoot
        finished += ended.sum()
        _, _, terminated, truncated, info = env.step(oracle(None, info))
        assert not truncated.any()
        ended = terminated | truncated
    assert finished >= 10


def _nearest_cuts_reference(box, size, grid):
    """Slow: test each unit strip's centre against the box, side by side."""
    h, w = size
    kept_rows = [i for i in range(grid) if box[1] <= (i + 0.5) * h / grid <= box[3]]
    kept_cols = [j for j in range(grid) if box[0] <= (j + 0.5) * w / grid <= box[2]]
    if not kept_rows:
        kept_rows = [min(int((box[1] + box[3]) / 2 / h * grid), grid - 1)]
    if not kept_cols:
        kept_cols = [min(int((box[0] + box[2]) / 2 / w * grid), grid - 1)]
    return [kept_rows[0], grid - 1 - kept_rows[-1], kept_cols[0], grid - 1 - kept_cols[-1]]


def test_nearest_cuts_match_a_slow_reference():
    rng = np.random.default_rng(0)
    sizes = rng.integers(20, 700, size=(500, 2)).astype(float)
    corners = rng.uniform(0, 1, size=(500, 2, 2))
    lo, hi = corners.min(1), corners.max(1)
    # (x1, y1, x2, y2) in pixels; some boxes thinner than a unit, some on unit boundaries
    boxes = np.stack(
        [
            lo[:, 1] * sizes[:, 1],
            lo[:, 0] * sizes[:, 0],
            hi[:, 1] * sizes[:, 1],
            hi[:, 0] * sizes[:, 0],
        ],
        1,
    )
    boxes[:50, 2] = boxes[:50, 0] + 0.01
    boxes[50:100] = np.round(boxes[50:100] / 8) * 8
    for grid in (4, 28):
        got = nearest_cuts(boxes, sizes, grid)
        want = [_nearest_cuts_reference(b, s, grid) for b, s in zip(boxes, sizes, strict=True)]
        np.testing.assert_array_equal(got, want)
        assert (got >= 0).all() and (got[:, 0] + got[:, 1] <= grid - 1).all()
        assert (got[:, 2] + got[:, 3] <= grid - 1).all()
    with pytest.raises(ValueError, match="rule"):
        make_policy("oracle", make_env(BlockScenes(), 1), rule="inside")


def test_separating_threshold_known_answers():
    assert separating_threshold([0.0, 0.01, 0.02], [0.1, 0.2]) == pytest.approx(0.06)
    # overlapping groups: the best balanced accuracy is below both object drops
    assert separating_threshold([0.0, 0.3], [0.1, 0.2]) == pytest.approx(0.05)
    assert separating_threshold([-0.5], [-0.2]) == 0.0  # never negative
    with pytest.raises(ValueError, match="needs"):
        separating_threshold([], [0.1])


def test_best_heat_threshold_isolates_the_bright_object():
    """A bright 3 x 3 object inside a dim 7 x 7 halo: thresholds up to 0.4 give the halo's box,
    any above it the object's; the first of those is 0.45."""
    heat = np.zeros((2, 10, 10))
    heat[:, 1:8, 1:8] = 0.4
    heat[:, 3:6, 3:6] = 1.0
    gt = [np.array([[0.3, 0.3, 0.6, 0.6]])] * 2
    assert best_heat_threshold(heat, gt) == 0.45


def test_calibration_separates_background_from_object_cuts(blocks, tmp_path, monkeypatch):
    monkeypatch.setenv("VISENV_CACHE", str(tmp_path))  # keep the fake model's values out
    model = ChannelSumBackbone()
    found = calibrate(model, BlockScenes(40), image_size=64, grid=8, max_pairs=60)
    assert found.num_pairs == 60 and len(found.deltas) == 3
    # background cuts leave the score exactly; half a block costs at least this much
    for k in range(3):
        assert 0 < found.deltas[k] < 0.1
    env = make_env(blocks, delta=None, heat_threshold=None)
    assert env.deltas.shape == (3,) and (env.deltas > 0).all() and 0 < env.heat_threshold < 1
    assert len(list(tmp_path.glob("models/bgcut-calibration-*.pt"))) == 1  # cached for next time


# -- backends, frames, models ------------------------------------------------------------------
@pytest.mark.parametrize("device", DEVICES)
def test_torch_backend_matches_the_numpy_path(blocks, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    kwargs = {"grid": 28, "end_ratio": 0.5}
    ref = make_env(blocks, 3, **kwargs)
    tor = make_env(blocks, 3, backend="torch", device=device, **kwargs)
    rng = np.random.default_rng(0)
    obs_a, info_a = ref.reset(seed=1)
    obs_b, info_b = tor.reset(seed=1)
    for _ in range(30):
        for key in ("features", "history"):
            np.testing.assert_allclose(obs_a[key], obs_b[key], atol=1e-6)
        for key in ("box", "refined_box", "score", "score_uncut", "cuts", "label", "step"):
            np.testing.assert_allclose(info_a[key], info_b[key], atol=1e-6, err_msg=key)
        actions = rng.integers(0, 13, 3)
        obs_a, r_a, te_a, tr_a, info_a = ref.step(actions)
        obs_b, r_b, te_b, tr_b, info_b = tor.step(torch.as_tensor(actions))
        np.testing.assert_array_equal(r_a, r_b)
        np.testing.assert_array_equal(te_a | tr_a, te_b | tr_b)


def test_rgb_frame_draws_the_cut_history(blocks):
    env = BGCutEnv(
        dataset=blocks, classifier=ChannelSumBackbone(), image_size=64, grid=8, delta=10.0,
        heat_threshold=0.5, end_ratio=0.0, render_mode="rgb_array",
    )  # fmt: skip
    env.reset(options={"scene_index": 0, "class_index": 2})
    first = env.render()
    for a in (cut_action(BOTTOM, 3), cut_action(RIGHT, 3)):
        env.step(a)
    frame = env.render()
    # two 256 px panels, a one-line caption, a rule and four legend lines, whatever the scene
    assert frame.dtype == np.uint8 and frame.shape == (347, 516, 3) == first.shape

    def green(image):  # the cut history's colour, on the image panel of the frame
        return ((image[..., 1] > 150) & (image[..., 0] < 100) & (image[..., 2] < 150))[:256, :256]

    assert green(frame).sum() > green(first).sum()


def test_classifier_arguments_are_checked(blocks):
    with pytest.raises(TypeError, match="FeatureBackbone"):
        BGCutVectorEnv(dataset=blocks, classifier=torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="one of \\('small', 'vgg16'\\)"):
        BGCutVectorEnv(dataset=blocks, classifier="resnet")
    with pytest.raises(ValueError, match="needs vgg16_weights"):
        BGCutVectorEnv(dataset=blocks, classifier="vgg16")
    with pytest.raises(ValueError, match="read only with classifier='vgg16'"):
        BGCutVectorEnv(dataset=blocks, vgg16_weights="x.pth")
    with pytest.raises(ValueError, match="classes"):
        BGCutVectorEnv(dataset=RectScenes(), classifier=ChannelSumBackbone())
    with pytest.raises(ValueError, match="delta"):
        make_env(blocks, delta=-1.0)
    with pytest.raises(ValueError, match="end_ratio"):
        BGCutParams(end_ratio=2.0)


def test_vgg16_from_a_local_file_is_fine_tuned_once_and_cached(blocks, tmp_path, monkeypatch):
    from torchvision.models.vgg import cfgs, make_layers

    monkeypatch.setenv("VISENV_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    weights = tmp_path / "vgg16-test.pth"
    features = make_layers(cfgs["D"]).state_dict()  # the 59 of 528 MB that are read
    torch.save({f"features.{k}": v for k, v in features.items()}, weights)
    from visenv.models.feature_classifiers import finetuned_vgg16

    small = BlockScenes(4)
    # no time to train: what is tested is where the weights come from and go
    model = finetuned_vgg16(weights, small, image_size=32, seconds=1e-6)
    assert model.mid_channels == 512
    env = BGCutVectorEnv(
        dataset=small, classifier="vgg16", vgg16_weights=str(weights), image_size=32, grid=4,
        delta=0.1, heat_threshold=0.5,
    )  # fmt: skip
    assert env.single_observation_space["features"].shape == (512, 4, 4)
    trained = model.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in env.classifier.state_dict().items())
    env.reset(seed=0)
    env.step(np.array([0]))


def test_sb3_dqn_trains_on_the_dict_state(blocks):
    """The paper trains a DQN; SB3's runs on the unchanged env with MultiInputPolicy."""
    from stable_baselines3 import DQN

    env = BGCutEnv(dataset=blocks, classifier=ChannelSumBackbone(), image_size=64, delta=0.05,
                   heat_threshold=0.5)  # fmt: skip
    model = DQN("MultiInputPolicy", env, buffer_size=200, learning_starts=20, seed=0)
    model.learn(60)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))
