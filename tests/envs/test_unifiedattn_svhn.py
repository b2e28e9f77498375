"""The SVHN variant (digit sequences ending with a terminal label) on format-1 files written
here: no SVHN data reaches this machine, so the registered id's generic tests skip."""

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import visenv  # noqa: F401 - registers the ids
from agents.policies import make_policy
from tests.data.test_canvases import make_digit_boxes_tree
from tests.envs.harness import assert_same
from visenv.envs.unifiedattn import Phase
from visenv.evaluation import evaluate_unifiedattn

ID = "VisAttn/UnifiedAttn-SVHN-v0"
END = 10


@pytest.fixture(scope="module")
def svhn_root(tmp_path_factory):
    return make_digit_boxes_tree(tmp_path_factory.mktemp("svhn"))


def _vec(root, n=4, **kwargs):
    return gym.make_vec(
        ID, num_envs=n, vectorization_mode="vector_entry_point", root=root, split="test", **kwargs
    )


def test_registered_svhn_env_passes_the_checkers(svhn_root):
    env = gym.make(ID, root=svhn_root, split="test", render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    assert obs["glimpse"].shape == (2, 12, 12, 3) and obs["quadrants"].shape == (4, 14, 14, 3)
    assert info["target"].shape == (6,) and env.action_space["label"].n == 11  # 10 = end
    flat = gym.make(ID, root=svhn_root, split="test", action_format="flat")
    assert flat.action_space.shape == (2 + 4 + 11,)
    assert env.render().shape[2] == 3


def test_native_equals_sync_on_svhn(svhn_root):
    native = _vec(svhn_root, 3)
    sync = gym.make_vec(ID, num_envs=3, vectorization_mode="sync", root=svhn_root, split="test")
    native.action_space.seed(1)
    actions = [native.action_space.sample() for _ in range(30)]
    runs = []
    for env in (native, sync):
        out = [env.reset(seed=11)]
        out += [env.step(a) for a in actions]
        runs.append(out)
    assert_same(*runs)


def test_labels_follow_every_third_glimpse_until_the_terminal_label(svhn_root):
    env = _vec(svhn_root, 2)
    codec = env.unwrapped.action_codec
    obs, info = env.reset(seed=0, options={"index": [0, 1]})  # "42" and "0"
    assert info["target"].tolist() == [[4, 2, END, -1, -1, -1], [0, END, -1, -1, -1, -1]]
    phases, rewards = [], []
    # read the true labels; env 1 ends after 2 labels, env 0 after 3
    script = [None, None, None, None, 0, None, None, 1, None, None, 2]
    for step, index in enumerate(script):
        phases.append(obs["phase"].tolist())
        labels = [[4, 2, END][index], [0, END, END][index]] if index is not None else None
        obs, reward, terminated, _, info = env.step(
            codec.encode(2, location=[[0.2, 0.1]] * 2, quadrant=[1, 1], label=labels)
        )
        rewards.append(reward.tolist())
        assert terminated.tolist() == [step == 10, step == 7]
    P, G, D, X = Phase.PICK, Phase.GLIMPSE, Phase.PREDICT, Phase.DONE
    assert [p[0] for p in phases] == [P, P, G, G, D, G, G, D, G, G, D]
    assert [p[1] for p in phases][:9] == [P, P, G, G, D, G, G, D, X]
    assert rewards[10][0] == 1 and rewards[7][1] == 1 and sum(map(sum, rewards)) == 2
    assert info["num_glimpses"][0] == 9  # 3 glimpses per label


def test_a_sequence_is_right_only_when_whole(svhn_root):
    env = _vec(svhn_root, 3)
    codec = env.unwrapped.action_codec
    env.reset(seed=0, options={"index": [0, 0, 0]})
    plans = [[4, END], [4, 2, 7], [END]]  # stops early, never ends, ends at once
    lengths = []
    for k, labels in enumerate(plans):
        env.reset(seed=0, options={"index": [0, 0, 0]})
        for _ in range(2):
            env.step(codec.encode(3, quadrant=[0, 0, 0]))
        said, steps = 0, 2
        while True:
            phase = env.unwrapped._phase()[k]
            label = labels[min(said, len(labels) - 1)] if phase == Phase.PREDICT else 0
            said += phase == Phase.PREDICT
            _, reward, terminated, _, info = env.step(codec.encode(3, label=[label] * 3))
            steps += 1
            if terminated[k]:
                break
        assert reward[k] == 0 and not info["correct"][k]
        lengths.append(steps)
    # 2 levels, then 3 glimpses per label: 2 labels, 6 labels (5 digits and the end), 1 label
    assert lengths == [2 + 6, 2 + 18, 2 + 3]


def test_oracle_reads_every_number_random_reads_none(svhn_root):
    env = _vec(svhn_root, 2)
    oracle = evaluate_unifiedattn(env, make_policy("oracle", env), indices=[0, 1])
    assert oracle.error_rate == 0 and oracle.region_hit_rate == 1
    assert oracle.mean_glimpses == (9 + 6) / 2
    random = evaluate_unifiedattn(env, make_policy("random", env, seed=0), indices=[0, 1] * 10)
    assert random.error_rate > 0.9


def test_oracle_glimpses_land_on_the_digit_it_reads(svhn_root):
    env = _vec(svhn_root, 1)
    policy = make_policy("oracle", env)
    obs, info = env.reset(seed=0, options={"index": 0})
    boxes = info["object_boxes"][0]  # "4" then "2", in crop pixels
    centres = []
    while True:
        reading = info["num_predicted"][0] + (obs["phase"][0] == Phase.PREDICT)
        obs, _, terminated, _, info = env.step(policy(obs, info))
        if obs["phase"][0] in (Phase.GLIMPSE, Phase.PREDICT):
            centres.append((reading, (obs["location"][0] + 1) / 2 * 54))
        if terminated[0]:
            break
    assert [digit for digit, _ in centres] == [0] * 3 + [1] * 3 + [2] * 3
    for digit, (x, y) in centres[1:6]:  # the first glimpse is random in the picked region;
        box = boxes[digit]  # the last 3 precede the terminal label: nothing left to read
        assert box[0] <= x <= box[2] and box[1] <= y <= box[3], (digit, x, y, box)
