"""BGCut's evaluation (paper 004, sec. 3.2-3.3): localisation AP and CorLoc, before and after
the heat-map refinement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from visenv.core.metrics import corloc, localization_ap
from visenv.envs.bgcut import BGCutVectorEnv, episode_pairs

__all__ = ["BGCutReport", "evaluate_bgcut"]


@dataclass
class BGCutReport:
    """What :func:`evaluate_bgcut` measured.

    Attributes:
        episodes: (image, class) pairs evaluated, one episode each.
        corloc_before, corloc_after: CorLoc of the agent's final box and of the refined box.
        map_before, map_after: Localisation mAP at IoU >= 0.5, confidence = the class score of
            the final cut map (the paper's Table 4 columns).
        ap_before, ap_after: Per-class localisation AP ``[K]`` (NaN: class not evaluated).
        mean_steps: Steps per episode.
        mean_return: Undiscounted return per episode.
        truncated: Share of episodes cut by the time limit.
        score_dropped: Share of episodes whose final map fails the reward's test (the score
            dropped by more than delta).
    """

    episodes: int
    corloc_before: float
    corloc_after: float
    map_before: float
    map_after: float
    ap_before: np.ndarray = field(repr=False)
    ap_after: np.ndarray = field(repr=False)
    mean_steps: float = 0.0
    mean_return: float = 0.0
    truncated: float = 0.0
    score_dropped: float = 0.0

    def to_markdown(self) -> str:
        rows = [
            ("episodes ((image, class) pairs)", f"{self.episodes}"),
            ("CorLoc, agent's box", f"{self.corloc_before:.3f}"),
            ("CorLoc, refined box", f"{self.corloc_after:.3f}"),
            ("localisation mAP, agent's box", f"{self.map_before:.3f}"),
            ("localisation mAP, refined box", f"{self.map_after:.3f}"),
            ("mean steps", f"{self.mean_steps:.1f}"),
            ("mean return", f"{self.mean_return:.2f}"),
            ("score dropped / truncated", f"{self.score_dropped:.2f} / {self.truncated:.2f}"),
        ]
        return "\n".join(["| metric | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def evaluate_bgcut(
    env: BGCutVectorEnv,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    pairs: tuple[np.ndarray, np.ndarray] | None = None,
) -> BGCutReport:
    """Run ``policy`` once on each (image, class) pair and report the paper's metrics.

    Args:
        env: A BGCut native vector env with ``NextStep`` autoreset and numpy output; its
            ``num_envs`` pairs run at once.
        policy: ``policy(obs, info) -> actions`` for the batch.
        pairs: ``(scene_index [P], class_index [P])``; default every pair of ``env.dataset``
            (:func:`~visenv.envs.bgcut.episode_pairs`).
    """
    scenes, labels = episode_pairs(env.dataset) if pairs is None else map(np.asarray, pairs)
    keys = ("box", "refined_box", "score", "step", "return", "truncated", "dropped")
    rec: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    n = env.num_envs
    for start in range(0, len(labels), n):
        chunk = slice(start, start + n)
        options = {
            "scene_index": np.resize(scenes[chunk], n),
            "class_index": np.resize(labels[chunk], n),
        }
        obs, info = env.reset(options=options)
        live = np.arange(n) < len(scenes[chunk])  # padding envs repeat pairs: ignore them
        out = {k: np.zeros((n, 4)) if "box" in k else np.zeros(n) for k in keys}
        while live.any():
            obs, rewards, terminated, truncated, info = env.step(policy(obs, info))
            out["return"] += np.where(live, rewards, 0.0)
            ended = live & (terminated | truncated)
            for key in ("box", "refined_box", "score", "step"):
                out[key][ended] = info[key][ended]
            out["truncated"][ended] = truncated[ended]
            out["dropped"][ended] = (info["score_uncut"] - info["score"] > info["delta"])[ended]
            live &= ~ended
        for key in keys:
            rec[key].append(out[key][: len(scenes[chunk])])
    r = {k: np.concatenate(v) for k, v in rec.items()}
    return _report(env, scenes, labels, r)


def _report(
    env: BGCutVectorEnv, scenes: np.ndarray, labels: np.ndarray, r: dict[str, np.ndarray]
) -> BGCutReport:
    images, image_ids = np.unique(scenes, return_inverse=True)
    truth = [env.dataset.annotation(int(k)) for k in images]
    gt_boxes, gt_labels, gt_difficult = ([t[j] for t in truth] for j in range(3))
    k = env.dataset.num_classes
    ap = {}
    for key in ("box", "refined_box"):
        ap[key] = localization_ap(
            image_ids, labels, r["score"], r[key], gt_boxes, gt_labels, gt_difficult,
            num_classes=k,
        )  # fmt: skip
    return BGCutReport(
        episodes=len(labels),
        corloc_before=corloc(image_ids, labels, r["box"], gt_boxes, gt_labels),
        corloc_after=corloc(image_ids, labels, r["refined_box"], gt_boxes, gt_labels),
        map_before=ap["box"][1],
        map_after=ap["refined_box"][1],
        ap_before=ap["box"][0],
        ap_after=ap["refined_box"][0],
        mean_steps=float(r["step"].mean()),
        mean_return=float(r["return"].mean()),
        truncated=float(r["truncated"].mean()),
        score_dropped=float(r["dropped"].mean()),
    )
