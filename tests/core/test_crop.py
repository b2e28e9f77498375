import numpy as np
import pytest
import torch

from tests.core.reference import crop_and_resize_reference
from visenv.core import crop_and_resize, crop_and_resize_torch
from visenv.core.images import ImageBatch

CUDA = pytest.param(
    "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
)


def _images(rng, sizes, channels=3):
    return [rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8) for h, w in sizes]


def _boxes(rng, sizes):
    """Boxes inside, straddling and outside each image, with sub-pixel corners."""
    boxes = []
    for h, w in sizes:
        x1, y1 = rng.uniform(-0.3 * w, 0.8 * w), rng.uniform(-0.3 * h, 0.8 * h)
        bw, bh = rng.uniform(2, 1.2 * w), rng.uniform(2, 1.2 * h)
        boxes.append([x1, y1, x1 + bw, y1 + bh])
    return np.asarray(boxes, dtype=np.float32)


@pytest.mark.parametrize("num_threads", [1, 2])
def test_opencv_backend_matches_reference(num_threads):
    rng = np.random.default_rng(0)
    sizes = [(31, 47), (40, 22), (17, 17), (50, 64)]
    images, boxes = _images(rng, sizes), _boxes(rng, sizes)
    crops = crop_and_resize(images, boxes, (13, 19), num_threads=num_threads)
    assert crops.shape == (4, 13, 19, 3) and crops.dtype == np.uint8
    for image, box, crop in zip(images, boxes, crops, strict=True):
        ref = crop_and_resize_reference(image, box, (13, 19))
        diff = np.abs(crop.astype(np.float64) - ref)
        # OpenCV interpolates in fixed point (1/32 pixel steps) and rounds to uint8
        assert diff.max() <= 3.0 and diff.mean() < 0.6


def test_opencv_backend_float_and_gray():
    rng = np.random.default_rng(1)
    image = rng.random((20, 30)).astype(np.float32)
    box = np.array([[2.25, 3.5, 18.75, 15.0]], dtype=np.float32)
    crop = crop_and_resize([image], box, (7, 9))
    assert crop.shape == (1, 7, 9)
    ref = crop_and_resize_reference(image[..., None], box[0], (7, 9))[..., 0]
    np.testing.assert_allclose(crop[0], ref, atol=0.02)


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_torch_backend_matches_reference(device):
    rng = np.random.default_rng(2)
    sizes = [(31, 47), (40, 22), (17, 17)]
    images, boxes = _images(rng, sizes), _boxes(rng, sizes)
    padded = torch.zeros(3, 3, 40, 47, dtype=torch.float32)
    for k, image in enumerate(images):
        padded[k, :, : image.shape[0], : image.shape[1]] = torch.from_numpy(image).permute(2, 0, 1)
    crops = crop_and_resize_torch(padded.to(device), torch.from_numpy(boxes).to(device), (13, 19))
    assert crops.shape == (3, 3, 13, 19)
    for image, box, crop in zip(images, boxes, crops.cpu(), strict=True):
        ref = crop_and_resize_reference(image, box, (13, 19))
        np.testing.assert_allclose(crop.permute(1, 2, 0).numpy(), ref, atol=1e-3)


def test_backends_agree_on_uint8_with_several_boxes_per_image():
    rng = np.random.default_rng(3)
    sizes = [(60, 80), (60, 80)]
    images = _images(rng, sizes)
    boxes = np.stack([_boxes(rng, sizes), _boxes(rng, sizes)], axis=1)  # [B=2, M=2, 4]
    cpu = crop_and_resize(images, boxes, (24, 24))
    stacked = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    tch = crop_and_resize_torch(stacked, torch.from_numpy(boxes), (24, 24))
    assert cpu.shape == (2, 2, 24, 24, 3) and tch.shape == (2, 2, 3, 24, 24)
    assert tch.dtype == torch.uint8
    diff = np.abs(cpu.astype(int) - tch.permute(0, 1, 3, 4, 2).numpy().astype(int))
    assert diff.max() <= 3 and diff.mean() < 0.6


def test_whole_image_box_at_native_size_is_identity():
    rng = np.random.default_rng(4)
    image = _images(rng, [(16, 24)])[0]
    crop = crop_and_resize([image], np.array([[0, 0, 24, 16]], np.float32), (16, 24))
    np.testing.assert_array_equal(crop[0], image)
    tch = crop_and_resize_torch(
        torch.from_numpy(image).permute(2, 0, 1)[None], torch.tensor([[0.0, 0, 24, 16]]), (16, 24)
    )
    np.testing.assert_array_equal(tch[0].permute(1, 2, 0).numpy(), image)


@pytest.mark.parametrize(
    ("boxes", "out_size", "match"),
    [
        (np.zeros((1, 3)), (4, 4), "shape"),
        (np.array([[5.0, 0, 1, 4]]), (4, 4), "x1 <= x2"),
        (np.array([[0.0, 0, np.nan, 4]]), (4, 4), "finite"),
        (np.array([[0.0, 0, 4, 4]]), (0, 4), "out_size"),
        (np.array([[0.0, 0, 4, 4], [0, 0, 1, 1]]), (4, 4), "images"),
    ],
)
def test_bad_input_raises(boxes, out_size, match):
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=match):
        crop_and_resize([image], boxes, out_size)


@pytest.mark.parametrize("channels", [None, 3])
def test_image_batch_set_many_crops_like_the_opencv_batch(channels):
    rng = np.random.default_rng(5)
    shape = (4, 20, 20) if channels is None else (4, 20, 20, channels)
    first, second = (rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(2))
    boxes = rng.uniform(0, 10, (4, 2, 2))
    boxes = np.concatenate([boxes, boxes + rng.uniform(3, 12, (4, 2, 2))], axis=2)
    ids = np.array([2, 0])
    batches = [ImageBatch(4, backend=b) for b in ("numpy", "torch")]
    for batch in batches:
        batch.set_many(np.arange(4), first)
        batch.set_many(ids, second[:2])  # one device copy for a subset of envs
    expected = first.copy()
    expected[ids] = second[:2]
    direct = crop_and_resize(list(expected), boxes, (6, 6))
    cv_crops = batches[0].crop(boxes, (6, 6))
    torch_crops = batches[1].crop(torch.as_tensor(boxes), (6, 6)).numpy()
    np.testing.assert_array_equal(cv_crops, direct)
    assert torch_crops.shape == direct.shape
    assert np.abs(torch_crops.astype(int) - direct).max() <= 1
