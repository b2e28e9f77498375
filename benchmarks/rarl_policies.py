"""RARL's scripted policies and default backbones on the evaluation splits, paper 003's metrics.

For each dataset: the default backbone's whole-image mAP (one forward pass per image, its own
multi-label head), then ``evaluate_rarl`` of three scripted policies in the env with that
backbone: ``random`` (uniform scores and locations), ``backbone`` (random locations, each
region scored by the backbone head: the paper's "random regions" ablation of Table 3) and
``oracle`` (ground-truth box centres and labels). Writes
``benchmarks/results/rarl_policies.{json,md}``::

    python benchmarks/rarl_policies.py                  # VOC07 test, COCO val2017, Shapes test
    python benchmarks/rarl_policies.py --shapes-scenes 500
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from agents.policies import RARLBackbonePolicy, make_policy
from visenv.benchmarking import measure_datasets, save_results
from visenv.core.metrics import mean_average_precision
from visenv.envs.rarl import RARLVectorEnv
from visenv.evaluation import evaluate_rarl
from visenv.models._cache import training_dataset
from visenv.models.backbone import multilabel_scores

RESULTS = Path(__file__).parent / "results"
# evaluation split of each dataset (../shared/data has COCO val2017 only: its default backbone
# then trains on the very scenes it is evaluated on, and its numbers are a training fit)
SPLITS = {
    "voc": {"year": "2007", "split": "test"},
    "coco": {"year": "2017", "split": "val"},
    "shapes": {"split": "test"},
}


def measure(name: str, num_envs: int, shapes_scenes: int) -> dict:
    env = RARLVectorEnv(num_envs, dataset=name, **SPLITS[name])
    size = env.params.image_size
    indices = np.arange(min(len(env.dataset), shapes_scenes if name == "shapes" else 10**9))
    scores, targets = multilabel_scores(env.backbone, env.dataset, image_size=size, indices=indices)
    row = {
        "scenes": len(indices),
        "image_size": size,
        "trained_on": repr(training_dataset(env.dataset)),
        "backbone_map_area": mean_average_precision(scores, targets, "area")[1],
        "backbone_map_voc07": mean_average_precision(scores, targets, "voc07")[1],
        "policies": {},
    }
    policies = {
        "random": make_policy("random", env, seed=0),
        "backbone": RARLBackbonePolicy(env, seed=0),
        "oracle": make_policy("oracle", env),
    }
    for policy_name, policy in policies.items():
        start = time.perf_counter()
        report = evaluate_rarl(env, policy, indices=indices)
        row["policies"][policy_name] = {
            "mean_reward": report.mean_reward,
            "map_voc07": report.map_voc07,
            "map_area": report.map_area,
            **report.prf,
            "seconds": time.perf_counter() - start,
        }
        print(name, policy_name, {k: round(v, 4) for k, v in row["policies"][policy_name].items()})
    return row


def to_markdown(results: dict) -> str:
    lines = [
        "# RARL: scripted policies and default backbones (paper 003's metrics)",
        "",
        f"Measured {results['date']} with `python benchmarks/rarl_policies.py` on "
        f"{results['machine']['cpu_count']} CPU cores. PRF: top-3 labels scoring >= 0.1.",
    ]
    for name, row in results["datasets"].items():
        lines += [
            "",
            f"## {name} {json.dumps(SPLITS[name])}: {row['scenes']} scenes, N = "
            f"{row['image_size']}",
            "",
            f"Default backbone trained on {row['trained_on']}: whole-image mAP "
            f"{row['backbone_map_area']:.3f} (area), {row['backbone_map_voc07']:.3f} (VOC07).",
            "",
            "| policy | reward | mAP VOC07 | mAP area | CP | CR | CF1 | OP | OR | OF1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        keys = ["mean_reward", "map_voc07", "map_area", "CP", "CR", "CF1", "OP", "OR", "OF1"]
        for policy, r in row["policies"].items():
            lines.append(f"| {policy} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=list(SPLITS))
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--shapes-scenes", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)  # small convolutions on a shared CPU (see visenv/envs/rarl.py)
    results = measure_datasets(
        args.datasets, lambda name: measure(name, args.envs, args.shapes_scenes)
    )
    save_results(args.out, "rarl_policies", results, to_markdown(results))


if __name__ == "__main__":
    main()
