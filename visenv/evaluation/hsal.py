"""HSAL's evaluation (sec. 5): macro-F1, exact match (0-1) and attention on saliency."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visenv.core.metrics import (
    attention_on_saliency,
    exact_match,
    macro_f1,
    overall_precision_recall,
)
from visenv.envs.hsal import HSALVectorEnv, Phase

__all__ = ["HSALReport", "evaluate_hsal"]


@dataclass
class HSALReport:
    """What :func:`evaluate_hsal` measured.

    Attributes:
        episodes: Number of images evaluated.
        macro_f1: Mean per-class F1 of the predicted multisets (see ``core.metrics.macro_f1``).
        exact_match: Share of images whose predicted multiset is exactly right (0-1).
        precision, recall: Overall precision and recall (OP, OR) over all labels.
        attention_on_saliency: The paper's ``attn_saliency``: ``S_t`` at the glimpses, averaged
            over glimpses, meta steps and images (``S_0`` is stretched to [0, 1] here, so
            values are not on the scale of the paper's ResNet activations).
        mean_return: Mean undiscounted return per episode.
        mean_meta_steps: Mean number of meta steps per episode.
        truncated: Share of episodes cut by the meta-step limit.
    """

    episodes: int
    macro_f1: float
    exact_match: float
    precision: float
    recall: float
    attention_on_saliency: float
    mean_return: float
    mean_meta_steps: float
    truncated: float

    def to_markdown(self) -> str:
        rows = [
            ("episodes", f"{self.episodes}"),
            ("macro-F1", f"{self.macro_f1:.3f}"),
            ("exact match (0-1)", f"{self.exact_match:.3f}"),
            ("overall precision / recall", f"{self.precision:.3f} / {self.recall:.3f}"),
            ("attention on saliency", f"{self.attention_on_saliency:.3f}"),
            ("mean return", f"{self.mean_return:.2f}"),
            ("mean meta steps", f"{self.mean_meta_steps:.2f}"),
            ("truncated", f"{self.truncated:.3f}"),
        ]
        return "\n".join(["| metric | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def evaluate_hsal(
    env: HSALVectorEnv,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    scene_indices: Sequence[int] | None = None,
) -> HSALReport:
    """Run ``policy`` once on each image and report the paper's metrics.

    Args:
        env: An HSAL native vector env with ``NextStep`` autoreset and numpy output; its
            ``num_envs`` images run at once.
        policy: ``policy(obs, info) -> actions`` for the batch.
        scene_indices: Images to evaluate; default every image of ``env.dataset``.
    """
    ids = np.arange(len(env.dataset)) if scene_indices is None else np.asarray(scene_indices)
    predicted, true, returns, meta_steps, cut = [], [], [], [], []
    maps, cells = [], []
    for start in range(0, len(ids), env.num_envs):
        chunk = ids[start : start + env.num_envs]
        obs, info = env.reset(options={"scene_index": np.resize(chunk, env.num_envs)})
        live = np.arange(env.num_envs) < len(chunk)  # padding envs repeat images: ignore them
        total = np.zeros(env.num_envs)
        true.append(info["true_counts"][live])
        pred = np.zeros_like(info["true_counts"])
        steps, trunc = np.zeros(env.num_envs, np.int64), np.zeros(env.num_envs, bool)
        while live.any():
            before = obs["phase"]
            obs, rewards, terminated, truncated, info = env.step(policy(obs, info))
            total += np.where(live, rewards, 0.0)
            # the k-th glimpse just taken: S_t (unchanged until the label) and the k cells
            glimpsed = live & (before == Phase.GLIMPSE) & (obs["phase"] == Phase.CLASSIFY)
            maps.append(obs["saliency"][glimpsed])
            cells.append(info["glimpse_cells"][glimpsed])
            ended = live & (terminated | truncated)
            pred[ended], steps[ended] = info["predicted_counts"][ended], info["meta_step"][ended]
            trunc[ended] = truncated[ended]
            live &= ~ended
        n = len(chunk)
        predicted.append(pred[:n])
        returns.append(total[:n])
        meta_steps.append(steps[:n])
        cut.append(trunc[:n])
    predicted_counts, true_counts = np.concatenate(predicted), np.concatenate(true)
    precision, recall = overall_precision_recall(predicted_counts, true_counts)
    return HSALReport(
        episodes=len(ids),
        macro_f1=macro_f1(predicted_counts, true_counts),
        exact_match=exact_match(predicted_counts, true_counts),
        precision=precision,
        recall=recall,
        attention_on_saliency=attention_on_saliency(np.concatenate(maps), np.concatenate(cells)),
        mean_return=float(np.concatenate(returns).mean()),
        mean_meta_steps=float(np.concatenate(meta_steps).mean()),
        truncated=float(np.concatenate(cut).mean()),
    )
