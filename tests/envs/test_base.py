import numpy as np
import pytest
import torch
from gymnasium import spaces

from visenv.envs.base import check_box_actions, check_discrete_actions


def test_discrete_actions_accept_ints_and_name_the_space():
    space = spaces.Discrete(4)
    np.testing.assert_array_equal(check_discrete_actions([0, 3], 4, 2, space), [0, 3])
    out = check_discrete_actions(torch.tensor([1, 2]), 4, 2, space, device=torch.device("cpu"))
    assert out.dtype == torch.int64
    for bad, error in [([0.0, 1.0], TypeError), ([0, 4], ValueError), ([[0, 1]], ValueError)]:
        with pytest.raises(error, match="Discrete"):
            check_discrete_actions(bad, 4, 2, space)


def test_box_actions_are_checked_never_clipped():
    space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    ok = check_box_actions(np.array([[0.5, -1.0], [1.0, 0.0]]), space, 2)
    assert ok.dtype == np.float64
    assert check_box_actions(ok, space, 2, device=torch.device("cpu")).dtype == torch.float32
    for bad, error in [
        (np.array([[0.5, 1.5], [0.0, 0.0]]), ValueError),
        (np.array([[np.nan, 0.0], [0.0, 0.0]]), ValueError),
        (np.zeros((2, 3)), ValueError),
        (np.array([["a", "b"], ["c", "d"]]), TypeError),
    ]:
        with pytest.raises(error, match="action space"):
            check_box_actions(bad, space, 2)
