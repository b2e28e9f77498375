"""Batched crop-and-resize: sample boxes of the original images onto fixed-size grids.

Every observation in visenv (a DQ-SSTN view, a RAM glimpse, a RARL anchor region) is a box of
the *original* image or feature map resampled once to a fixed size; nothing is ever resampled
from an earlier resample, so repeated zooms do not blur or drift.

Sampling rule (both backends): output pixel ``(i, j)`` of an ``h x w`` crop of box
``(x1, y1, x2, y2)`` takes the bilinear interpolation of the source at the pixel-edge point
``(x1 + (j + 0.5) * (x2 - x1) / w, y1 + (i + 0.5) * (y2 - y1) / h)``; source pixels outside the
image read as 0. Boxes may extend past the image border.

Backends:

* :func:`crop_and_resize` - CPU, OpenCV ``warpAffine`` on ``uint8``/``float32`` HWC images,
  one affine map per box, optionally split over a thread pool (OpenCV releases the GIL).
* :func:`crop_and_resize_torch` - any torch device, one ``grid_sample`` call for the batch.

The two agree to within OpenCV's fixed-point interpolation error (1/32 pixel, +-1 grey level
on ``uint8``); ``tests/core/test_crop.py`` checks both against a slow reference loop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from visenv.core.boxes import check_boxes

__all__ = ["crop_and_resize", "crop_and_resize_torch", "default_num_threads"]

_CV2_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


def default_num_threads() -> int:
    """Threads the CPU backend uses when none are given: ``VISENV_NUM_THREADS`` or 1.

    With 1, crops run in the calling thread and OpenCV parallelises each ``warpAffine`` over
    its own pool (``cv2.setNumThreads``), which on small crops is as fast as splitting the
    batch; benchmarks/throughput.py measures both.
    """
    return int(os.environ.get("VISENV_NUM_THREADS", "1"))


@lru_cache(maxsize=8)
def _executor(num_threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=num_threads, thread_name_prefix="visenv-crop")


def _check_out_size(out_size: tuple[int, int]) -> tuple[int, int]:
    if len(out_size) != 2 or any(int(s) != s or s < 1 for s in out_size):
        raise ValueError(f"out_size must be two positive integers (height, width), got {out_size}")
    return int(out_size[0]), int(out_size[1])


def affine_matrices(boxes: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """Inverse affine maps (output pixel -> source pixel, OpenCV's centre-at-integer frame).

    Args:
        boxes (ndarray[K, 4]): Boxes in pixel-edge coordinates.
        out_size: ``(h, w)`` of the crops.

    Returns:
        ndarray[K, 2, 3] float64, one ``warpAffine(..., WARP_INVERSE_MAP)`` matrix per box.
    """
    h, w = out_size
    boxes = boxes.astype(np.float64, copy=False)
    scale = (boxes[:, 2:] - boxes[:, :2]) / (w, h)  # (sx, sy): x and y together
    mats = np.zeros((len(boxes), 2, 3))
    mats[:, 0, 0] = scale[:, 0]
    mats[:, 1, 1] = scale[:, 1]
    mats[:, :, 2] = boxes[:, :2] + 0.5 * scale - 0.5
    return mats


def crop_and_resize(
    images: Sequence[np.ndarray] | np.ndarray,
    boxes: np.ndarray,
    out_size: tuple[int, int],
    *,
    num_threads: int | None = None,
    check: bool = True,
) -> np.ndarray:
    """Crop boxes of CPU images and resize them to ``out_size`` (bilinear, zero outside).

    Args:
        images: ``B`` images, each ``[H_b, W_b]`` or ``[H_b, W_b, C]`` (``C <= 4``), ``uint8``
            or ``float32``; sizes may differ between images but dtype and channels may not.
        boxes (ndarray[B, 4] or ndarray[B, M, 4]): One box, or ``M`` boxes, per image in
            ``(x1, y1, x2, y2)`` pixel-edge coordinates of that image.
        out_size: ``(h, w)`` of every crop.
        num_threads: Python threads to split the crops over; default
            :func:`default_num_threads`.
        check: ``False`` skips the checks of the arguments, for callers whose boxes and images
            are valid by construction (an env's own geometry from checked actions, every
            step); anything invalid then fails inside OpenCV or returns garbage.

    Returns:
        ndarray[B, h, w, ...] (or ``[B, M, h, w, ...]``), the images' dtype.
    """
    boxes = np.asarray(boxes)
    first = images[0]
    if check:
        h, w = _check_input(images, boxes, out_size)
    else:
        h, w = out_size
    per_image = 1 if boxes.ndim == 2 else boxes.shape[1]
    flat = boxes.reshape(-1, 4)
    mats = affine_matrices(flat, (h, w))
    out = np.empty((len(flat), h, w, *first.shape[2:]), dtype=first.dtype)

    def work(ks: range) -> None:
        size = (w, h)
        for k in ks:  # positional arguments: OpenCV parses keywords slowly, per call
            cv2.warpAffine(
                images[k // per_image], mats[k], size, out[k], _CV2_FLAGS, cv2.BORDER_CONSTANT, 0
            )

    threads = min(num_threads or default_num_threads(), len(flat))
    if threads <= 1:
        work(range(len(flat)))
    else:
        chunks = [range(t, len(flat), threads) for t in range(threads)]
        list(_executor(threads).map(work, chunks))
    return out.reshape(boxes.shape[:-1] + out.shape[1:])


def _check_input(
    images: Sequence[np.ndarray] | np.ndarray, boxes: np.ndarray, out_size: tuple[int, int]
) -> tuple[int, int]:
    """:func:`crop_and_resize`'s argument checks; returns ``(h, w)``."""
    h, w = _check_out_size(out_size)
    if boxes.ndim not in (2, 3):
        raise ValueError(f"boxes must have shape [B, 4] or [B, M, 4], got {boxes.shape}")
    check_boxes(boxes)
    if len(images) != boxes.shape[0]:
        raise ValueError(f"got {len(images)} images but boxes for {boxes.shape[0]}")
    first = images[0]
    if any(im.dtype != first.dtype or im.shape[2:] != first.shape[2:] for im in images):
        raise ValueError("all images must share dtype and channel count")
    if first.ndim == 3 and first.shape[2] > 4:
        raise ValueError(
            f"the OpenCV backend takes at most 4 channels, got {first.shape[2]}; "
            "use crop_and_resize_torch for feature maps"
        )
    return h, w


def crop_and_resize_torch(
    images: torch.Tensor, boxes: torch.Tensor, out_size: tuple[int, int]
) -> torch.Tensor:
    """Crop boxes of a batch of images or feature maps and resize them (bilinear, zero outside).

    Images of different sizes are batched by zero-padding them at the bottom and right into
    one ``[B, C, H, W]`` tensor: box coordinates refer to each image's own top-left origin, and
    the padding reads as the zero border, so no per-image size is needed.

    Args:
        images (Tensor[B, C, H, W]): Floating point, or ``uint8`` (converted to float32 and
            rounded back, which costs one full-batch conversion per call).
        boxes (Tensor[B, 4] or Tensor[B, M, 4]): Boxes ``(x1, y1, x2, y2)`` per image, in
            pixel-edge coordinates (feature-map cells for feature maps).
        out_size: ``(h, w)`` of every crop.

    Returns:
        Tensor[B, C, h, w] (or ``[B, M, C, h, w]``), the images' dtype and device.
    """
    h, w = _check_out_size(out_size)
    if images.ndim != 4:
        raise ValueError(f"images must have shape [B, C, H, W], got {tuple(images.shape)}")
    if boxes.ndim not in (2, 3) or boxes.shape[0] != images.shape[0]:
        raise ValueError(
            f"boxes must have shape [B, 4] or [B, M, 4] with B={images.shape[0]}, "
            f"got {tuple(boxes.shape)}"
        )
    check_boxes(boxes)
    single = boxes.ndim == 2
    b, c, height, width = images.shape
    src = images if images.is_floating_point() else images.float()
    bx = (boxes[:, None, :] if single else boxes).to(device=src.device, dtype=src.dtype)
    m = bx.shape[1]

    steps_x = (torch.arange(w, device=src.device, dtype=src.dtype) + 0.5) / w
    steps_y = (torch.arange(h, device=src.device, dtype=src.dtype) + 0.5) / h
    x = bx[..., 0:1] + steps_x * (bx[..., 2:3] - bx[..., 0:1])  # [B, M, w]
    y = bx[..., 1:2] + steps_y * (bx[..., 3:4] - bx[..., 1:2])  # [B, M, h]
    gx = (2 * x / width - 1)[:, :, None, :].expand(b, m, h, w)
    gy = (2 * y / height - 1)[:, :, :, None].expand(b, m, h, w)
    grid = torch.stack([gx, gy], dim=-1).reshape(b, m * h, w, 2)
    crops = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    crops = crops.reshape(b, c, m, h, w).permute(0, 2, 1, 3, 4)
    if not images.is_floating_point():
        crops = crops.round_().clamp_(0, 255).to(images.dtype)
    return crops[:, 0] if single else crops
