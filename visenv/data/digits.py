"""Small labelled images held in memory: MNIST (IDX files), CIFAR-10, and rendered digits.

These pools feed the digit and small-image environments (HSAL, paper 001; UnifiedAttn/RAM,
paper 002), which build canvases, clutter and multisets from them. Unlike the scene readers,
a pool is small enough (MNIST: 47 MB, CIFAR-10: 180 MB) to load whole into one
:class:`LabelledImages` of stacked arrays, which is what batched canvas builders want.

* :func:`mnist_digits` reads the IDX files (gzip or raw). Train and test *pools* never share
  a digit; with only the official test files present, the test file is split in two (see the
  function's docstring).
* :func:`cifar10` reads the original python batches or ``<split>_jpeg/<class>/`` folders.
* :func:`rendered_digits` draws MNIST-like digits with OpenCV's Hershey fonts: the embedded
  default, needing no download (see :mod:`visenv.data.rendered_digits`).
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visenv.data.digit_rendering import render_digits
from visenv.data.imageio import read_rgb
from visenv.data.paths import require_path, resolve_root
from visenv.data.scene import DatasetFormatError

__all__ = [
    "CIFAR10_CLASSES",
    "DIGIT_CLASSES",
    "MNIST_FALLBACK_TRAIN_SIZE",
    "LabelledImages",
    "cifar10",
    "mnist_digits",
    "read_cifar_batch",
    "read_idx",
    "rendered_digits",
]

logger = logging.getLogger(__name__)

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
POOLS: tuple[str, ...] = ("train", "test")

MNIST_URL = "http://yann.lecun.com/exdb/mnist/ (or any mirror of the four IDX files)"
MNIST_LAYOUT = (
    "<root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (the IDX files as downloaded; "
    "the t10k pair alone is enough, see mnist_digits)"
)
# With only the t10k files, the first this many test digits form the train pool. The rest
# (2000 of the 8000 in ../shared/data, 4000 of the official 10000) form the test pool.
MNIST_FALLBACK_TRAIN_SIZE = 6000

_IDX_UINT8 = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """A pool of equally sized labelled images, stacked.

    The arrays are read-only views, so a pool can be shared by many environments safely.

    Attributes:
        images (ndarray[N, H, W] or ndarray[N, H, W, 3] uint8): Grey or RGB pixels.
        labels (ndarray[N] int64): Class index of each image into ``classes``.
        classes: Class names.
        name: Short name for messages, e.g. ``"mnist-train"``.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str = "images"

    def __post_init__(self) -> None:
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        rgb = images.ndim == 4 and images.shape[3] == 3
        if images.dtype != np.uint8 or not (images.ndim == 3 or rgb):
            raise ValueError(
                f"{self.name}: images must be uint8 [N, H, W] or [N, H, W, 3], "
                f"got {images.dtype} {images.shape}"
            )
        if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"{self.name}: labels must be integers of shape [{len(images)}], "
                f"got {labels.dtype} {labels.shape}"
            )
        if labels.size and not 0 <= labels.min() <= labels.max() < len(self.classes):
            raise ValueError(
                f"{self.name}: labels must index classes (0..{len(self.classes) - 1}), got "
                f"values in [{labels.min()}, {labels.max()}]"
            )
        # Views, so freezing them never changes the caller's own arrays.
        images, labels = images.view(), labels.astype(np.int64, copy=False).view()
        images.flags.writeable = labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "classes", tuple(self.classes))

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray | list[int] | slice) -> LabelledImages:
        """The images at ``indices`` (int array, boolean mask of length N, or slice)."""
        return LabelledImages(self.images[indices], self.labels[indices], self.classes, self.name)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape[1:])
        return f"LabelledImages(name={self.name!r}, images={len(self)}, shape={shape})"


