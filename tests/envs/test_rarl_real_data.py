"""RARL on the real photos in ../shared/data (skips with a reason where absent).

The oracle and random policies need no trained backbone, so these tests give the env a tiny
untrained one at the paper's N = 512: they check the reward and the anchor geometry on real
label sets (VOC: 1-4 labels per image, COCO: up to 11), not the features.
"""

import numpy as np
import pytest
import torch

from agents.policies import make_policy
from visenv.envs.rarl import RARLVectorEnv
from visenv.evaluation import evaluate_rarl
from visenv.models.backbone import SmallBackbone

SPLITS = {"voc": {"year": "2007", "split": "test"}, "coco": {"split": "val"}}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny backbone on one thread: on a busy shared CPU, a second thread per small
    convolution costs more than it saves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _env(request, name: str) -> RARLVectorEnv:
    root = request.getfixturevalue(f"{name}_root")
    torch.manual_seed(0)
    num_classes = 20 if name == "voc" else 80
    tiny = SmallBackbone(num_classes, width=4, image_size=512)
    return RARLVectorEnv(13, dataset=name, root=root, backbone=tiny, **SPLITS[name])


@pytest.mark.parametrize("name", ["voc", "coco"])
def test_oracle_reward_is_near_one_and_well_above_random(request, name):
    env = _env(request, name)
    oracle = evaluate_rarl(env, make_policy("oracle", env))
    assert oracle.episodes == len(env.dataset)
    assert oracle.mean_reward >= 0.95, oracle.mean_reward
    for seed in range(2):
        random = evaluate_rarl(env, make_policy("random", env, seed=seed))
        assert oracle.mean_reward >= random.mean_reward + 0.6, random.mean_reward
        assert oracle.map_voc07 >= random.map_voc07 + 0.3
        assert oracle.map_area >= random.map_area + 0.3
        assert oracle.prf["OF1"] >= random.prf["OF1"] + 0.3
    assert oracle.prf["OP"] == 1.0  # it only ever scores labels the scene has


def test_oracle_looks_at_object_centres(request):
    env = _env(request, "coco")
    policy = make_policy("oracle", env)
    obs, info = env.reset(seed=0)
    for _ in range(env.params.num_iterations):
        obs, _, _, _, info = env.step(policy(obs, info))
    size = env.params.image_size
    for (boxes, _), locations in zip(env.object_boxes(), info["locations"], strict=True):
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2 / size * 2 - 1  # [-1, 1]^2
        distance = np.abs(locations[:, None, :] - centres[None]).max(axis=-1)  # [T, M]
        np.testing.assert_allclose(distance.min(axis=1), 0.0, atol=1e-6)
