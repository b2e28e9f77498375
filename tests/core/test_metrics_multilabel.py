"""CP/CR/CF1/OP/OR/OF1 (paper 003 Eq. 11) against image-by-image loops, plus a worked example."""

from __future__ import annotations

import numpy as np
import pytest

from visenv.core.metrics import multilabel_prf, top_n_label_recall


def _prf_reference(scores, targets, top_k, threshold) -> dict[str, float]:
    n, k = scores.shape
    correct, predicted, true = [0] * k, [0] * k, [0] * k
    for i in range(n):
        ranked = sorted(range(k), key=lambda c: (-scores[i, c], c))  # ties: lower class first
        chosen = ranked if top_k is None else ranked[:top_k]
        chosen = [c for c in chosen if threshold is None or scores[i, c] >= threshold]
        for c in range(k):
            predicted[c] += c in chosen
            true[c] += bool(targets[i, c])
            correct[c] += c in chosen and bool(targets[i, c])
    present = [c for c in range(k) if true[c] > 0]
    cp = sum(correct[c] / predicted[c] if predicted[c] else 0.0 for c in present) / len(present)
    cr = sum(correct[c] / true[c] for c in present) / len(present)
    op = sum(correct) / sum(predicted) if sum(predicted) else 0.0
    orc = sum(correct) / sum(true)

    def f1(p, r):
        return 2 * p * r / (p + r) if p + r else 0.0

    return {"CP": cp, "CR": cr, "CF1": f1(cp, cr), "OP": op, "OR": orc, "OF1": f1(op, orc)}


@pytest.mark.parametrize(
    ("top_k", "threshold"), [(3, 0.1), (3, 0.5), (3, None), (None, 0.5), (1, 0.1)]
)  # (3, 0.1): the COCO protocol of paper 003
def test_matches_the_reference_with_ties(top_k, threshold):
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, k = int(rng.integers(1, 12)), int(rng.integers(2, 7))
        scores = rng.integers(0, 5, (n, k)) / 4  # many ties, some exactly at the threshold
        targets = rng.random((n, k)) < 0.35
        targets[0, 0] = True  # at least one present class
        got = multilabel_prf(scores, targets, top_k=top_k, threshold=threshold)
        expected = _prf_reference(scores, targets, top_k, threshold)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-12), key


def test_worked_example():
    scores = np.array([[0.9, 0.8, 0.3, 0.05], [0.2, 0.6, 0.7, 0.9]])
    targets = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
    # top-3 with threshold 0.5: image 0 -> {0, 1}, image 1 -> {3, 2, 1}
    got = multilabel_prf(scores, targets, top_k=3, threshold=0.5)
    # classes with ground truth: 0 (1 of 1 predicted right), 1 (1 right of 2), 2 (0 of 1)
    assert got["CP"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert got["CR"] == pytest.approx((1 + 1 + 0) / 3)
    assert got["OP"] == pytest.approx(2 / 5)
    assert got["OR"] == pytest.approx(2 / 3)
    assert got["OF1"] == pytest.approx(2 * 0.4 * (2 / 3) / (0.4 + 2 / 3))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="top_k, threshold or both"):
        multilabel_prf(np.zeros((2, 3)), np.zeros((2, 3)), top_k=None, threshold=None)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        multilabel_prf(np.zeros((2, 3)), np.zeros((2, 3)), top_k=0)


def _top_n_reference(scores, targets) -> list[float]:
    out = []
    for row, truth in zip(scores, targets, strict=True):
        labels = {c for c in range(len(truth)) if truth[c]}
        if not labels:
            out.append(float("nan"))
            continue
        ranked = sorted(range(len(row)), key=lambda c: (-row[c], c))  # ties: lower class first
        out.append(len(labels & set(ranked[: len(labels)])) / len(labels))
    return out


def test_top_n_label_recall_matches_the_reference_with_ties():
    rng = np.random.default_rng(3)
    for _ in range(100):
        n, k = int(rng.integers(1, 10)), int(rng.integers(1, 8))
        scores = rng.integers(0, 4, (n, k)) / 3  # many ties
        targets = rng.random((n, k)) < 0.4
        np.testing.assert_array_equal(
            top_n_label_recall(scores, targets), _top_n_reference(scores, targets)
        )


def test_top_n_label_recall_worked_example():
    scores = np.array([[0.9, 0.1, 0.8, 0.5], [0.2, 0.2, 0.2, 0.2], [0.0, 0.0, 0.0, 0.0]])
    targets = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]], dtype=bool)
    # image 0: n = 2, top-2 {0, 2}, one right; image 1: all tied, top-2 {0, 1}; image 2: no labels
    np.testing.assert_array_equal(top_n_label_recall(scores, targets), [0.5, 0.5, np.nan])
