"""Batched kernels shared by every visenv environment (no gymnasium import here).

Conventions (stated once, used everywhere in visenv):

* **Images** are RGB. On the CPU they are ``uint8`` arrays of shape ``[H, W, 3]`` (OpenCV's
  layout); on a torch device they are tensors of shape ``[B, C, H, W]`` (torch's layout).
* **Boxes** are ``(x1, y1, x2, y2)`` floats in *pixel-edge* coordinates of the original image:
  pixel ``(row i, column j)`` covers ``[j, j + 1) x [i, i + 1)`` and its centre is
  ``(j + 0.5, i + 0.5)``. The whole ``W x H`` image is the box ``(0, 0, W, H)``; a box's width
  is ``x2 - x1`` (no ``+ 1``). This is torchvision's ``roi_align(..., aligned=True)``
  convention. PASCAL VOC's 1-based inclusive ``(xmin, ymin, xmax, ymax)`` becomes
  ``(xmin - 1, ymin - 1, xmax, ymax)``; COCO's ``[x, y, w, h]`` becomes ``(x, y, x + w, y + h)``.
* **Normalised locations** live in ``[-1, 1]^2``: ``(-1, -1)`` is the top-left image corner,
  ``(0, 0)`` the centre, ``(1, 1)`` the bottom-right corner (``grid_sample`` with
  ``align_corners=False``). ``x_pixel = (u + 1) / 2 * W``.
* **Feature maps** of size ``h x w`` computed from an ``H x W`` image share the image's frame:
  a box maps to feature coordinates by multiplying x by ``w / W`` and y by ``h / H``.
* **Batches** lead: every kernel takes ``[B, ...]`` arrays for all environments at once, and
  the box functions accept numpy arrays or torch tensors alike.
"""

from visenv.core.boxes import (
    box_area,
    box_iou,
    clip_boxes,
    normalized_to_pixel,
    pairwise_box_iou,
    pixel_to_normalized,
    translate_boxes,
    zoom_boxes,
)
from visenv.core.crop import crop_and_resize, crop_and_resize_torch

__all__ = [
    "box_area",
    "box_iou",
    "clip_boxes",
    "crop_and_resize",
    "crop_and_resize_torch",
    "normalized_to_pixel",
    "pairwise_box_iou",
    "pixel_to_normalized",
    "translate_boxes",
    "zoom_boxes",
]