def _read_maybe_gzip(path: Path) -> bytes:
    """The bytes of ``path``, gunzipped when it starts with the gzip magic."""
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetFormatError(f"{path}: corrupt or truncated gzip stream: {err}") from err


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (the MNIST format), gzip-compressed or raw.

    The format is a magic number ``(0, 0, type, ndim)``, ``ndim`` big-endian uint32 sizes,
    then the data in C order. Only ``type = 0x08`` (unsigned byte), which is what MNIST uses,
    is read.

    Args:
        path: The ``*-ubyte`` or ``*-ubyte.gz`` file.

    Returns:
        ndarray[d1, ..., d_ndim] uint8: e.g. ``[N, 28, 28]`` images or ``[N]`` labels.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetFormatError: Bad magic, unsupported type code, or fewer or more data bytes
            than the header announces (a truncated file).
    """
    path = Path(path)
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise DatasetFormatError(
            f"{path}: not an IDX file (magic {data[:4].hex(' ')!r}, expected 00 00 08 <ndim>)"
        )
    type_code, ndim = data[2], data[3]
    if type_code != _IDX_UINT8:
        raise DatasetFormatError(
            f"{path}: IDX type code 0x{type_code:02x} is not supported; visenv reads unsigned "
            f"byte data (0x08), as in MNIST"
        )
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(data) < header_size:
        raise DatasetFormatError(f"{path}: IDX header for {ndim} dimensions is incomplete")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    if len(data) - header_size != expected:
        raise DatasetFormatError(
            f"{path}: IDX header announces shape {shape} ({expected} bytes of data) but the "
            f"file holds {len(data) - header_size} (truncated or not an IDX file)"
        )
    return np.frombuffer(data, np.uint8, offset=header_size).reshape(shape)


def _find_idx(root: Path, stem: str) -> Path | None:
    """``root/stem`` or ``root/stem.gz``, whichever exists (raw first), else None."""
    for name in (stem, f"{stem}.gz"):
        if (root / name).is_file():
            return root / name
    return None


def _read_mnist_pair(root: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 28, 28]`` and labels ``[N]`` of ``<prefix>-images/labels`` IDX files."""
    arrays = []
    for kind, ndim in (("images-idx3", 3), ("labels-idx1", 1)):
        stem = f"{prefix}-{kind}-ubyte"
        path = _find_idx(root, stem) or require_path(
            root / f"{stem}.gz", f"MNIST {prefix} {kind[:6]}", MNIST_LAYOUT, MNIST_URL
        )
        array = read_idx(path)
        if array.ndim != ndim:
            raise DatasetFormatError(f"{path}: expected {ndim} dimensions, got {array.shape}")
        arrays.append(array)
    images, labels = arrays
    if len(images) != len(labels) or (labels.size and labels.max() > 9):
        raise DatasetFormatError(
            f"{root}: {prefix} files disagree: {len(images)} images, {len(labels)} labels "
            f"with values up to {labels.max() if labels.size else None} (expected 0..9)"
        )
    return images, labels


def _check_pool(pool: str) -> None:
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; expected one of {POOLS}")


def mnist_digits(root: str | os.PathLike[str] | None = None, pool: str = "train") -> LabelledImages:
    """MNIST digits as a train or test pool, read from the IDX files.

    With the official train files (``train-images-idx3-ubyte[.gz]``) in ``root``, pool
    ``"train"`` is the official train set and ``"test"`` the official test set (``t10k``).
    **Without them** (as in ``../shared/data/mnist``, which holds only the first 8000 t10k
    digits), both pools come from the t10k files: ``"train"`` is the first
    :data:`MNIST_FALLBACK_TRAIN_SIZE` (6000) digits and ``"test"`` the rest (2000 there), and a
    warning is logged. Either way the two pools never share a digit.

    Args:
        root: Folder holding the IDX files; default ``$VISENV_DATA/mnist``.
        pool: ``"train"`` or ``"test"``.

    Returns:
        LabelledImages: ``images [N, 28, 28]`` uint8 (white digit on black), ``labels [N]``,
        classes ``"0"`` to ``"9"``, name ``"mnist-<pool>"``.

    Raises:
        ValueError: Unknown ``pool``.
        DatasetNotFoundError: The t10k files (or, with official train images, the train
            labels) are missing.
        DatasetFormatError: A file is not a valid IDX file, or images and labels disagree.
    """
    _check_pool(pool)
    root = resolve_root(root, "mnist")
    require_path(root, "MNIST dataset root", MNIST_LAYOUT, MNIST_URL)
    if _find_idx(root, "train-images-idx3-ubyte") is not None:
        prefix = "train" if pool == "train" else "t10k"
        images, labels = _read_mnist_pair(root, prefix)
    else:
        images, labels = _read_mnist_pair(root, "t10k")
        if len(images) <= MNIST_FALLBACK_TRAIN_SIZE:
            raise DatasetFormatError(
                f"{root}: without train files, MNIST pools split the t10k digits at "
                f"{MNIST_FALLBACK_TRAIN_SIZE}, but t10k holds only {len(images)}"
            )
        # Logged on every call: results from these pools are not comparable with published
        # MNIST numbers, which train on the official 60000 digits.
        logger.warning(
            "MNIST train files are not in %s: both pools come from the %d t10k digits "
            "(train: the first %d, test: the rest); reading pool %r",
            root,
            len(images),
            MNIST_FALLBACK_TRAIN_SIZE,
            pool,
        )
        split = MNIST_FALLBACK_TRAIN_SIZE
        keep = slice(None, split) if pool == "train" else slice(split, None)
        images, labels = images[keep], labels[keep]
    return LabelledImages(images, labels, DIGIT_CLASSES, f"mnist-{pool}")


