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


# -- HSAL: multiset metrics -----------------------------------------------------------------
def _lists_to_counts(lists, c):
    out = np.zeros((len(lists), c), dtype=np.int64)
    for i, labels in enumerate(lists):
        for label in labels:
            out[i, label] += 1
    return out


def test_macro_f1_and_overall_scores_against_loops():
    from visenv.core.metrics import macro_f1, overall_precision_recall

    rng = np.random.default_rng(2)
    c = 6
    true = [rng.integers(0, c, rng.integers(1, 5)).tolist() for _ in range(120)]
    pred = [
        [v if rng.random() < 0.7 else int(rng.integers(0, c)) for v in t][: rng.integers(0, 6)]
        for t in true
    ]
    pred[0] = []  # an empty prediction
    f1s, tp_all, fp_all, fn_all = [], 0, 0, 0
    for label in range(c):
        tp = fp = fn = 0
        for t, p in zip(true, pred, strict=True):
            hit = min(t.count(label), p.count(label))  # multiset intersection
            tp += hit
            fp += p.count(label) - hit
            fn += t.count(label) - hit
        if tp + fp + fn:
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    p_counts, t_counts = _lists_to_counts(pred, c), _lists_to_counts(true, c)
    assert math.isclose(macro_f1(p_counts, t_counts), sum(f1s) / len(f1s))
    op, or_ = overall_precision_recall(p_counts, t_counts)
    assert math.isclose(op, tp_all / (tp_all + fp_all))
    assert math.isclose(or_, tp_all / (tp_all + fn_all))


def test_macro_f1_counts_every_copy_and_skips_absent_classes():
    from visenv.core.metrics import macro_f1

    true = _lists_to_counts([[3, 3], [1]], 5)
    # one 3 of two: class 3 has P = 1, R = 1/2; class 1 right; classes 0, 2, 4 absent
    pred = _lists_to_counts([[3], [1]], 5)
    assert math.isclose(macro_f1(pred, true), (2 / 3 + 1.0) / 2)
    assert macro_f1(true, true) == 1.0
    assert math.isnan(macro_f1(np.zeros((2, 5)), np.zeros((2, 5))))


def test_exact_match_against_a_loop():
    from visenv.core.metrics import exact_match

    rng = np.random.default_rng(3)
    true = [sorted(rng.integers(0, 4, rng.integers(1, 4)).tolist()) for _ in range(100)]
    pred = [t if rng.random() < 0.6 else sorted([*t, int(rng.integers(0, 4))]) for t in true]
    pred = [list(reversed(p)) for p in pred]  # order never matters
    got = exact_match(_lists_to_counts(pred, 4), _lists_to_counts(true, 4))
    assert math.isclose(got, np.mean([sorted(p) == t for p, t in zip(pred, true, strict=True)]))


def test_attention_on_saliency_against_a_loop():
    from visenv.core.metrics import attention_on_saliency

    rng = np.random.default_rng(4)
    maps = rng.random((30, 7, 7))
    cells = rng.integers(0, 49, (30, 2))
    per_step = [np.mean([maps[t][divmod(int(c), 7)] for c in cells[t]]) for t in range(30)]
    assert math.isclose(attention_on_saliency(maps, cells), np.mean(per_step))
    assert math.isnan(attention_on_saliency(np.zeros((0, 7, 7)), np.zeros((0, 2))))
