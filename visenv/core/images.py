"""The original image of every sub-environment, resident where the step runs."""

from __future__ import annotations

import numpy as np
import torch

from visenv.core.crop import crop_and_resize, crop_and_resize_torch, default_num_threads

__all__ = ["BACKENDS", "ImageBatch", "resolve_backend"]

BACKENDS = ("numpy", "torch")


def resolve_backend(backend: str | None, device: torch.device) -> str:
    """The compute path of an env or kernel holder, by name.

    ``"numpy"``: numpy arrays with OpenCV kernels, CPU only, the CPU default. ``"torch"``:
    tensor ops on ``device``, the default off the CPU (on the CPU it runs the GPU code path,
    for tests).
    """
    backend = backend or ("numpy" if device.type == "cpu" else "torch")
    if backend not in BACKENDS or (backend == "numpy" and device.type != "cpu"):
        raise ValueError(
            f"backend must be one of {BACKENDS} ('numpy' on the CPU only), got {backend!r} "
            f"on {device}"
        )
    return backend


class ImageBatch:
    """Holds one original image per env and samples boxes of them into fixed-size crops.

    On the CPU the images are the dataset's own arrays (no copy) and crops use OpenCV. On a
    torch device they live in one zero-padded ``uint8`` tensor ``[N, C, H_max, W_max]`` that
    grows when a larger image arrives; crops use one ``grid_sample`` call for the batch.

    Args:
        num_envs: Number of images held.
        device: ``"cpu"`` for the numpy (OpenCV) backend, or a torch device for the torch
            backend.
        backend: ``"numpy"`` or ``"torch"`` (:func:`resolve_backend`); default: numpy on the
            CPU, torch elsewhere. (``backend="torch"`` on the CPU runs the CUDA code path on
            the CPU, for tests.)
    """

    def __init__(
        self, num_envs: int, device: str | torch.device = "cpu", backend: str | None = None
    ) -> None:
        self.device = torch.device(device)
        self.backend = resolve_backend(backend, self.device)
        self.num_envs = num_envs
        self.num_threads = default_num_threads()  # read once: crops run every env step
        self.arrays: list[np.ndarray | None] = [None] * num_envs
        self._tensor: torch.Tensor | None = None

    def set(self, env_id: int, image: np.ndarray) -> None:
        """Make ``image`` (``[H, W]`` or ``[H, W, C]``) the original image of ``env_id``."""
        self.arrays[env_id] = image
        if self.backend == "numpy":
            return
        chw = torch.from_numpy(np.ascontiguousarray(image))
        chw = chw[None] if chw.ndim == 2 else chw.permute(2, 0, 1)
        c, h, w = chw.shape
        t = self._tensor
        if t is None or t.shape[1] != c or t.dtype != chw.dtype:
            t = torch.zeros((self.num_envs, c, h, w), dtype=chw.dtype, device=self.device)
        elif t.shape[2] < h or t.shape[3] < w:
            # a larger image arrived: grow the padded batch, keeping the others in place
            size = (self.num_envs, c, max(h, t.shape[2]), max(w, t.shape[3]))
            grown = torch.zeros(size, dtype=t.dtype, device=self.device)
            grown[:, :, : t.shape[2], : t.shape[3]] = t
            t = grown
        self._tensor = t
        t[env_id].zero_()
        t[env_id, :, :h, :w] = chw.to(self.device, non_blocking=True)

    def set_many(self, env_ids: np.ndarray, images: np.ndarray) -> None:
        """Make ``images[k]`` the original image of ``env_ids[k]``; equally sized images
        ``[K, H, W]`` or ``[K, H, W, C]`` (generated canvases) go to the device in one copy."""
        if self.backend == "numpy" or self._tensor is None:
            for env_id, image in zip(env_ids, images, strict=True):
                self.set(int(env_id), image)
            return
        batch = torch.from_numpy(np.ascontiguousarray(images))
        batch = batch[:, None] if batch.ndim == 3 else batch.permute(0, 3, 1, 2)
        t = self._tensor
        if t.shape[1:] != batch.shape[1:] or t.dtype != batch.dtype:
            for env_id, image in zip(env_ids, images, strict=True):
                self.set(int(env_id), image)
            return
        for env_id, image in zip(env_ids, images, strict=True):
            self.arrays[int(env_id)] = image
        t[torch.as_tensor(env_ids, device=self.device)] = batch.to(self.device, non_blocking=True)

    def crop(
        self,
        boxes: np.ndarray | torch.Tensor,
        out_size: tuple[int, int],
        env_ids: np.ndarray | None = None,
        *,
        check: bool = True,
    ) -> np.ndarray | torch.Tensor:
        """Crops of the envs' images, channels last: ``[K, h, w(, C)]`` or ``[K, M, h, w(, C)]``.

        Args:
            boxes: ``[K, 4]`` or ``[K, M, 4]`` boxes (numpy for OpenCV, tensor for torch).
            out_size: ``(h, w)``.
            env_ids: The ``K`` envs to crop from; default all ``N`` in order.
            check: ``False`` skips the OpenCV backend's argument checks (boxes valid by
                construction; see :func:`~visenv.core.crop.crop_and_resize`).
        """
        if self.backend == "numpy":
            images = self.arrays if env_ids is None else [self.arrays[i] for i in env_ids]
            return crop_and_resize(
                images, np.asarray(boxes), out_size, num_threads=self.num_threads, check=check
            )
        assert self._tensor is not None, "set() every image before cropping"
        source = self._tensor
        if env_ids is not None:
            source = source[torch.as_tensor(env_ids, device=self.device)]
        crops = crop_and_resize_torch(source, torch.as_tensor(boxes, device=self.device), out_size)
        crops = crops.movedim(-3, -1)  # [..., C, h, w] -> [..., h, w, C]
        if self.arrays[0] is not None and self.arrays[0].ndim == 2:
            crops = crops[..., 0]
        return crops.contiguous()