# --- rendered digits (the embedded default) -------------------------------------------------

RENDER_POOL_CODES: dict[str, int] = {"train": 0, "test": 1}
_RENDER_BLOCK = 1000  # digits drawn per random stream; a multiple of 10 keeps labels balanced


@functools.lru_cache(maxsize=4)
def _rendered_pool(pool: str, num_digits: int, seed: int) -> LabelledImages:
    images, labels = [], []
    for block in range(-(-num_digits // _RENDER_BLOCK)):
        rng = np.random.default_rng([seed, RENDER_POOL_CODES[pool], block])
        block_labels = rng.permutation(np.arange(_RENDER_BLOCK) % 10)
        images.append(render_digits(rng, block_labels))
        labels.append(block_labels)
    images_array = np.concatenate(images)[:num_digits]
    labels_array = np.concatenate(labels)[:num_digits]
    return LabelledImages(images_array, labels_array, DIGIT_CLASSES, f"rendered-digits-{pool}")


def rendered_digits(pool: str = "train", num_digits: int = 10_000, seed: int = 0) -> LabelledImages:
    """MNIST-like digits drawn by visenv itself: the embedded default (no download).

    28 x 28 white-on-black digits from 10 Hershey font variants with random stroke width,
    size, rotation, shear, aspect and elastic jitter, centred by centre of mass as in MNIST
    (see :mod:`visenv.data.digit_rendering`). Digits are drawn in blocks of 1000 from the
    random stream ``default_rng([seed, pool_code, block])``, so:

    * the same ``(pool, seed)`` always gives the same digits, and digit ``i`` does not depend
      on ``num_digits`` (a longer pool extends a shorter one);
    * the train and test pools (and different seeds) are different streams: no digit of one
      is a digit of the other;
    * each full block holds exactly 100 digits of each class, in random order.

    Pools are cached (the last 4 asked for) and read-only, so envs share them. Drawing takes
    about 0.1 ms per digit (about 1 s for 10000 on one core).

    Args:
        pool: ``"train"`` or ``"test"``.
        num_digits: Number of digits (>= 1).
        seed: Non-negative int selecting a family of pools.

    Returns:
        LabelledImages: ``images [num_digits, 28, 28]`` uint8, ``labels [num_digits]``,
        classes ``"0"`` to ``"9"``, name ``"rendered-digits-<pool>"``.

    Raises:
        ValueError: Unknown ``pool``, ``num_digits < 1`` or a negative ``seed``.
    """
    _check_pool(pool)
    if not isinstance(num_digits, int | np.integer) or num_digits < 1:
        raise ValueError(f"num_digits must be an int >= 1, got {num_digits!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return _rendered_pool(pool, int(num_digits), int(seed))


# --- CIFAR-10 ----------------------------------------------------------------------------------

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html (the 'python version')"
CIFAR10_BATCHES: dict[str, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
_CIFAR_BATCH_DIR = "cifar-10-batches-py"
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_PICKLE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    ImportError,
    IndexError,
)


def _cifar_layout(split: str) -> str:
    return (
        f"<root>/{_CIFAR_BATCH_DIR}/{{{', '.join(CIFAR10_BATCHES[split])}}} (the python batches, "
        f"preferred) or <root>/{split}_jpeg/<class>/*.jpg (one folder per class name)"
    )


def read_cifar_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (a pickled dict with ``data`` and ``labels``).

    Pickle runs code from the file it loads: only read batches from a trusted source.

    Args:
        path: ``data_batch_<i>`` or ``test_batch``.

    Returns:
        ``(images, labels)``: ndarray[N, 32, 32, 3] uint8 RGB and ndarray[N] int64.

    Raises:
        DatasetFormatError: The file is not a pickled dict with ``data`` ``[N, 3072]`` uint8
            (red, green, blue planes, each row-major) and ``labels`` ``[N]`` in 0..9.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            # The official batches were pickled by Python 2: bytes keys, hence encoding="bytes".
            batch = pickle.load(file, encoding="bytes")
    except _PICKLE_ERRORS as err:
        raise DatasetFormatError(f"{path}: not a pickled CIFAR-10 batch: {err!r}") from err
    if not isinstance(batch, dict):
        raise DatasetFormatError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    # Batches re-pickled by Python 3 have str keys; accept both.
    fields = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = fields.get("data"), fields.get("labels")
    if data is None or labels is None:
        raise DatasetFormatError(f"{path}: no 'data' or no 'labels' key (keys: {sorted(fields)})")
    data, labels = np.asarray(data), np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetFormatError(
            f"{path}: 'data' must be uint8 [N, 3072], got {data.dtype} {data.shape}"
        )
    if labels.shape != (len(data),) or not np.isin(labels, range(10)).all():
        raise DatasetFormatError(f"{path}: 'labels' must be {len(data)} integers in 0..9")
    images = np.ascontiguousarray(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels.astype(np.int64)


def _read_class_folders(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 32, 32, 3]`` and labels of ``folder/<class>/*.jpg``, classes sorted."""
    names = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    if names != CIFAR10_CLASSES:
        raise DatasetFormatError(
            f"{folder}: class folders {names}, expected exactly {CIFAR10_CLASSES}"
        )
    files, labels = [], []
    for label, name in enumerate(names):
        found = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        files += found
        labels += [label] * len(found)
    if not files:
        raise DatasetFormatError(f"{folder}: the class folders hold no {_IMAGE_SUFFIXES} images")
    images = np.empty((len(files), 32, 32, 3), np.uint8)
    for i, path in enumerate(files):
        image = read_rgb(path)
        if image.shape != (32, 32, 3):
            raise DatasetFormatError(f"{path}: CIFAR-10 images are 32x32, got {image.shape}")
        images[i] = image
    return images, np.array(labels, dtype=np.int64)


def cifar10(root: str | os.PathLike[str] | None = None, split: str = "test") -> LabelledImages:
    """CIFAR-10 images of one split, from the python batches or from class folders.

    ``<root>/cifar-10-batches-py/`` (the official python version) is read when it holds the
    split's batches; otherwise ``<root>/<split>_jpeg/<class>/`` image folders, whose sorted
    names must be the ten CIFAR-10 class names (sorted, they are the standard label order).
    Folder images are read in sorted file order, class by class; their order within a class
    is the folders', not necessarily the batches'. JPEG folders (such as
    ``../shared/data/cifar10/test_jpeg``) are lossy re-encodings: fine for tests and demos,
    not for accuracies comparable with published CIFAR-10 numbers.

    Args:
        root: Folder holding either layout; default ``$VISENV_DATA/cifar10``.
        split: ``"train"`` or ``"test"``.

    Returns:
        LabelledImages: ``images [N, 32, 32, 3]`` uint8 RGB, ``labels [N]``,
        classes :data:`CIFAR10_CLASSES`, name ``"cifar10-<split>"``.

    Raises:
        ValueError: Unknown ``split``.
        DatasetNotFoundError: Neither layout is there for ``split``.
        DatasetFormatError: A batch or an image file is malformed, or the class folders are not
            the CIFAR-10 classes.
    """
    if split not in CIFAR10_BATCHES:
        raise ValueError(
            f"unknown CIFAR-10 split {split!r}; expected one of {tuple(CIFAR10_BATCHES)}"
        )
    root = resolve_root(root, "cifar10")
    batches = [root / _CIFAR_BATCH_DIR / name for name in CIFAR10_BATCHES[split]]
    folder = root / f"{split}_jpeg"
    if all(path.is_file() for path in batches):
        parts = [read_cifar_batch(path) for path in batches]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
    else:
        what = f"CIFAR-10 {split} split (python batches or {split}_jpeg class folders)"
        require_path(folder, what, _cifar_layout(split), CIFAR10_URL)
        images, labels = _read_class_folders(folder)
    return LabelledImages(images, labels, CIFAR10_CLASSES, f"cifar10-{split}")
