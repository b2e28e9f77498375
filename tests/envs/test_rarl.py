"""RARL MDP against paper 003's definitions, on small in-memory scenes and a tiny backbone."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

from agents.policies import RandomPolicy, RARLBackbonePolicy, make_policy
from tests.core.reference import crop_and_resize_reference
from tests.envs.fakes import RectScenes
from tests.envs.harness import assert_same
from visenv.core.boxes import box_area, box_centers, box_sizes
from visenv.core.metrics import top_n_label_recall
from visenv.data import Scene
from visenv.envs import rarl as rarl_module
from visenv.envs.rarl import (
    ActionCodec,
    RARLEnv,
    RARLParams,
    RARLVectorEnv,
    paper_anchor_sides,
    region_boxes,
)
from visenv.evaluation import evaluate_rarl
from visenv.models.backbone import SmallBackbone, scene_images

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
N = 128  # image side of most tests: a 8 x 8 top map, anchors of 20, 40 and 80 px
T = 5


@pytest.fixture(scope="module")
def scenes():
    return RectScenes(12)


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    return SmallBackbone(4, width=4, image_size=N).eval()


def _env(scenes, backbone, n=2, **kwargs):
    kwargs = {"image_size": N, **kwargs}
    return RARLVectorEnv(n, dataset=scenes, backbone=backbone, **kwargs)


def _actions(env, location=None, scores=None):
    return env.action_codec.encode(env.num_envs, location=location, scores=scores)


# -- geometry -----------------------------------------------------------------------------------
def test_anchor_sides_scale_with_the_image_as_in_the_paper():
    assert paper_anchor_sides(512) == (80.0, 160.0, 320.0)
    assert paper_anchor_sides(640) == (100.0, 200.0, 400.0)  # the paper's second scale
    assert paper_anchor_sides(224) == pytest.approx((35.0, 70.0, 140.0))


def test_nine_anchors_three_areas_three_aspect_ratios_centred_at_the_location():
    p = RARLParams(image_size=512)
    loc = np.array([[0.25, -0.5]])  # pixel (320, 128)
    boxes = region_boxes(loc, np.array([1]), p)[0]
    assert boxes.shape == (9, 4) and p.num_regions == 9
    np.testing.assert_allclose(box_centers(boxes), np.tile([320.0, 128.0], (9, 1)))
    np.testing.assert_allclose(box_area(boxes), np.repeat([80.0**2, 160.0**2, 320.0**2], 3))
    w, h = box_sizes(boxes).T
    np.testing.assert_allclose(w / h, np.tile([2.0, 1.0, 0.5], 3))  # 2:1, 1:1, 1:2 (w:h)


def test_iteration_zero_is_the_whole_image_in_every_slot():
    p = RARLParams(image_size=256)
    assert p.sides == (40.0, 80.0, 160.0)  # the paper's, scaled to N
    boxes = region_boxes(np.array([[0.3, 0.3], [0.3, 0.3]]), np.array([0, 2]), p)
    np.testing.assert_array_equal(boxes[0], np.tile([0.0, 0.0, 256.0, 256.0], (9, 1)))
    assert not np.allclose(boxes[1], boxes[0])


# -- observations -------------------------------------------------------------------------------
def _reference_regions(scenes, backbone, scene_index, regions, size=7):
    """``f_tr`` by the slow bilinear loop on the map the backbone gives for the scene."""
    with torch.no_grad():
        top = backbone.top(backbone.mid(scene_images(scenes, [scene_index], N)))[0]
    fmap = top.permute(1, 2, 0).numpy()  # [h, w, C]
    scale = fmap.shape[1] / N
    out = [crop_and_resize_reference(fmap, box * scale, (size, size)) for box in regions]
    return np.stack(out).transpose(0, 3, 1, 2)  # [k, C, S, S]


def test_region_features_are_bilinear_crops_of_the_top_map(scenes, backbone):
    env = _env(scenes, backbone, n=2)
    obs, info = env.reset(seed=0)
    space = env.single_observation_space
    assert space["regions"].shape == (9, backbone.top_channels, 7, 7)
    assert obs["regions"].dtype == np.float32 and space.contains({k: v[0] for k, v in obs.items()})
    for i in range(2):  # iteration 0: the whole map, resampled, in all 9 slots
        ref = _reference_regions(scenes, backbone, info["scene_index"][i], info["region_boxes"][i])
        np.testing.assert_allclose(obs["regions"][i], ref, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(obs["regions"][i, 0], obs["regions"][i, 8])
    # an iteration later: 9 anchors around l_1, one partly past the border (zeros outside)
    obs, *_, info = env.step(_actions(env, location=[[0.1, -0.2], [0.9, 0.95]]))
    for i in range(2):
        ref = _reference_regions(scenes, backbone, info["scene_index"][i], info["region_boxes"][i])
        np.testing.assert_allclose(obs["regions"][i], ref, rtol=1e-4, atol=1e-5)
    assert (info["region_boxes"][1, :, 2:] > N).any()


def test_all_envs_and_regions_are_cropped_in_one_call(scenes, backbone, monkeypatch):
    calls = []
    kernel = rarl_module.crop_and_resize_torch

    def counting(maps, boxes, size):
        calls.append((tuple(maps.shape), tuple(boxes.shape)))
        return kernel(maps, boxes, size)

    monkeypatch.setattr(rarl_module, "crop_and_resize_torch", counting)
    env = _env(scenes, backbone, n=4)
    env.reset(seed=0)
    calls.clear()
    env.step(_actions(env))
    assert len(calls) == 1 and calls[0][1] == (4, 9, 4) and calls[0][0][0] == 4


def test_observation_carries_iteration_and_location(scenes, backbone):
    env = _env(scenes, backbone, n=1)
    obs, _ = env.reset(seed=1)
    assert env.single_observation_space["iteration"] == spaces.Discrete(T + 2)
    assert obs["iteration"][0] == 0 and (obs["location"] == 0).all()
    for t in range(1, T + 1):
        loc = [[0.1 * t, -0.1 * t]]
        obs, *_ = env.step(_actions(env, location=loc))
        assert obs["iteration"][0] == t
        np.testing.assert_allclose(obs["location"], loc, rtol=1e-6)
    obs, _, terminated, *_ = env.step(_actions(env))
    assert terminated[0] and obs["iteration"][0] == T + 1 and not obs["regions"].any()


# -- episode, fusion and reward ---------------------------------------------------------------
def test_episode_is_t_plus_one_steps_rewarded_only_at_the_end(scenes, backbone):
    env = _env(scenes, backbone, n=3, num_iterations=3)
    env.reset(seed=2)
    rng = np.random.default_rng(0)
    rewards, ends = [], []
    for _ in range(4):
        scores = rng.random((3, 9, 4)).astype(np.float32)
        _, r, term, trunc, info = env.step(_actions(env, rng.uniform(-1, 1, (3, 2)), scores))
        rewards.append(r)
        ends.append(term)
        assert not trunc.any()
    assert [e.all() for e in ends] == [False, False, False, True]
    assert not np.any(rewards[:3])
    np.testing.assert_allclose(rewards[3], top_n_label_recall(info["fused_scores"], info["labels"]))


def test_scores_fuse_by_category_wise_max_over_iterations_one_to_t(scenes, backbone):
    env = _env(scenes, backbone, n=2)
    env.reset(seed=3)
    rng = np.random.default_rng(1)
    history = []
    for t in range(T + 1):
        scores = rng.random((2, 9, 4)).astype(np.float32)
        if t == 0:
            scores[:] = 1.0  # read at no iteration: R_0 only places l_1
        else:
            history.append(scores)
        *_, info = env.step(_actions(env, scores=scores))
    expected = np.max(np.stack(history), axis=(0, 2))  # over iterations and regions
    np.testing.assert_allclose(info["fused_scores"], expected, rtol=1e-6)


def test_reward_is_the_share_of_true_labels_among_the_top_n(scenes, backbone):
    env = _env(scenes, backbone, n=1)
    _, info = env.reset(seed=0, options={"scene_index": 4})
    truth = info["labels"][0]
    n = truth.sum()
    wrong = np.flatnonzero(~truth)
    for scores_of, expected in (
        (truth.astype(np.float32), 1.0),  # exactly the true labels
        (np.isin(np.arange(4), wrong[:n]).astype(np.float32), 0.0),  # n wrong labels
    ):
        env.reset(options={"scene_index": 4})
        for _ in range(T):
            env.step(_actions(env))
        scores = np.broadcast_to(scores_of, (1, 9, 4))
        _, reward, *_ = env.step(_actions(env, scores=scores))
        assert reward[0] == pytest.approx(expected)


def test_the_location_is_read_before_the_last_iteration_only(scenes, backbone):
    env = _env(scenes, backbone, n=1)
    env.reset(seed=0)
    for _ in range(T):
        env.step(_actions(env, location=[[0.5, 0.5]]))
    before = env.unwrapped._regions.copy()
    *_, info = env.step(_actions(env, location=[[-0.5, -0.5]]))
    np.testing.assert_array_equal(info["region_boxes"], before)  # the last regions stay
    np.testing.assert_allclose(info["locations"][0], np.tile([0.5, 0.5], (T, 1)))


# -- actions ------------------------------------------------------------------------------------
def test_dict_and_flat_actions_give_the_same_trajectory(scenes, backbone):
    envs = [_env(scenes, backbone, n=2, action_format=f) for f in ("dict", "flat")]
    assert envs[0].single_action_space == spaces.Dict(
        location=spaces.Box(-1.0, 1.0, (2,), np.float32),
        scores=spaces.Box(0.0, 1.0, (9, 4), np.float32),
    )
    assert envs[1].single_action_space == spaces.Box(-1.0, 1.0, (2 + 9 * 4,), np.float32)
    rng = np.random.default_rng(0)
    runs = [[env.reset(seed=5)] for env in envs]
    for _ in range(2 * (T + 1)):
        loc, scores = rng.uniform(-1, 1, (2, 2)), rng.integers(0, 5, (2, 9, 4)) / 4
        for env, run in zip(envs, runs, strict=True):
            run.append(env.step(env.action_codec.encode(2, location=loc, scores=scores)))
    assert_same(runs[0], runs[1])


def test_codec_round_trip():
    codec = ActionCodec("flat", 9, 3)
    loc, scores = np.array([[0.5, -1.0]]), np.random.default_rng(0).random((1, 9, 3))
    got_loc, got_scores = codec.decode(codec.encode(1, location=loc, scores=scores), 1)
    np.testing.assert_allclose(got_loc, loc)
    np.testing.assert_allclose(got_scores, scores, atol=1e-6)
    with pytest.raises(ValueError, match="action_format"):
        ActionCodec("tuple", 9, 3)


@pytest.mark.parametrize(
    ("part", "value", "error"),
    [
        ("location", [[1.5, 0.0]], ValueError),  # outside [-1, 1]^2: never clipped
        ("scores", np.full((1, 9, 4), 1.2), ValueError),
        ("scores", np.full((1, 9, 3), 0.5), ValueError),
        ("location", [["a", "b"]], TypeError),
    ],
)
def test_bad_actions_name_the_part(scenes, backbone, part, value, error):
    env = _env(scenes, backbone, n=1)
    env.reset(seed=0)
    action = _actions(env)
    action[part] = np.asarray(value)
    with pytest.raises(error, match=rf"actions\['{part}'\]"):
        env.step(action)
    with pytest.raises(ValueError, match="keys"):
        env.step({"location": action["location"]})


# -- construction -------------------------------------------------------------------------------
def test_constructor_arguments_are_checked(scenes, backbone):
    with pytest.raises(ValueError, match="backend must be 'torch'"):
        _env(scenes, backbone, backend="opencv")
    with pytest.raises(ValueError, match="multiple of 16"):
        _env(scenes, backbone, image_size=100)
    with pytest.raises(TypeError, match="FeatureBackbone"):
        _env(scenes, torch.nn.Conv2d(3, 8, 3))
    with pytest.raises(ValueError, match="weights_path"):
        _env(scenes, "vgg16")
    with pytest.raises(ValueError, match="one of"):
        _env(scenes, "resnet")
    with pytest.raises(ValueError, match="scene_index"):
        _env(scenes, backbone).reset(options={"scene_index": 99})
    with pytest.raises(ValueError, match="unknown reset options"):
        _env(scenes, backbone).reset(options={"index": 0})


def test_anchor_and_crop_settings(scenes, backbone):
    env = _env(scenes, backbone, n=1, image_size=64, region_size=3, aspect_ratios=(1.0,))
    assert env.params.sides == pytest.approx((10.0, 20.0, 40.0))
    assert env.single_observation_space["regions"].shape == (3, backbone.top_channels, 3, 3)
    assert env.single_action_space["scores"].shape == (3, 4)


class _SomeEmpty(RectScenes):
    def _load(self, index):
        scene = super()._load(index)
        if index % 2 == 0:  # even scenes have no objects
            return Scene(scene.image, np.zeros((0, 4)), np.zeros(0, dtype=np.int64))
        return scene


def test_scenes_without_labels_are_skipped(backbone):
    data = _SomeEmpty(10)
    env = RARLVectorEnv(4, dataset=data, backbone=backbone, image_size=64)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        assert (info["scene_index"] % 2 == 1).all() and (info["num_labels"] >= 1).all()
    with pytest.raises(ValueError, match="no labels"):
        env.reset(options={"scene_index": 2})


def test_vgg16_conv5_3_from_a_local_file(scenes, tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    torch.manual_seed(0)  # VGG16's conv layers only, saved like a local download's features.*
    state = {f"features.{k}": v for k, v in make_layers(cfgs["D"]).state_dict().items()}
    path = tmp_path / "vgg16-local.pth"
    torch.save(state, path)
    env = RARLVectorEnv(
        1, dataset=scenes, backbone="vgg16", backbone_weights=path, image_size=64, region_size=2
    )
    assert type(env.backbone).__name__ == "VGG16Backbone"
    assert env.single_observation_space["regions"].shape == (9, 512, 2, 2)  # conv5_3: 512 maps
    assert env.unwrapped._maps.shape[-2:] == (4, 4)  # stride 16
    obs, _ = env.reset(seed=0)
    assert obs["regions"].shape == (1, 9, 512, 2, 2)


def test_envs_sharing_a_backbone_share_its_feature_cache(scenes):
    torch.manual_seed(1)
    model = SmallBackbone(4, width=4)
    a, b = (_env(scenes, model, n=3) for _ in range(2))
    assert a.features is b.features
    a.reset(seed=0, options={"scene_index": [0, 1, 2]})
    misses = a.features.misses
    b.reset(seed=0, options={"scene_index": [2, 1, 0]})
    assert a.features.misses == misses  # no scene computed twice


def test_default_image_size_is_224_for_shapes_and_512_otherwise(scenes):
    from visenv.data import load_dataset

    shapes = load_dataset("shapes", split="val", num_scenes=4)
    torch.manual_seed(0)
    model = SmallBackbone(shapes.num_classes, width=4)
    assert RARLVectorEnv(1, dataset=shapes, backbone=model).params.image_size == 224
    other = RARLVectorEnv(1, dataset=scenes, backbone=SmallBackbone(4, width=4))
    assert other.params.image_size == 512 and other.params.sides == (80.0, 160.0, 320.0)


# -- single env, torch, rendering, evaluation --------------------------------------------------
def test_single_env_matches_the_vector_env(scenes, backbone):
    single = RARLEnv(dataset=scenes, backbone=backbone, image_size=N)
    vec = _env(scenes, backbone, n=1)
    single.action_space.seed(0)
    actions = [single.action_space.sample() for _ in range(T + 1)]
    obs_s, _ = single.reset(seed=9)
    obs_v, _ = vec.reset(seed=9)
    np.testing.assert_array_equal(obs_s["regions"], obs_v["regions"][0])
    for action in actions:
        out_s = single.step(action)
        out_v = vec.step({k: v[None] for k, v in action.items()})
        np.testing.assert_array_equal(out_s[0]["regions"], out_v[0]["regions"][0])
        assert out_s[1] == out_v[1][0] and out_s[2] == out_v[2][0]


def _compare_devices(scenes, backbone, device):
    ref = _env(scenes, backbone, n=3)
    other = _env(scenes, backbone, n=3, device=device, backend="torch", output="torch")
    policy = RandomPolicy(ref.action_space, seed=0)
    a, info = ref.reset(seed=4)
    b, _ = other.reset(seed=4)
    for _ in range(T + 2):
        assert isinstance(b["regions"], torch.Tensor) and b["regions"].device.type == device
        np.testing.assert_allclose(a["regions"], b["regions"].cpu().numpy(), atol=1e-4)
        action = policy(a, info)
        a, r_a, *_, info = ref.step(action)
        b, r_b, *_ = other.step(action)
        np.testing.assert_allclose(r_a, r_b.cpu().numpy())


def test_torch_backend_on_the_cpu(scenes, backbone):
    _compare_devices(scenes, backbone, "cpu")


@CUDA
def test_cuda_matches_the_cpu(scenes, backbone):
    _compare_devices(scenes, backbone, "cuda")


def test_render_draws_the_anchors_of_each_iteration(scenes, backbone):
    env = _env(scenes, backbone, n=1, render_mode="rgb_array")
    env.reset(seed=0)
    frames = [env.render()[0]]
    for loc in ([-0.5, -0.5], [0.5, 0.5]):
        env.step(_actions(env, location=[loc]))
        frames.append(env.render()[0])
    # one 384 px panel, a three-line caption, a rule and five legend lines, whatever N is
    assert all(
        f.shape == (384 + 3 * 18 + 1 + 5 * 18, 384, 3) and f.dtype == np.uint8 for f in frames
    )
    assert not np.array_equal(frames[1], frames[2])


def test_oracle_beats_random_and_the_runner_reports_the_papers_metrics(scenes, backbone):
    env = _env(scenes, backbone, n=4)
    oracle = evaluate_rarl(env, make_policy("oracle", env))
    random = evaluate_rarl(env, make_policy("random", env, seed=0))
    assert oracle.episodes == random.episodes == len(scenes)
    assert oracle.mean_reward > 0.9 > random.mean_reward
    assert oracle.map_voc07 > random.map_voc07 and oracle.map_area > random.map_area
    assert set(oracle.prf) == {"CP", "CR", "CF1", "OP", "OR", "OF1"} and oracle.prf["OP"] == 1.0
    assert oracle.ap_voc07.shape == (4,) and "mAP" in oracle.to_markdown()


def test_backbone_policy_scores_regions_with_the_backbone_head(scenes, backbone):
    env = _env(scenes, backbone, n=2, action_format="flat")
    policy = RARLBackbonePolicy(env, seed=0)
    obs, info = env.reset(seed=0)
    obs, *_ = env.step(policy(obs, info))
    action = policy(obs, info)
    _, scores = env.action_codec.decode(action, 2)
    with torch.no_grad():
        logits = backbone.classify(torch.as_tensor(obs["regions"][1]))  # env 1's 9 regions
    np.testing.assert_allclose(scores[1], torch.sigmoid(logits).numpy(), atol=1e-6)
    report = evaluate_rarl(env, policy)
    assert 0 <= report.mean_reward <= 1 and report.episodes == len(scenes)
