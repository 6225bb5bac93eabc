"""Tests of the training loops' shared bookkeeping (ebm_helpers._training)."""

import pytest

from ebm_helpers._training import record_epoch
from ebm_helpers.rbm import TrainHistory


def test_record_epoch_merges_the_callback_values_and_records_them():
    history = TrainHistory()
    seen = []

    def callback(epoch, model, metrics):
        seen.append((epoch, model, metrics))
        metrics["loss"] = -1.0  # a copy: must not leak into the record
        return {"extra": 2.0}

    out = record_epoch(history, {"epoch": 3, "loss": 0.5}, callback, 3, "model")
    assert out == {"epoch": 3, "loss": 0.5, "extra": 2.0}
    assert seen[0][:2] == (3, "model")
    assert history["loss"] == [0.5] and history["extra"] == [2.0] and history["epoch"] == [3]


def test_record_epoch_without_callback_and_with_a_bad_one():
    history = TrainHistory()
    record_epoch(history, {"epoch": 1, "loss": 0.1}, None, 1, None)
    assert history["loss"] == [0.1]
    with pytest.raises(ValueError, match="callback must return None or a dict"):
        record_epoch(history, {"epoch": 2}, lambda *a: 5, 2, None)


def test_every_training_history_shares_the_history_record():
    from ebm_helpers._training import History
    from ebm_helpers.cf import CFHistory
    from ebm_helpers.dbn import FineTuneHistory

    for cls in (TrainHistory, FineTuneHistory, CFHistory):
        h = cls()
        assert isinstance(h, History) and "loss" not in h
        h._add("loss", 1.0)
        h._add("loss", 0.5)
        assert h["loss"] == [1.0, 0.5] and "loss" in h
