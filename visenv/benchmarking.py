"""Throughput measurements shared by ``visenv bench`` and ``benchmarks/throughput.py``.

Every number is env transitions (or crops) per second of wall time on this machine, measured
after a warm-up, with the compared variants run one after the other in the same process.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cv2
import gymnasium as gym
import numpy as np
import torch

import visenv  # noqa: F401 - registers the ids
from visenv.core.crop import crop_and_resize

__all__ = [
    "crop_kernel_rate",
    "env_rate",
    "measure_datasets",
    "roi_align_rate",
    "save_results",
    "timed_rate",
]


def timed_rate(step: Callable[[], int], seconds: float, warmup: int = 3) -> float:
    """Items per second of repeated ``step()`` calls (each returns how many items it did)."""
    for _ in range(warmup):
        step()
    done, start = 0, time.perf_counter()
    while True:
        done += step()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def env_rate(
    env_id: str, num_envs: int, mode: str, seconds: float = 2.0, seed: int = 0, **kwargs: Any
) -> float:
    """Transitions per second of ``gym.make_vec(env_id, num_envs, mode)`` under random actions.

    Args:
        mode: ``"vector_entry_point"`` (visenv's native batched env), ``"sync"`` or ``"async"``
            (Gymnasium's wrappers around single envs).
    """
    vector_kwargs = {"shared_memory": True} if mode == "async" else {}
    env = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode=mode,
        **({"vector_kwargs": vector_kwargs} if vector_kwargs else {}), **kwargs,
    )  # fmt: skip
    try:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        actions = [env.action_space.sample() for _ in range(64)]
        counter = iter(range(10**12))

        def step() -> int:
            env.step(actions[next(counter) % len(actions)])
            return num_envs

        return timed_rate(step, seconds)
    finally:
        env.close()


def _view_boxes(images: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Random zoomed windows like those an agent produces (some past the border)."""
    boxes = []
    for image in images:
        h, w = image.shape[:2]
        z = 0.8 ** rng.integers(0, 8)
        x1, y1 = rng.uniform(-0.05, 1.05 - z) * w, rng.uniform(-0.05, 1.05 - z) * h
        boxes.append([x1, y1, x1 + z * w, y1 + z * h])
    return np.asarray(boxes)


def crop_kernel_rate(
    images: list[np.ndarray],
    out_size: tuple[int, int] = (224, 224),
    num_threads: int = 1,
    opencv_threads: int | None = None,
    seconds: float = 2.0,
) -> float:
    """Crops per second of the bare CPU kernel (:func:`crop_and_resize`) on ``images``.

    Args:
        num_threads: Python threads the kernel splits the batch over.
        opencv_threads: ``cv2.setNumThreads`` during the measurement (restored afterwards);
            ``None`` keeps OpenCV's current setting.
    """
    boxes = _view_boxes(images, np.random.default_rng(0))
    previous = cv2.getNumThreads()
    if opencv_threads is not None:
        cv2.setNumThreads(opencv_threads)
    try:
        return timed_rate(
            lambda: len(crop_and_resize(images, boxes, out_size, num_threads=num_threads)), seconds
        )
    finally:
        cv2.setNumThreads(previous)


def roi_align_rate(
    images: list[np.ndarray], out_size: tuple[int, int] = (224, 224), seconds: float = 2.0
) -> float:
    """Crops per second of torchvision's ``roi_align`` (float32, CPU) on the same windows."""
    from torchvision.ops import roi_align

    boxes = _view_boxes(images, np.random.default_rng(0))
    h = max(im.shape[0] for im in images)
    w = max(im.shape[1] for im in images)
    batch = torch.zeros(len(images), 3, h, w)
    for k, im in enumerate(images):
        batch[k, :, : im.shape[0], : im.shape[1]] = torch.from_numpy(im).permute(2, 0, 1)
    rois = torch.cat(
        [torch.arange(len(images))[:, None].double(), torch.from_numpy(boxes)], 1
    ).float()

    def step() -> int:
        out = roi_align(batch, rois, out_size, spatial_scale=1.0, sampling_ratio=2, aligned=True)
        out.round_().clamp_(0, 255).to(torch.uint8)
        return len(images)

    return timed_rate(step, seconds)


def machine_description() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "gymnasium": gym.__version__,
        "numpy": np.__version__,
    }


def measure_datasets(
    names: Iterable[str], measure: Callable[[str], Any], **header: Any
) -> dict[str, Any]:
    """A results record: the date, :func:`machine_description`, ``header`` and, under
    ``"datasets"``, ``measure(name)`` for each name; a dataset not on disk is skipped, with a
    line that says so."""
    from visenv.data import DatasetNotFoundError

    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(), **header}
    results["datasets"] = {}
    for name in names:
        try:
            results["datasets"][name] = measure(name)
        except DatasetNotFoundError as err:
            print(f"skipping {name}: {str(err).splitlines()[0]}")
    return results


def save_results(out: Path, stem: str, results: dict[str, Any], markdown: str) -> Path:
    """Write ``<out>/<stem>.json`` and ``<out>/<stem>.md``, print the Markdown, return its path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    path = out / f"{stem}.md"
    path.write_text(markdown)
    print(markdown)
    return path
