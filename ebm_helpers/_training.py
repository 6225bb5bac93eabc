"""Bookkeeping shared by the package's training loops (private).

``History`` is the per-epoch record that ``rbm.TrainHistory``, ``dbn.FineTuneHistory`` and
``cf.CFHistory`` extend; ``record_epoch`` is the end-of-epoch step of ``rbm.train_rbm`` and
``dbn.fine_tune``: call the user's callback and append the epoch's values to the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class History:
    """Lists of per-epoch values by name: ``history["loss"]`` is one entry per epoch."""

    metrics: dict[str, list] = field(default_factory=dict)

    def __getitem__(self, key: str) -> list:
        return self.metrics[key]

    def __contains__(self, key: str) -> bool:
        return key in self.metrics

    def _add(self, key, value) -> None:
        self.metrics.setdefault(key, []).append(value)


def record_epoch(
    history: History, metrics: dict, callback: Callable | None, epoch: int, model
) -> dict:
    """Call ``callback(epoch, model, metrics)``, merge the dict it may return, record everything.

    Args:
        history: a ``History``.
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
