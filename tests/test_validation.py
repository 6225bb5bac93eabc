"""Tests of the shared input checks (ebm_helpers._validation) not covered through the modules."""

import pytest

from ebm_helpers._validation import non_negative


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "x", None])
def test_non_negative_rejects_what_is_not_a_finite_number_at_least_zero(bad):
    with pytest.raises(ValueError, match="weight_decay must be a finite number ≥ 0"):
        non_negative(bad, "weight_decay")
    assert non_negative(0, "weight_decay") == 0.0 and non_negative("0.5", "l2") == 0.5


def test_kind_checks_and_estimates_name_the_argument_and_the_fix():
    import numpy as np
    import torch

    from ebm_helpers import _validation as V

    assert V.as_generator(None) is None
    g = torch.Generator()
    assert V.as_generator(g) is g
    with pytest.raises(V.ArgumentTypeError, match=r"NumPy Generator.*manual_seed"):
        V.as_generator(np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"the integer 3; to seed, pass"):
        V.as_generator(3)
    with pytest.raises(ValueError, match=r"x must be in \(0, 1\], got 0"):
        V.in_range(0, "x", 0.0, 1.0, low_open=True)
    with pytest.raises(ValueError, match=r"single number"):
        V.number(torch.ones(2), "lr")
    with pytest.raises(ValueError, match="must be a positive number, got True"):
        V.positive(True, "lr")
    with pytest.raises(ValueError, match=r"about 8 GB of memory.*shrink n"):
        V.check_memory(2**30, "n", "this")
    V.check_memory(2**20, "n", "this")  # 8 MB: fine
    with pytest.raises(ValueError, match=r"about 1e\+13 multiply-adds, roughly 83 min.*shrink k"):
        V.check_cost(1e13, "k", "this")
    x = V.as_model_input(np.zeros((2, 3)), torch.zeros(1, dtype=torch.float32), 3)
    assert x.dtype == torch.float32 and x.shape == (2, 3)
    assert V.as_points(torch.zeros(2, 2, dtype=torch.float16)).dtype == torch.float32
    assert V.widths((4, 5)) == [4, 5]
    with pytest.raises(ValueError, match="list of layer widths"):
        V.widths(4)
