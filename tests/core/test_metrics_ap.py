"""Average precision and mAP against the definition written as loops, plus worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.reference import average_precision_reference
from visenv.core.metrics import average_precision, mean_average_precision


def _random_ranking(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    scores = rng.integers(0, 6, n) / 5  # few distinct values: many ties
    return scores, rng.random(n) < 0.4


@pytest.mark.parametrize("mode", ["area", "voc07"])
def test_average_precision_matches_the_reference_with_ties(mode):
    rng = np.random.default_rng(0)
    for _ in range(200):
        scores, targets = _random_ranking(rng, int(rng.integers(1, 40)))
        extra = int(rng.integers(0, 3))
        expected = average_precision_reference(scores, targets, mode, targets.sum() + extra)
        got = average_precision(scores, targets, mode, num_positives=targets.sum() + extra)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_ties_make_average_precision_independent_of_input_order():
    rng = np.random.default_rng(1)
    scores, targets = _random_ranking(rng, 50)
    order = rng.permutation(50)
    assert average_precision(scores, targets) == average_precision(scores[order], targets[order])


def test_worked_examples():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    targets = np.array([1, 0, 1, 0, 1], dtype=bool)
    # recall/precision: (1/3, 1), (1/3, 1/2), (2/3, 2/3), (2/3, 1/2), (1, 3/5)
    # 11-point: t in 0..0.3 -> 1, t in 0.4..0.6 -> 2/3, t in 0.7..1 -> 3/5
    assert average_precision(scores, targets, "voc07") == pytest.approx((4 + 2 + 4 * 0.6) / 11)
    assert average_precision(scores, targets, "area") == pytest.approx((1 + 2 / 3 + 0.6) / 3)
    assert average_precision(scores, np.ones(5, dtype=bool)) == 1.0  # all positive
    assert average_precision([0.1, 0.9, 0.5], [False, True, True]) == 1.0  # perfect ranking
    # a recall of exactly 3/10 counts at the 0.3 point (see _interpolated_ap)
    perfect_three = average_precision(np.arange(3.0, 0, -1), [True] * 3, "voc07", num_positives=10)
    assert perfect_three == pytest.approx(4 / 11)
    # a missed positive caps recall: half the positives found first -> area 0.5
    assert average_precision([0.9], [True], num_positives=2) == pytest.approx(0.5)


def test_no_positives_gives_nan_and_bad_arguments_raise():
    assert np.isnan(average_precision([0.3, 0.2], [False, False]))
    with pytest.raises(ValueError, match=r"'area', 'voc07'"):
        average_precision([0.3], [True], mode="voc12")
    with pytest.raises(ValueError, match="num_positives"):
        average_precision([0.3, 0.2], [True, True], num_positives=1)
    with pytest.raises(ValueError, match=r"\[N\]"):
        average_precision([0.3, 0.2], [True])


@pytest.mark.parametrize("mode", ["area", "voc07"])
def test_mean_average_precision_skips_classes_without_positives(mode):
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 4, (30, 5)) / 3
    targets = rng.random((30, 5)) < 0.3
    targets[:, 3] = False  # class 3 never occurs
    per_class, m_ap = mean_average_precision(scores, targets, mode)
    for k in range(5):
        expected = average_precision_reference(scores[:, k], targets[:, k], mode)
        np.testing.assert_allclose(per_class[k], expected, rtol=1e-12)
    assert np.isnan(per_class[3])
    assert m_ap == pytest.approx(np.mean(per_class[[0, 1, 2, 4]]))


def test_mean_average_precision_ignore_drops_entries():
    scores = np.array([[0.9], [0.8], [0.1]])
    targets = np.array([[False], [True], [True]])
    per_class, _ = mean_average_precision(
        scores, targets, ignore=np.array([[True], [False], [False]])
    )
    assert per_class[0] == 1.0  # without the ignored top-scoring negative the ranking is perfect
    assert np.isnan(mean_average_precision(scores, np.zeros_like(targets))[1])
