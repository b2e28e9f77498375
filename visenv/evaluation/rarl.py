"""RARL evaluation (paper 003, "Evaluation metrics"): per-class AP and mAP (VOC07, Table 1) and
CP/CR/CF1/OP/OR/OF1 of the top-3 labels above a probability threshold (MS-COCO, Table 2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from visenv.core.metrics import mean_average_precision, multilabel_prf
from visenv.envs.rarl import RARLVectorEnv

__all__ = ["RARLReport", "evaluate_rarl"]


@dataclass
class RARLReport:
    """What :func:`evaluate_rarl` measured, from each episode's fused scores.

    Attributes:
        episodes: Number of scenes evaluated.
        mean_reward: Mean final reward ``|g ∩ p| / n`` (Eq. 5).
        ap_voc07: Per-class AP ``[K]``, VOC2007 11-point interpolation (NaN: class absent).
        ap_area: Per-class AP ``[K]``, area under the interpolated PR curve (VOC2010+).
        map_voc07, map_area: Their means over the classes present.
        prf: ``CP, CR, CF1, OP, OR, OF1`` of the top-``top_k`` labels scoring at least
            ``threshold`` (the paper's COCO protocol: top 3, threshold 0.1).
        top_k, threshold: The protocol used for ``prf``.
        classes: Class names, for the per-class table.
    """

    episodes: int
    mean_reward: float
    ap_voc07: np.ndarray
    ap_area: np.ndarray
    map_voc07: float
    map_area: float
    prf: dict[str, float]
    top_k: int | None
    threshold: float | None
    classes: tuple[str, ...] = field(default=())

    def to_markdown(self) -> str:
        rows = [
            ("episodes", f"{self.episodes}"),
            ("mean reward (Eq. 5)", f"{self.mean_reward:.4f}"),
            ("mAP (VOC07 11-point)", f"{self.map_voc07:.4f}"),
            ("mAP (area)", f"{self.map_area:.4f}"),
            *(
                (f"{key} (top-{self.top_k}, >= {self.threshold})", f"{value:.4f}")
                for key, value in self.prf.items()
            ),
        ]
        lines = ["| metric | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
        if self.classes:
            lines += ["", "| class | AP (VOC07) | AP (area) |", "|---|---|---|"]
            lines += [
                f"| {name} | {a:.4f} | {b:.4f} |"
                for name, a, b in zip(self.classes, self.ap_voc07, self.ap_area, strict=True)
                if not np.isnan(a)
            ]
        return "\n".join(lines)


def evaluate_rarl(
    env: RARLVectorEnv,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    indices: Sequence[int] | None = None,
    seed: int = 0,
    top_k: int | None = 3,
    threshold: float | None = 0.1,
) -> RARLReport:
    """Run ``policy`` once on each scene and report paper 003's metrics.

    Scores are the fused (category-wise max) scores of each finished episode. AP leaves out,
    per class, the scenes where that class is annotated only as "difficult" (the VOC devkit's
    0 labels); precision and recall count every annotated class, as the reward does.

    Args:
        env: A RARL native vector env with ``NextStep`` autoreset and numpy output; its
            ``num_envs`` scenes run at once (reset with ``options={"scene_index": ...}``).
        policy: ``policy(obs, info) -> actions`` for the batch, in the env's action format.
        indices: Scenes to evaluate; default every scene of ``env.dataset`` that has a label.
        seed: Seeds each chunk's reset (only the policy's own randomness can depend on it).
        top_k, threshold: The precision/recall protocol (paper: top 3, threshold 0.1).
    """
    base = env.unwrapped
    if indices is None:
        labelled = [len(base.dataset.annotation(i)[1]) > 0 for i in range(len(base.dataset))]
        indices = np.flatnonzero(labelled)
    ids = np.asarray(indices)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(ids), base.num_envs):
        chunk = ids[start : start + base.num_envs]
        episode = _run_chunk(env, policy, np.resize(chunk, base.num_envs), seed + start)
        for key, value in episode.items():
            parts.setdefault(key, []).append(value[: len(chunk)])
    r = {key: np.concatenate(value) for key, value in parts.items()}
    ap07, map07 = mean_average_precision(r["scores"], r["labels"], "voc07", ignore=r["ignore"])
    ap_area, map_area = mean_average_precision(r["scores"], r["labels"], "area", ignore=r["ignore"])
    return RARLReport(
        episodes=len(ids), mean_reward=float(r["reward"].mean()), ap_voc07=ap07,
        ap_area=ap_area, map_voc07=map07, map_area=map_area,
        prf=multilabel_prf(r["scores"], r["labels"], top_k=top_k, threshold=threshold),
        top_k=top_k, threshold=threshold, classes=tuple(base.dataset.classes),
    )  # fmt: skip


def _run_chunk(env: Any, policy: Callable, scenes: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """One episode per env on ``scenes``; the final fused scores, labels and rewards."""
    obs, info = env.reset(seed=seed, options={"scene_index": scenes})
    n = len(scenes)
    final = {
        "scores": np.zeros_like(info["fused_scores"]),
        "labels": np.array(info["labels"]),
        "ignore": np.array(info["difficult_only"]),
        "reward": np.zeros(n),
    }
    finished = np.zeros(n, dtype=bool)
    while not finished.all():
        obs, rewards, terminated, truncated, info = env.step(policy(obs, info))
        newly = (terminated | truncated) & ~finished
        final["scores"][newly] = info["fused_scores"][newly]
        final["reward"][newly] = rewards[newly]
        finished |= newly
    return final
