"""Bookkeeping shared by the package's training loops (private).

``record_epoch`` is the end-of-epoch step of ``rbm.train_rbm`` and ``dbn.fine_tune``: call the
user's callback and append the epoch's values to the history.
"""

from __future__ import annotations

from collections.abc import Callable


def record_epoch(history, metrics: dict, callback: Callable | None, epoch: int, model) -> dict:
    """Call ``callback(epoch, model, metrics)``, merge the dict it may return, record everything.

    Args:
        history: an object with ``_add(key, value)`` (``TrainHistory``, ``FineTuneHistory``).
        metrics: this epoch's values.
        callback: ``None`` or a function returning ``None`` or a dict of extra values.
        epoch: the epoch number passed to the callback.
        model: the model passed to the callback.

    Returns:
        The recorded values (``metrics`` plus the callback's).

    Raises:
        ValueError: if the callback returns something other than ``None`` or a dict.
    """
    if callback is not None:
        extra = callback(epoch, model, dict(metrics))
        if extra is not None:
            if not isinstance(extra, dict):
                raise ValueError(
                    "callback must return None or a dict of values to record, got "
                    f"{type(extra).__name__}"
                )
            metrics = {**metrics, **extra}
    for key, value in metrics.items():
        history._add(key, value)
    return metrics
