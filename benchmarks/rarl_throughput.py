"""RARL throughput: env transitions per second at several image sizes N and numbers of envs.

For each N, the native vector env (``gym.make_vec(..., "vector_entry_point")``) and
Gymnasium's ``SyncVectorEnv`` of single envs step random actions; episodes are 6 steps, so
resets (and, for scenes not yet cached, backbone passes) are part of every measurement.

* ``voc``: VOC2007 trainval of ``VISENV_DATA`` (38 scenes in ../shared/data), every scene's
  map computed before the clock starts: the per-step cost (crops, checks, infos, resets);
* ``shapes``: 20,000 procedural scenes and the feature cache emptied before every
  measurement: nearly every reset runs the backbone (the cost of a large dataset).

Every N uses the default backbone trained at the dataset's registered N (512 for VOC, 224 for
Shapes), so no new default is trained. Each row is measured with torch's default intra-op
threads and again after ``torch.set_num_threads(1)``. Writes
``benchmarks/results/rarl_throughput.{json,md}``::

    python benchmarks/rarl_throughput.py --sizes 224 512 640 --envs 1 16 64
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import torch

from visenv.benchmarking import env_rate, measure_datasets, save_results
from visenv.models.shared_features import resolve_backbone, shared_feature_cache

RESULTS = Path(__file__).parent / "results"
IDS = {"voc": "VisAttn/RARL-VOC07-v0", "shapes": "VisAttn/RARL-Shapes-v0"}


def measure(name: str, sizes: list[int], envs: list[int], seconds: float, sync_max: int) -> dict:
    env_id = IDS[name]
    probe = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point")
    base = probe.unwrapped
    backbone = resolve_backbone(None, base.dataset, base.params.image_size)
    default_threads = torch.get_num_threads()
    rows = []
    for threads in (default_threads, 1):
        torch.set_num_threads(threads)
        for size in sizes:
            for n in envs:
                kwargs = {"backbone": backbone, "image_size": size}
                row = {"torch_threads": threads, "image_size": size, "num_envs": n}
                # the envs below share this cache (same backbone, dataset and size)
                cache = shared_feature_cache(backbone, base.dataset, size)
                for mode in ("native", "sync"):
                    if mode == "sync" and n > sync_max:
                        row[mode] = None
                        continue
                    if name == "shapes":  # cold: maps computed inside the measurement
                        cache.clear()
                    elif len(cache) < len(base.dataset):  # warm: before the clock starts
                        cache.get(range(len(base.dataset)))
                    vectorization = "vector_entry_point" if mode == "native" else "sync"
                    row[mode] = env_rate(env_id, n, vectorization, seconds, **kwargs)
                print(name, {k: round(v) if isinstance(v, float) else v for k, v in row.items()})
                rows.append(row)
    torch.set_num_threads(default_threads)
    return {"env_id": env_id, "backbone_size": base.params.image_size, "rows": rows}


def to_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# RARL throughput (env transitions per second)",
        "",
        f"Measured {results['date']} with `python benchmarks/rarl_throughput.py` on "
        f"{m['cpu_count']} shared CPU cores (torch {m['torch']}), {results['seconds']} s per "
        "measurement, random actions, default SmallBackbone (width 16, 128 channels), 9 regions "
        "of 7 x 7 per env. VOC: every map cached beforehand (per-step cost); Shapes: cache "
        "emptied before each measurement (a backbone pass at nearly every reset). The machine "
        "was shared with other jobs (load average 4-6 on 2 cores): differences under ~30% "
        "are noise.",
    ]
    for name, block in results["datasets"].items():
        lines += [
            "",
            f"## {name}: `{block['env_id']}` (backbone trained at {block['backbone_size']})",
            "",
            "| torch threads | N | envs | native | sync |",
            "|---|---|---|---|---|",
        ]
        for r in block["rows"]:
            sync = "-" if r["sync"] is None else f"{r['sync']:,.0f}"
            lines.append(
                f"| {r['torch_threads']} | {r['image_size']} | {r['num_envs']} | "
                f"{r['native']:,.0f} | {sync} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=list(IDS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 512, 640])
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sync-max", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = measure_datasets(
        args.datasets,
        lambda name: measure(name, args.sizes, args.envs, args.seconds, args.sync_max),
        seconds=args.seconds,
    )
    save_results(args.out, "rarl_throughput", results, to_markdown(results))


if __name__ == "__main__":
    main()
