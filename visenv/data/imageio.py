"""Decoding image files for the readers: one place that knows OpenCV's BGR order."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from visenv.data.scene import DatasetFormatError

__all__ = ["read_rgb"]


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image file to RGB.

    Args:
        path: Image file (anything ``cv2.imread`` reads).

    Returns:
        ndarray[H, W, 3] uint8: RGB pixels (grey images are expanded to three channels).

    Raises:
        DatasetFormatError: The file is missing or cannot be decoded.
    """
    image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    if image is None:
        what = "is missing" if not path.exists() else "cannot be decoded as an image"
        raise DatasetFormatError(f"{path} {what}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
