"""``visenv demo``: the main job on the embedded default, start to finish on a CPU.

Trains SB3's DQN on ``VisAttn/DQSSTN-Shapes-v0`` through the native batched env, then
evaluates random, trained and oracle policies on held-out test scenes with DQ-SSTN's metrics
(salient IoU and the view classifier's Top-1 before and after the episode), and writes a GIF
of the trained agent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.dqn import DQNConfig, train_dqn
from agents.policies import DQSSTNOraclePolicy, RandomPolicy
from visenv.envs.dqsstn import DQSSTNVectorEnv
from visenv.evaluation import DQSSTNReport, evaluate_dqsstn
from visenv.models.classifier import default_view_classifier
from visenv.render import save_gif

__all__ = ["run_demo"]

OBS_SIZE = 84


def _row(name: str, report: DQSSTNReport) -> str:
    acc0, acc1 = report.accuracy_before["top1"], report.accuracy_after["top1"]
    small = report.small_objects
    return (
        f"| {name} | {report.iou_before:.3f} -> {report.iou_after:.3f} | {acc0:.3f} -> {acc1:.3f} "
        f"| {small['iou_before']:.3f} -> {small['iou_after']:.3f} |"
    )


def _write_gif(policy: Any, path: Path, seed: int) -> Path:
    env = DQSSTNVectorEnv(
        1, dataset="shapes", split="test", obs_size=OBS_SIZE, render_mode="rgb_array"
    )
    frames = []
    for episode in range(3):
        obs, info = env.reset(seed=seed + episode)
        frames.append(env.render()[0])
        for _ in range(env.params.horizon):
            obs, *_, info = env.step(policy(obs, info))
            frames.append(env.render()[0])
    return save_gif(frames, path, fps=3)


def run_demo(
    steps: int, n_envs: int, seed: int, gif: Path, episodes: int = 256
) -> dict[str, DQSSTNReport]:
    """Train, evaluate, print the table and write the GIF; returns the reports by policy."""
    print(
        f"visenv demo: DQN on VisAttn/DQSSTN-Shapes-v0 ({n_envs} envs, {steps} steps, "
        f"{OBS_SIZE} px views)"
    )
    eval_env = DQSSTNVectorEnv(32, dataset="shapes", split="test", obs_size=OBS_SIZE)
    classifier = default_view_classifier(eval_env.dataset)
    scenes = np.arange(min(episodes, len(eval_env.dataset)))

    def evaluate(policy: Any) -> DQSSTNReport:
        return evaluate_dqsstn(eval_env, policy, classifier=classifier, scene_indices=scenes)

    reports = {"random": evaluate(RandomPolicy(eval_env.action_space, seed))}
    start = time.perf_counter()
    model = train_dqn(DQNConfig(total_timesteps=steps, n_envs=n_envs, seed=seed), progress=True)
    trained_in = time.perf_counter() - start
    dqn = lambda obs, info: model.predict(obs, deterministic=True)[0]  # noqa: E731
    reports["DQN (trained)"] = evaluate(dqn)
    reports["oracle"] = evaluate(DQSSTNOraclePolicy(eval_env.params))

    print(
        f"\ntrained in {trained_in:.0f} s; {len(scenes)} held-out test scenes, "
        "first view -> final view:\n"
    )
    print("| policy | salient IoU | classifier Top-1 | IoU, objects < 20% of image |")
    print("|---|---|---|---|")
    for name, report in reports.items():
        print(_row(name, report))
    print("\nDQN (trained) by initial-IoU bin:\n")
    print(reports["DQN (trained)"].to_markdown())
    path = _write_gif(dqn, gif, seed)
    print(f"\nwrote {path} (left: image with salient box in red and view in yellow; right: view)")
    return reports
