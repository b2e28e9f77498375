"""Multi-digit canvases (HSAL's MNIST Set / Multiset): layout rules, determinism, pools."""

from __future__ import annotations

import numpy as np
import pytest

from visenv.data import DigitCanvases, LabelledImages, load_dataset, mnist_digits, rendered_digits
from visenv.data.multidigit import INK_THRESHOLD, ink_box

N = 150


@pytest.fixture(scope="module")
def pool() -> LabelledImages:
    return rendered_digits("train", num_digits=1000)


def _overlap_share(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    return w * h / min(area(a), area(b))


@pytest.mark.parametrize("multiset", [False, True])
def test_canvases_follow_the_paper_layout(pool, multiset):
    ds = DigitCanvases(pool, multiset=multiset, num_canvases=N)
    counts, duplicates = [], 0
    for i in range(N):
        scene = ds[i]
        assert scene.image.shape == (100, 100, 3) and scene.image.dtype == np.uint8
        assert (scene.image[..., 0] == scene.image[..., 2]).all()  # grey over RGB
        k = len(scene.labels)
        counts.append(k)
        assert 1 <= k <= 4 and scene.boxes.shape == (k, 4)
        assert scene.extras["multiset"] == tuple(sorted(scene.labels.tolist()))
        duplicates += len(set(scene.labels.tolist())) < k
        boxes = scene.boxes.astype(float)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= 100).all()
        # ink boxes of 14-50 px digits (a 20-50 px field holds MNIST's 20 px box of ink)
        sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        assert (sides <= 50).all() and (sides >= 4).all()
        for box in boxes:  # every box holds ink up to its borders
            x1, y1, x2, y2 = box.astype(int)
            assert (scene.image[y1:y2, x1:x2, 0] > INK_THRESHOLD).any()
    assert set(counts) == {1, 2, 3, 4}
    assert (duplicates > 0) == multiset


def test_digits_overlap_lightly_and_clutter_stays_off_them(pool):
    ds = DigitCanvases(pool, multiset=True, num_canvases=N, max_overlap=0.15)
    shares = []
    for i in range(N):
        boxes = ds[i].boxes.astype(float)
        shares += [_overlap_share(a, b) for j, a in enumerate(boxes) for b in boxes[j + 1 :]]
    # rejection keeps nearly every pair within 15%; the fallback (least overlap) is rare
    assert np.mean(np.array(shares) <= 0.15) > 0.97
    # clutter: ink outside every digit box, and none inside a digit box but the digit's own
    plain = DigitCanvases(pool, multiset=True, num_canvases=20, clutter=(0, 0))
    cluttered = DigitCanvases(pool, multiset=True, num_canvases=20)
    for i in range(20):
        a, b = plain[i], cluttered[i]
        np.testing.assert_array_equal(a.boxes, b.boxes)
        inside = np.zeros((100, 100), bool)
        for x1, y1, x2, y2 in np.floor(a.boxes).astype(int):
            inside[y1:y2, x1:x2] = True
        np.testing.assert_array_equal(a.image[inside], b.image[inside])
    extra = sum(int((c.image > 0).sum() - (p.image > 0).sum()) for p, c in zip(
        [plain[i] for i in range(20)], [cluttered[i] for i in range(20)], strict=True))  # fmt: skip
    assert extra > 0


def test_set_canvases_have_distinct_labels_and_balanced_classes(pool):
    ds = DigitCanvases(pool, multiset=False, num_canvases=400)
    labels = np.concatenate([ds[i].labels for i in range(400)])
    for i in range(400):
        assert len(set(ds[i].labels.tolist())) == len(ds[i].labels)
    freq = np.bincount(labels, minlength=10) / len(labels)
    assert freq.min() > 0.05 and freq.max() < 0.15


def test_canvases_are_deterministic_per_seed_split_and_index(pool):
    a = DigitCanvases(pool, multiset=True, num_canvases=10, seed=3)
    b = DigitCanvases(pool, multiset=True, num_canvases=10, seed=3, cache_size=0)
    np.testing.assert_array_equal(a[7].image, b[7].image)
    np.testing.assert_array_equal(a[7].boxes, b[7].boxes)
    assert not np.array_equal(a[7].image, a[8].image)
    other_seed = DigitCanvases(pool, multiset=True, num_canvases=10, seed=4)
    assert not np.array_equal(a[7].image, other_seed[7].image)
    test_split = DigitCanvases(pool, multiset=True, split="test", num_canvases=10, seed=3)
    assert not np.array_equal(a[7].image, test_split[7].image)


def test_paper_sizes_and_bad_arguments(pool):
    assert len(DigitCanvases(pool, multiset=True)) == 60_000
    assert len(DigitCanvases(pool, multiset=True, split="test")) == 10_000
    with pytest.raises(ValueError, match="split"):
        DigitCanvases(pool, multiset=True, split="val")
    with pytest.raises(ValueError, match="num_digits"):
        DigitCanvases(pool, multiset=True, num_digits=(0, 4))
    with pytest.raises(ValueError, match="fit"):
        DigitCanvases(pool, multiset=True, digit_size=(20, 120))
    few = pool.subset(np.isin(pool.labels, [1, 2, 3]))
    with pytest.raises(ValueError, match="distinct"):
        DigitCanvases(few, multiset=False)


def test_ink_box_is_tight():
    image = np.zeros((20, 30), np.uint8)
    image[3:7, 10:15] = 255
    image[0, 0] = INK_THRESHOLD  # at the threshold: not ink
    np.testing.assert_array_equal(ink_box(image), [10, 3, 15, 7])
    np.testing.assert_array_equal(ink_box(np.zeros((5, 6), np.uint8)), [0, 0, 6, 5])


def test_rendered_readers_build_train_and_test_from_disjoint_pools():
    train = load_dataset("digits_multiset", split="train", num_canvases=50)
    test = load_dataset("digits_multiset", split="test", num_canvases=50)
    assert (
        train.digits.name == "rendered-digits-train" and test.digits.name == "rendered-digits-test"
    )
    # both know the train pool, which the default activation model trains on
    assert test.train_digits is train.digits
    assert load_dataset("digits_set", split="test", num_canvases=5).multiset is False
    with pytest.raises(ValueError, match="root"):
        load_dataset("digits_set", root="/nowhere")


def test_mnist_readers_on_real_data(mnist_root):
    train = load_dataset("mnist_set", root=mnist_root, split="train", num_canvases=40)
    test = load_dataset("mnist_multiset", root=mnist_root, split="test", num_canvases=40)
    assert train.digits.name == "mnist-train" and test.digits.name == "mnist-test"
    assert test.train_digits.name == "mnist-train"
    train_pool = {im.tobytes() for im in mnist_digits(mnist_root, "train").images}
    # every test canvas digit comes from the test pool, which shares no digit with train
    assert not train_pool & {im.tobytes() for im in test.digits.images}
    for i in range(40):
        assert len(set(train[i].labels.tolist())) == len(train[i].labels)
        assert 1 <= len(test[i].labels) <= 4
