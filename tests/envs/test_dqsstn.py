import numpy as np
import pytest
import torch

from agents.policies import DQSSTNOraclePolicy, RandomPolicy
from tests.envs.fakes import RectScenes
from visenv.core.boxes import box_centers, box_iou, box_sizes
from visenv.core.crop import crop_and_resize
from visenv.envs.dqsstn import (
    DQSSTNEnv,
    DQSSTNParams,
    DQSSTNVectorEnv,
    apply_zoom_translate,
    salient_targets,
    step_rewards,
)
from visenv.envs.dqsstn import (
    ZoomTranslateAction as A,
)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


class MeanColourClassifier(torch.nn.Module):
    """A deterministic 'classifier' whose logits depend on the view, for reward tests."""

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3, num_classes)
        torch.nn.init.normal_(self.proj.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, x):
        return 10 * self.proj(x.mean(dim=(2, 3)))


def _env(n=4, **kwargs):
    return DQSSTNVectorEnv(n, dataset=RectScenes(), obs_size=32, **kwargs)


def test_transitions_compose_on_the_current_view():
    params = DQSSTNParams(obs_size=(224, 224))
    view = np.array([[10.0, 20.0, 234.0, 132.0]])  # 224 x 112 window
    zoomed = apply_zoom_translate(view, np.array([A.ZOOM_IN]), params)
    np.testing.assert_allclose(box_sizes(zoomed), 0.8 * box_sizes(view))
    np.testing.assert_allclose(box_centers(zoomed), box_centers(view))
    # one translation step is translate_px observation pixels: 4/224 of the window
    for action, offset in [(A.UP, (0, -2)), (A.DOWN, (0, 2)), (A.LEFT, (-4, 0)), (A.RIGHT, (4, 0))]:
        moved = apply_zoom_translate(view, np.array([action]), params)
        np.testing.assert_allclose(moved - view, [[*offset, *offset]])
    np.testing.assert_array_equal(apply_zoom_translate(view, np.array([A.IDENTITY]), params), view)


def test_observation_is_resampled_from_the_original_image_every_step():
    env = _env(1, reward="discrete_iou")
    obs, info = env.reset(seed=0)
    image = env.dataset[int(info["scene_index"][0])].image
    for action in [A.ZOOM_IN, A.ZOOM_IN, A.LEFT, A.ZOOM_IN, A.DOWN]:
        obs, _, _, _, info = env.step(np.array([action]))
        direct = crop_and_resize([image], info["view_box"], (32, 32))
        np.testing.assert_array_equal(obs, direct)


def test_salient_targets_pick_largest_non_difficult():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 30, 30], [0, 0, 20, 20], [0, 0, 50, 50]], float)
    labels = np.array([3, 1, 2, 0])
    difficult = np.array([False, False, False, True])
    box, label, top2, any_ = salient_targets(boxes, labels, difficult, 5)
    np.testing.assert_array_equal(box, [0, 0, 30, 30])
    assert label == 1 and top2.tolist() == [1, 2]
    assert any_.tolist() == [True, True, True, True, False]
    _, label, top2, _ = salient_targets(boxes[:1], labels[:1], difficult[:1], 5)
    assert label == 3 and top2.tolist() == [3, -1]
    # when every object is difficult, the largest still counts
    _, label, _, _ = salient_targets(boxes[3:], labels[3:], difficult[3:], 5)
    assert label == 0


@pytest.mark.parametrize(
    ("reward", "expected"),
    [
        ("continuous_iou", [0.1, -0.2, 0.0]),
        ("discrete_iou", [1.0, -1.0, 0.0]),
        ("discrete_accuracy", [1.0, 0.0, -1.0]),
        ("continuous_loss", [0.5, -1.0, 0.0]),
        ("combined", [0.5 + 0.8, -1.0 - 0.8, 0.0]),
    ],
)
def test_step_rewards_follow_the_paper(reward, expected):
    prev = {"iou": np.array([0.3, 0.5, 0.4]), "loss": np.array([2.0, 1.0, 1.0]),
            "correct": np.array([False, True, True])}  # fmt: skip
    cur = {"iou": np.array([0.4, 0.3, 0.4]), "loss": np.array([1.5, 2.0, 1.0]),
           "correct": np.array([True, True, False])}  # fmt: skip
    np.testing.assert_allclose(step_rewards(DQSSTNParams(reward=reward), prev, cur), expected)


@pytest.mark.parametrize("reward", ["continuous_loss", "discrete_accuracy", "combined"])
def test_classifier_rewards_match_an_independent_recomputation(reward):
    clf = MeanColourClassifier()
    env = _env(3, reward=reward, classifier=clf)
    obs, info = env.reset(seed=1)

    def loss_and_correct(views, labels):
        x = torch.from_numpy(views).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            logits = clf(x)
        y = torch.from_numpy(labels)
        loss = torch.nn.functional.cross_entropy(logits, y, reduction="none").double().numpy()
        return loss, (logits.argmax(1) == y).numpy()

    prev_loss, prev_ok = loss_and_correct(obs, info["salient_label"])
    prev_iou = info["salient_iou"]
    rng = np.random.default_rng(0)
    for _ in range(8):
        obs, reward_t, *_, info = env.step(rng.integers(0, 6, 3))
        loss, ok = loss_and_correct(obs, info["salient_label"])
        d_iou = np.sign(np.round(info["salient_iou"] - prev_iou, 12))
        expected = {
            "continuous_loss": prev_loss - loss,
            "discrete_accuracy": ok.astype(float) - prev_ok.astype(float),
            "combined": (prev_loss - loss) + 0.8 * d_iou,
        }[reward]
        np.testing.assert_allclose(reward_t, expected, atol=1e-5)
        prev_loss, prev_ok, prev_iou = loss, ok, info["salient_iou"]


