"""DQ-SSTN throughput: visenv's native batched env against its peers, in one process.

Compared, for each dataset and number of envs N (224x224 views, random actions):

* ``native``: ``gym.make_vec(id, N, vectorization_mode="vector_entry_point")``;
* ``sync`` / ``async``: Gymnasium's ``SyncVectorEnv`` / ``AsyncVectorEnv`` of N single envs
  (async only up to ``--async-max`` envs: every worker process loads torch);
* the bare crop kernel on a batch of N views of the same images: 1 thread, 2 Python threads,
  and OpenCV's own thread pool; and torchvision's ``roi_align`` in float32.

Writes ``benchmarks/results/throughput.json`` and ``throughput.md``::

    python benchmarks/throughput.py                 # Shapes, and VOC if VISENV_DATA has it
    python benchmarks/throughput.py --envs 1 8 64 --seconds 3
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2

from visenv.benchmarking import (
    crop_kernel_rate,
    env_rate,
    measure_datasets,
    roi_align_rate,
    save_results,
)
from visenv.data import load_dataset

RESULTS = Path(__file__).parent / "results"
DATASETS = {
    "shapes": ("VisAttn/DQSSTN-Shapes-v0", {}, {"split": "train"}),
    "voc": (
        "VisAttn/DQSSTN-VOC-v0",
        {"year": "2007", "split": "test"},
        {"year": "2007", "split": "test"},
    ),
}


def measure(name: str, envs: list[int], seconds: float, async_max: int) -> dict:
    env_id, env_kwargs, data_kwargs = DATASETS[name]
    dataset = load_dataset(name, **data_kwargs)
    images = [dataset[i % len(dataset)].image for i in range(max(envs))]
    rows = []
    for n in envs:
        row = {"num_envs": n}
        row["native"] = env_rate(env_id, n, "vector_entry_point", seconds, **env_kwargs)
        row["sync"] = env_rate(env_id, n, "sync", seconds, **env_kwargs)
        row["async"] = (
            env_rate(env_id, n, "async", seconds, **env_kwargs) if n <= async_max else None
        )
        row["kernel_1_thread"] = crop_kernel_rate(
            images[:n], num_threads=1, opencv_threads=1, seconds=seconds
        )
        row["kernel_2_threads"] = crop_kernel_rate(
            images[:n], num_threads=2, opencv_threads=1, seconds=seconds
        )
        row["kernel_opencv_pool"] = crop_kernel_rate(images[:n], num_threads=1, seconds=seconds)
        row["roi_align_float32"] = roi_align_rate(images[:n], seconds=seconds)
        print(
            name, {k: (round(v) if isinstance(v, float) else v) for k, v in row.items()}, flush=True
        )
        rows.append(row)
    return {"env_id": env_id, "env_kwargs": env_kwargs, "scenes": len(dataset), "rows": rows}


def to_markdown(results: dict) -> str:
    lines = [
        "# DQ-SSTN throughput (transitions or crops per second)",
        "",
        f"Measured {results['date']} with `python benchmarks/throughput.py` on "
        f"{results['machine']['cpu_count']} CPU cores (torch {results['machine']['torch']}, "
        f"OpenCV {results['machine']['opencv']}, gymnasium {results['machine']['gymnasium']}); "
        f"{results['seconds']} s per measurement, 224x224 views, random actions.",
    ]
    for name, block in results["datasets"].items():
        lines += ["", f"## {name}: `{block['env_id']}` {json.dumps(block['env_kwargs'])}", ""]
        header = ["N", "native", "sync", "async", "kernel 1 thr", "kernel 2 thr",
                  "kernel OpenCV pool", "roi_align f32", "native / 2-thr kernel",
                  "native / sync"]  # fmt: skip
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|---" * 10 + "|")
        for r in block["rows"]:
            best_kernel = max(r["kernel_2_threads"], r["kernel_opencv_pool"])
            keys = ["native", "sync", "async", "kernel_1_thread", "kernel_2_threads",
                    "kernel_opencv_pool", "roi_align_float32"]  # fmt: skip
            cells = [r[k] for k in keys]
            text = ["-" if c is None else f"{c:,.0f}" for c in cells]
            lines.append(
                f"| {r['num_envs']} | "
                + " | ".join(text)
                + f" | {r['native'] / best_kernel:.2f} | {r['native'] / r['sync']:.2f} |"
            )
    lines += [
        "",
        "Goals (issue 2), at N=64 on the CPU: native >= 0.8x the bare 2-thread kernel (the better",
        "of our 2-thread pool and OpenCV's own pool) and >= 1.5x the sync vector env.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--envs", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--async-max", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    results = measure_datasets(
        args.datasets,
        lambda name: measure(name, args.envs, args.seconds, args.async_max),
        seconds=args.seconds,
    )
    save_results(args.out, "throughput", results, to_markdown(results))
    threads = os.environ.get("VISENV_NUM_THREADS")
    print(f"OpenCV threads at the end: {cv2.getNumThreads()} (VISENV_NUM_THREADS={threads})")


if __name__ == "__main__":
    main()
