"""Tests of the shared input checks (ebm_helpers._validation) not covered through the modules."""

import pytest

from ebm_helpers._validation import non_negative


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "x", None])
def test_non_negative_rejects_what_is_not_a_finite_number_at_least_zero(bad):
    with pytest.raises(ValueError, match="weight_decay must be a finite number ≥ 0"):
        non_negative(bad, "weight_decay")
    assert non_negative(0, "weight_decay") == 0.0 and non_negative("0.5", "l2") == 0.5