def test_horizon_and_early_stop():
    env = _env(2)
    env.reset(seed=0)
    for t in range(10):
        _, _, terminated, truncated, _ = env.step(np.array([A.ZOOM_IN, A.LEFT]))
        assert terminated.tolist() == [t == 9] * 2 and not truncated.any()
    env = _env(2, stop_on_identity=True)
    env.reset(seed=0)
    _, _, terminated, _, _ = env.step(np.array([A.IDENTITY, A.LEFT]))
    assert terminated.tolist() == [True, False]


def test_info_reports_iou_of_view_and_salient_box():
    env = _env(4)
    _, info = env.reset(seed=2)
    for _ in range(5):
        _, _, _, _, info = env.step(np.array([A.ZOOM_IN, A.UP, A.RIGHT, A.ZOOM_IN]))
        np.testing.assert_allclose(
            info["salient_iou"], box_iou(info["view_box"], info["salient_box"])
        )


def test_scene_index_option_and_its_errors():
    env = _env(2)
    _, info = env.reset(options={"scene_index": [3, 5]})
    assert info["scene_index"].tolist() == [3, 5]
    _, info = env.reset(options={"scene_index": 4})
    assert info["scene_index"].tolist() == [4, 4]
    with pytest.raises(ValueError, match="scene_index"):
        env.reset(options={"scene_index": 12})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"scene": 1})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reward": "iou"}, "reward must be one of"),
        ({"zoom_factor": 1.2}, "zoom_factor"),
        ({"obs_size": 4}, "obs_size"),
        ({"horizon": 0}, "horizon"),
        ({"output": "jax"}, "output must be one of"),
        ({"render_mode": "human"}, "render_mode"),
        ({"classifier": "resnet"}, "classifier must be a torch.nn.Module"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DQSSTNVectorEnv(2, dataset=RectScenes(), **kwargs)


def _rollout(env, actions):
    obs, info = env.reset(seed=3)
    out = [(obs, info["salient_iou"])]
    for a in actions:
        obs, r, *_, info = env.step(a)
        out.append((obs, info["salient_iou"], r))
    return out


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_torch_backend_agrees_with_opencv_backend(device):
    actions = [np.random.default_rng(k).integers(0, 6, 4) for k in range(12)]
    ref = _rollout(_env(4), actions)
    tch = _rollout(_env(4, device=device, backend="torch"), actions)
    for a, b in zip(ref, tch, strict=True):
        assert np.abs(a[0].astype(int) - b[0].astype(int)).max() <= 3  # interpolation rounding
        np.testing.assert_allclose(a[1:], b[1:], atol=1e-9)


def test_torch_output_stays_on_device():
    env = _env(2, backend="torch", output="torch")
    obs, _ = env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(torch.tensor([5, 1]))
    assert all(isinstance(x, torch.Tensor) for x in (obs, reward, terminated, info["view_box"]))
    assert obs.shape == (2, 32, 32, 3) and obs.dtype == torch.uint8


def test_single_env_shell_matches_vector_env_of_one():
    single = DQSSTNEnv(dataset=RectScenes(), obs_size=32)
    vec = _env(1)
    obs_s, _ = single.reset(seed=9)
    obs_v, _ = vec.reset(seed=9)
    np.testing.assert_array_equal(obs_s, obs_v[0])
    for a in [5, 5, 1, 3, 0]:
        obs_s, r_s, *_ = single.step(a)
        obs_v, r_v, *_ = vec.step(np.array([a]))
        np.testing.assert_array_equal(obs_s, obs_v[0])
        assert r_s == r_v[0]


def test_oracle_beats_random_on_fake_scenes():
    def final_iou(policy_factory):
        env = DQSSTNVectorEnv(12, dataset=RectScenes(), obs_size=32, autoreset_mode="Disabled")
        policy = policy_factory(env)
        obs, info = env.reset(options={"scene_index": np.arange(12)})
        for _ in range(10):
            obs, _, _, _, info = env.step(policy(obs, info))
        return info["salient_iou"].mean()

    oracle = final_iou(lambda env: DQSSTNOraclePolicy(env.params))
    random = final_iou(lambda env: RandomPolicy(env.action_space, seed=0))
    assert oracle > random + 0.15


def test_envs_share_one_dataset_instance():
    import gymnasium as gym

    sync = gym.make_vec("VisAttn/DQSSTN-Shapes-v0", 3, vectorization_mode="sync", obs_size=32)
    datasets = {id(env.unwrapped.vector_env.dataset) for env in sync.envs}
    native = gym.make_vec("VisAttn/DQSSTN-Shapes-v0", 3, vectorization_mode="vector_entry_point")
    assert datasets == {id(native.dataset)}
