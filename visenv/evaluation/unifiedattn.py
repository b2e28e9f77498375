"""UnifiedAttn / RAM evaluation (paper 002, sec. 5): error rate, plus where the glimpses went."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visenv.core.glimpses import glimpse_boxes
from visenv.core.metrics import glimpse_coverage, sequence_errors
from visenv.envs.unifiedattn import UnifiedAttnVectorEnv

__all__ = ["UnifiedAttnReport", "evaluate_unifiedattn"]


@dataclass
class UnifiedAttnReport:
    """What :func:`evaluate_unifiedattn` measured.

    Attributes:
        episodes: Number of images evaluated.
        error_rate: Share of wrong predictions (SVHN: of wrong whole sequences), Tables 1-3.
        coverage: Mean share of object pixels (digit ink; SVHN digit boxes; CIFAR the whole
            image) inside the finest patch of some glimpse.
        coverage_all_scales: The same, counting every scale of every glimpse.
        mean_entropy: Mean binarised entropy (bits) of the finest patch over all glimpses.
        region_hit_rate: Share of episodes whose final top-down region holds the centre of
            the (first) object; NaN without top-down levels.
        mean_glimpses: Glimpses per episode.
    """

    episodes: int
    error_rate: float
    coverage: float
    coverage_all_scales: float
    mean_entropy: float
    region_hit_rate: float
    mean_glimpses: float

    def to_markdown(self) -> str:
        rows = [
            ("episodes", f"{self.episodes}"),
            ("error rate", f"{self.error_rate:.4f}"),
            ("object pixels under the finest patches", f"{self.coverage:.3f}"),
            ("object pixels under any scale", f"{self.coverage_all_scales:.3f}"),
            ("mean patch entropy (bits)", f"{self.mean_entropy:.3f}"),
            ("final region holds the object centre", f"{self.region_hit_rate:.3f}"),
            ("glimpses per episode", f"{self.mean_glimpses:.2f}"),
        ]
        return "\n".join(["| metric | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])


def evaluate_unifiedattn(
    env: UnifiedAttnVectorEnv,
    policy: Callable[[Any, dict[str, Any]], Any],
    *,
    indices: Sequence[int] | None = None,
    seed: int = 0,
) -> UnifiedAttnReport:
    """Run ``policy`` once on each image and report paper 002's metrics.

    Args:
        env: A UnifiedAttn native vector env with ``NextStep`` autoreset and numpy output; its
            ``num_envs`` images run at once (reset with ``options={"index": ...}``).
        policy: ``policy(obs, info) -> actions`` for the batch, in the env's
            ``action_format`` (``"dict"`` or ``"flat"``; the runner reads only observations and
            infos, so it works with either).
        indices: Pool or dataset images to evaluate; default all of ``env.images``.
        seed: Seeds each chunk's reset (clutter, first glimpses), so reports are reproducible.
    """
    base = env.unwrapped
    ids = np.arange(len(base.images)) if indices is None else np.asarray(indices)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(ids), base.num_envs):
        chunk = ids[start : start + base.num_envs]
        episode = _run_chunk(env, base, policy, np.resize(chunk, base.num_envs), seed + start)
        for key, value in episode.items():
            parts.setdefault(key, []).append(value[: len(chunk)])
    r = {key: np.concatenate(value) for key, value in parts.items()}
    return UnifiedAttnReport(
        episodes=len(ids),
        error_rate=float(sequence_errors(r["prediction"], r["target"]).mean()),
        coverage=float(np.nanmean(r["coverage"])),
        coverage_all_scales=float(np.nanmean(r["coverage_all"])),
        mean_entropy=float(r["entropy_sum"].sum() / max(r["num_glimpses"].sum(), 1)),
        region_hit_rate=float(r["hit"].mean()) if base.params.levels else float("nan"),
        mean_glimpses=float(r["num_glimpses"].mean()),
    )


def _run_chunk(
    env: Any, base: UnifiedAttnVectorEnv, policy: Callable, images: np.ndarray, seed: int
) -> dict[str, np.ndarray]:
    """One episode per env on ``images``; per-env results of the finished episodes."""
    obs, info = env.reset(seed=seed, options={"index": images})
    masks = base.object_masks().any(axis=1)  # read before the episodes end (NextStep resets)
    n = base.num_envs
    final = {k: np.array(info[k]) for k in ("prediction", "target", "locations", "region_box")}
    final["num_glimpses"] = np.array(info["num_glimpses"])
    centre = (info["object_boxes"][:, 0, :2] + info["object_boxes"][:, 0, 2:]) / 2
    entropy_sum = info["entropy"][:, 0] * (info["num_glimpses"] > 0)
    seen = np.array(info["num_glimpses"])
    finished = np.zeros(n, dtype=bool)
    while not finished.all():
        obs, _, terminated, truncated, info = env.step(policy(obs, info))
        fresh = (info["num_glimpses"] > seen) & ~finished  # a new glimpse in this step
        entropy_sum += np.where(fresh, info["entropy"][:, 0], 0.0)
        seen = np.where(finished, seen, info["num_glimpses"])
        newly = (terminated | truncated) & ~finished
        for key in final:
            final[key][newly] = info[key][newly]
        finished |= newly
    p = base.params
    boxes = glimpse_boxes(final["locations"], p.image_size, p.glimpse_size, p.num_scales)
    valid = np.arange(boxes.shape[1]) < final["num_glimpses"][:, None]  # [N, G]
    region = final["region_box"]
    hit = (region[:, :2] <= centre).all(axis=1) & (centre < region[:, 2:]).all(axis=1)
    return {
        "prediction": final["prediction"],
        "target": final["target"],
        "coverage": glimpse_coverage(masks, boxes[:, :, 0], valid),
        "coverage_all": glimpse_coverage(
            masks, boxes.reshape(n, -1, 4), np.repeat(valid, p.num_scales, axis=1)
        ),
        "entropy_sum": entropy_sum,
        "num_glimpses": final["num_glimpses"],
        "hit": hit,
    }
