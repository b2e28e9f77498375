import math

import numpy as np
import pytest

from tests.core.reference import coverage_reference
from visenv.core.metrics import glimpse_coverage, iou_bins, salient_correct, sequence_errors


def test_salient_correct_against_loops():
    rng = np.random.default_rng(0)
    n, c = 200, 7
    pred = rng.integers(0, c, n)
    salient = rng.integers(0, c, n)
    top2 = np.stack([salient, np.where(rng.random(n) < 0.3, -1, rng.integers(0, c, n))], 1)
    present = rng.random((n, c)) < 0.3
    present[np.arange(n), salient] = True
    got = salient_correct(pred, salient, top2, present)
    for i in range(n):
        assert got["top1"][i] == (pred[i] == salient[i])
        assert got["top2"][i] == (pred[i] in [t for t in top2[i] if t >= 0])
        assert got["any"][i] == present[i, pred[i]]
    # nested by construction: Top-1 <= Top-2 <= Any
    assert got["top1"].mean() <= got["top2"].mean() <= got["any"].mean()


def test_iou_bins_against_loops():
    rng = np.random.default_rng(1)
    before = np.concatenate([rng.random(300), [0.0, 0.2, 1.0]])
    after = rng.random(len(before))
    ok0, ok1 = rng.random(len(before)) < 0.5, rng.random(len(before)) < 0.6
    rows = iou_bins(before, after, ok0, ok1)
    assert sum(r["count"] for r in rows) == len(before)
    for row in rows:
        last = row["high"] == 1.0
        members = [i for i, v in enumerate(before) if row["low"] <= v and (v < row["high"] or last)]
        assert row["count"] == len(members)
        assert math.isclose(row["iou_before"], np.mean(before[members]))
        assert math.isclose(row["iou_after"], np.mean(after[members]))
        assert math.isclose(row["acc_after"], np.mean(ok1[members]))


def test_empty_bin_is_nan():
    rows = iou_bins(np.array([0.1, 0.15]), np.array([0.3, 0.4]))
    assert rows[0]["count"] == 2 and math.isnan(rows[3]["iou_before"])


def test_glimpse_coverage_against_the_pixel_loop():
    rng = np.random.default_rng(2)
    masks = rng.random((6, 23, 31)) < 0.3
    masks[5] = False  # no object pixels: NaN
    boxes = np.concatenate([rng.uniform(-5, 30, (6, 4, 2)), rng.uniform(2, 14, (6, 4, 2))], 2)
    boxes[..., 2:] += boxes[..., :2]  # (x, y, w, h) -> (x1, y1, x2, y2)
    valid = rng.random((6, 4)) < 0.7
    got = glimpse_coverage(masks, boxes, valid)
    for i in range(5):
        assert got[i] == pytest.approx(coverage_reference(masks[i], boxes[i][valid[i]]))
    assert math.isnan(got[5])
    full = np.tile([[0.0, 0.0, 31.0, 23.0]], (6, 1, 1))
    np.testing.assert_allclose(glimpse_coverage(masks, full)[:5], 1.0)


def test_sequence_errors_count_whole_sequences():
    targets = np.array([[3, -1], [1, 10], [1, 10], [1, 10], [4, -1]])
    preds = np.array([[3, -1], [1, 10], [1, 2], [1, -1], [5, -1]])
    np.testing.assert_array_equal(sequence_errors(preds, targets), [False, False, True, True, True])
    with pytest.raises(ValueError, match="N, S"):
        sequence_errors(preds[:, 0], targets[:, 0])
