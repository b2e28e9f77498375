"""HSAL's saliency, mask and update kernels against slow loops written from the paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from visenv.core.saliency import (
    covert_glimpse,
    gaussian_mixture_mask,
    inhibition_of_return,
    mixture_parameters,
    normalize_min_max,
    priority_map,
    saliency_map,
)

RNG = np.random.default_rng(0)
H, W, C, K = 7, 7, 5, 5


def reference_mask(raw: np.ndarray, beta_range=(1.5, 2.0)) -> np.ndarray:
    """``M_ij = phi(i, j)`` of sec. 3 for one raw ``4K`` vector, one cell at a time."""
    a, b, k1, k2 = raw[:K], raw[K : 2 * K], raw[2 * K : 3 * K], raw[3 * K :]
    alpha = [math.exp(v) / sum(math.exp(u) for u in a) for v in a]
    beta = [min(max(math.exp(v), beta_range[0]), beta_range[1]) for v in b]
    kappa1 = [H / (1 + math.exp(-v)) for v in k1]
    kappa2 = [W / (1 + math.exp(-v)) for v in k2]
    out = np.zeros((H, W))
    for i in range(H):
        for j in range(W):
            ci, cj = i + 0.5, j + 0.5  # cell centres (see visenv.core.saliency)
            out[i, j] = sum(
                alpha[k] * math.exp(-beta[k] * ((kappa1[k] - ci) ** 2 + (kappa2[k] - cj) ** 2))
                for k in range(K)
            )
    return out


def reference_update(saliency, mask, glimpsed) -> np.ndarray:
    """The update mechanism of sec. 3, cell by cell."""
    out = np.zeros_like(saliency)
    for i in range(H):
        for j in range(W):
            if i * W + j in set(glimpsed.tolist()):
                out[i, j] = 0
            else:
                out[i, j] = max(saliency[i, j] - mask[i, j], 0)
    return out


def test_mask_matches_the_gaussian_attention_equation():
    raw = RNG.normal(0, 2, (6, 4 * K))
    raw[:, K : 2 * K] = RNG.uniform(np.log(1.2), np.log(2.5), (6, K))  # some outside [1.5, 2]
    mask = gaussian_mixture_mask(*mixture_parameters(raw, (H, W)), (H, W))
    for n in range(6):
        np.testing.assert_allclose(mask[n], reference_mask(raw[n]), rtol=1e-12)
    assert mask.min() >= 0 and mask.max() <= 1 + 1e-12


def test_parameter_ranges():
    raw = np.concatenate(
        [RNG.normal(0, 5, (4, K)), np.full((4, K), 9.0), np.full((4, 2 * K), -30.0)], 1
    )
    alpha, beta, kappa1, kappa2 = mixture_parameters(raw, (H, W))
    np.testing.assert_allclose(alpha.sum(-1), 1)
    np.testing.assert_allclose(beta, 2.0)  # exp(9) is held at the upper end of [1.5, 2.0]
    assert (kappa1 >= 0).all() and (kappa1 < 1e-9).all() and (kappa2 >= 0).all()
    _, beta, kappa1, _ = mixture_parameters(np.zeros((1, 4 * K)), (H, W))
    np.testing.assert_allclose(beta, 1.5)  # exp(0) = 1 is held at the lower end
    np.testing.assert_allclose(kappa1, H / 2)  # sigmoid(0) * h: the grid's centre
    with pytest.raises(ValueError, match="4K"):
        mixture_parameters(np.zeros((1, 7)), (H, W))


def test_a_single_component_peaks_at_its_centre():
    raw = np.zeros((1, 4))
    raw[0, 2] = math.log(2.5 / (H - 2.5))  # kappa1 = 2.5: the centre of row 2
    raw[0, 3] = math.log(4.5 / (W - 4.5))  # kappa2 = 4.5: the centre of column 4
    mask = gaussian_mixture_mask(*mixture_parameters(raw, (H, W)), (H, W))[0]
    assert np.unravel_index(mask.argmax(), mask.shape) == (2, 4)
    assert mask[2, 4] == pytest.approx(1.0)
    assert mask[2, 5] == pytest.approx(math.exp(-1.5))  # one cell away, beta = 1.5


def test_saliency_priority_and_glimpse_against_loops():
    volume = RNG.normal(0, 1, (3, C, H, W))
    saliency = saliency_map(volume)
    mask = RNG.uniform(0, 1, (3, H, W))
    for n in range(3):
        for i in range(H):
            for j in range(W):
                assert saliency[n, i, j] == pytest.approx(
                    sum(volume[n, c, i, j] ** 2 for c in range(C))
                )
        g0 = covert_glimpse(mask, volume)[n]
        expected = [
            sum(mask[n, i, j] * volume[n, c, i, j] for i in range(H) for j in range(W))
            for c in range(C)
        ]
        np.testing.assert_allclose(g0, expected)
        stretched = normalize_min_max(saliency)[n]
        s = saliency[n]
        np.testing.assert_allclose(stretched, (s - s.min()) / (s.max() - s.min()))
        p = mask[n] * saliency[n]
        np.testing.assert_allclose(
            priority_map(mask, saliency)[n], (p - p.min()) / (p.max() - p.min())
        )
    assert normalize_min_max(saliency).min() == 0 and normalize_min_max(saliency).max() == 1
    # a constant map (nothing salient left) stretches to zeros, not NaN
    np.testing.assert_array_equal(normalize_min_max(np.full((2, H, W), 0.3)), 0)


def test_inhibition_of_return_against_the_update_equation():
    saliency = RNG.uniform(0, 1, (5, H, W))
    mask = RNG.uniform(0, 1, (5, H, W)) ** 3
    glimpsed = RNG.integers(0, H * W, (5, 2))
    glimpsed[0, 1] = glimpsed[0, 0]  # the same cell twice
    out = inhibition_of_return(saliency, mask, glimpsed)
    for n in range(5):
        np.testing.assert_allclose(out[n], reference_update(saliency[n], mask[n], glimpsed[n]))
    # the input is not modified
    assert not np.shares_memory(out, saliency) and (saliency > 0).all()


def test_torch_kernels_match_numpy():
    raw = RNG.normal(0, 2, (4, 4 * K))
    volume = RNG.normal(0, 1, (4, C, H, W))
    saliency = normalize_min_max(saliency_map(volume))
    glimpsed = RNG.integers(0, H * W, (4, 2))
    t = torch.from_numpy
    mask_np = gaussian_mixture_mask(*mixture_parameters(raw, (H, W)), (H, W))
    mask_t = gaussian_mixture_mask(*mixture_parameters(t(raw), (H, W)), (H, W))
    pairs = [
        (mask_np, mask_t),
        (saliency, normalize_min_max(saliency_map(t(volume)))),
        (priority_map(mask_np, saliency), priority_map(mask_t, t(saliency))),
        (covert_glimpse(mask_np, volume), covert_glimpse(mask_t, t(volume))),
        (
            inhibition_of_return(saliency, mask_np, glimpsed),
            inhibition_of_return(t(saliency), mask_t, t(glimpsed)),
        ),
    ]
    for expected, got in pairs:
        assert isinstance(got, torch.Tensor)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
