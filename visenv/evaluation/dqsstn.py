"""DQ-SSTN's evaluation (sec. 4.2): accuracies on final views, IoU gain by initial-IoU bin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from visenv.core.metrics import iou_bins, salient_correct
from visenv.envs.dqsstn import DQSSTNVectorEnv

__all__ = ["DQSSTNReport", "classify_views", "evaluate_dqsstn"]

SMALL_OBJECT_IOU = 0.2  # "objects that cover less than 20 percent of the image area"


@dataclass
class DQSSTNReport:
    """What :func:`evaluate_dqsstn` measured.

    Attributes:
        episodes: Number of scenes evaluated.
        iou_before, iou_after: Mean salient IoU of the first and the final view.
        accuracy_before, accuracy_after: ``top1/top2/any`` of the classifier on the first and
            final views (empty without a classifier).
        small_objects: The same numbers for salient objects under 20% of the image.
        bins: :func:`visenv.core.metrics.iou_bins` rows (five initial-IoU bins).
    """

    episodes: int
    iou_before: float
    iou_after: float
    accuracy_before: dict[str, float] = field(default_factory=dict)
    accuracy_after: dict[str, float] = field(default_factory=dict)
    small_objects: dict[str, float] = field(default_factory=dict)
    bins: list[dict[str, float]] = field(default_factory=list)

    def to_markdown(self) -> str:
        lines = [
            f"episodes: {self.episodes}; salient IoU {self.iou_before:.3f} -> {self.iou_after:.3f}",
        ]
        if self.accuracy_before:
            lines.append("")
            lines.append("| accuracy | before | after |")
            lines.append("|---|---|---|")
            for key in ("top1", "top2", "any"):
                before, after = self.accuracy_before[key], self.accuracy_after[key]
                lines.append(f"| {key} | {before:.3f} | {after:.3f} |")
        lines += ["", "| initial IoU | n | IoU before | IoU after | acc before | acc after |"]
        lines.append("|---|---|---|---|---|---|")
        for row in self.bins:
            acc = [row.get("acc_before", float("nan")), row.get("acc_after", float("nan"))]
            lines.append(
                f"| {row['low']:.1f}-{row['high']:.1f} | {row['count']} | {row['iou_before']:.3f} "
                f"| {row['iou_after']:.3f} | {acc[0]:.3f} | {acc[1]:.3f} |"
            )
        return "\n".join(lines)


def classify_views(classifier: torch.nn.Module, views: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predicted class of each view ``uint8 [N, H, W, 3]`` -> ``int64 [N]``."""
    device = next(classifier.parameters()).device
    preds = []
    with torch.no_grad():
        for start in range(0, len(views), batch):
            x = torch.as_tensor(views[start : start + batch], device=device)
            x = x.permute(0, 3, 1, 2).float().div_(255)
            preds.append(classifier(x).argmax(1).cpu().numpy())
    return np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)


def evaluate_dqsstn(
    env: DQSSTNVectorEnv,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    classifier: torch.nn.Module | None = None,
    scene_indices: Sequence[int] | None = None,
) -> DQSSTNReport:
    """Run ``policy`` on each scene once and report the paper's metrics.

    Args:
        env: A DQ-SSTN native vector env with ``NextStep`` autoreset and numpy output; its
            ``num_envs`` scenes run at once.
        policy: ``policy(obs, info) -> actions`` for the batch.
        classifier: Classifies first and final views; default ``env.classifier``; without
            one the report has no accuracies.
        scene_indices: Scenes to evaluate; default every scene of ``env.dataset``.
    """
    classifier = classifier if classifier is not None else env.classifier
    ids = np.arange(len(env.dataset)) if scene_indices is None else np.asarray(scene_indices)
    rec: dict[str, list[np.ndarray]] = {
        k: [] for k in ("iou0", "iou1", "first", "final", "sal", "top2", "any")
    }
    for start in range(0, len(ids), env.num_envs):
        chunk = ids[start : start + env.num_envs]
        obs, info = env.reset(options={"scene_index": np.resize(chunk, env.num_envs)})
        first, iou0 = obs.copy(), info["salient_iou"].copy()
        final, iou1 = obs.copy(), iou0.copy()
        finished = np.zeros(env.num_envs, dtype=bool)
        while not finished.all():
            obs, _, terminated, truncated, info = env.step(policy(obs, info))
            newly = (terminated | truncated) & ~finished
            final[newly], iou1[newly] = obs[newly], info["salient_iou"][newly]
            finished |= newly
        n = len(chunk)
        rec["iou0"].append(iou0[:n])
        rec["iou1"].append(iou1[:n])
        rec["first"].append(first[:n])
        rec["final"].append(final[:n])
        rec["sal"].append(info["salient_label"][:n])
        rec["top2"].append(info["labels_top2"][:n])
        rec["any"].append(info["labels_any"][:n])
    return _report({k: np.concatenate(v) for k, v in rec.items()}, classifier)


def _report(r: dict[str, np.ndarray], classifier: torch.nn.Module | None) -> DQSSTNReport:
    report = DQSSTNReport(len(r["iou0"]), float(r["iou0"].mean()), float(r["iou1"].mean()))
    small = r["iou0"] < SMALL_OBJECT_IOU
    report.small_objects = {
        "count": int(small.sum()),
        "iou_before": float(r["iou0"][small].mean()) if small.any() else float("nan"),
        "iou_after": float(r["iou1"][small].mean()) if small.any() else float("nan"),
    }
    before = after = None
    if classifier is not None:
        before = salient_correct(
            classify_views(classifier, r["first"]), r["sal"], r["top2"], r["any"]
        )
        after = salient_correct(
            classify_views(classifier, r["final"]), r["sal"], r["top2"], r["any"]
        )
        report.accuracy_before = {k: float(v.mean()) for k, v in before.items()}
        report.accuracy_after = {k: float(v.mean()) for k, v in after.items()}
        if small.any():
            report.small_objects["acc_before"] = float(before["top1"][small].mean())
            report.small_objects["acc_after"] = float(after["top1"][small].mean())
    report.bins = iou_bins(
        r["iou0"], r["iou1"],
        None if before is None else before["top1"], None if after is None else after["top1"],
    )  # fmt: skip
    return report
