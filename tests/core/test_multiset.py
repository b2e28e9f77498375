"""Multiset bookkeeping (HSAL sec. 4.2) against a plain Counter, duplicates included."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from visenv.core.multiset import multiset_counts, multiset_reward

C, STOP = 10, 10


def reference_episode(true_labels, predictions):
    """Rewards and the remaining multiset after each prediction, with a Counter."""
    available = Counter(true_labels)
    rewards = []
    for label in predictions:
        if label == STOP:
            rewards.append(1.0 if sum(available.values()) == 0 else -1.0)
            break
        if available[label] > 0:
            available[label] -= 1
            rewards.append(1.0)
        else:
            rewards.append(-1.0)
    return rewards, available


def test_counts_of_padded_lists():
    counts = multiset_counts([[3, 3, 1], [0], [-1, 2, -1]], C)
    assert counts.tolist()[0] == [0, 1, 0, 2, 0, 0, 0, 0, 0, 0]
    assert counts[1, 0] == 1 and counts[2].sum() == 1 and counts[2, 2] == 1


def test_duplicates_are_rewarded_once_per_copy():
    remaining = multiset_counts([[3, 3, 7]], C)
    got = []
    for label in [3, 3, 3, 7, STOP]:
        reward, remaining, stopped = multiset_reward(remaining, np.array([label]), STOP)
        got.append((float(reward[0]), bool(stopped[0]), int(remaining[0].sum())))
    # the third 3 is one too many; stop is right once everything was named
    assert got == [(1, False, 2), (1, False, 1), (-1, False, 1), (1, False, 0), (1, True, 0)]


def test_stop_before_the_end_is_wrong():
    reward, after, stopped = multiset_reward(multiset_counts([[4]], C), np.array([STOP]), STOP)
    assert reward[0] == -1 and stopped[0] and after[0, 4] == 1


def test_random_episodes_match_a_counter():
    rng = np.random.default_rng(0)
    n, steps = 64, 6
    true = [rng.integers(0, 4, rng.integers(1, 5)).tolist() for _ in range(n)]  # many repeats
    predictions = rng.integers(0, 4, (n, steps))
    predictions[rng.random((n, steps)) < 0.1] = STOP
    remaining = multiset_counts(true, C)
    remaining_t = torch.from_numpy(remaining)
    rewards = np.full((n, steps), np.nan)
    ended = np.zeros(n, bool)
    for t in range(steps):
        r, after, stopped = multiset_reward(remaining, predictions[:, t], STOP)
        r_t, after_t, stopped_t = multiset_reward(
            remaining_t, torch.from_numpy(predictions[:, t]), STOP
        )
        np.testing.assert_array_equal(r_t.numpy(), r)
        np.testing.assert_array_equal(after_t.numpy(), after)
        np.testing.assert_array_equal(stopped_t.numpy(), stopped)
        rewards[~ended, t] = r[~ended]
        remaining = np.where(ended[:, None], remaining, after)
        remaining_t = torch.from_numpy(remaining)
        ended |= stopped
    for i in range(n):
        expected, left = reference_episode(true[i], predictions[i].tolist())
        np.testing.assert_array_equal(rewards[i, : len(expected)], expected)
        assert remaining[i].tolist() == [left[c] for c in range(C)]
