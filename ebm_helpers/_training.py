"""Bookkeeping shared by the package's training loops (private).

``History`` is the per-epoch record that ``rbm.TrainHistory``, ``dbn.FineTuneHistory`` and
``cf.CFHistory`` extend; ``record_epoch`` is the end-of-epoch step of ``rbm.train_rbm`` and
``dbn.fine_tune``: call the user's callback and append the epoch's values to the history.

``DivergenceGuard`` is the divergence guard every training loop of the package calls: it stops
a run whose loss or parameters are non-finite *or running away* (a parameter magnitude above a
limit, a loss grown far beyond its first value) with a ``RuntimeError`` that names the likely
cause and the fix, instead of letting it end silently with weights of 1e15.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch


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


class DivergenceGuard:
    """Stops a diverging training run with a message naming the likely cause and the fix.

    Three signs of divergence are checked:

    * a loss or parameter that is NaN or infinite;
    * a parameter entry whose magnitude exceeds ``max_param`` (``check_params``, default 1e3):
      the largest weight in the notebooks' runs is about 10, while an absurd learning rate
      drives them to 1e5–1e15 with a finite loss (saturated units);
    * a loss whose magnitude exceeds ``loss_factor`` × max(|first loss|, ``loss_floor``)
      (``check_loss``, the first loss being the one of the first call; in the notebooks' runs
      the ratio stays below 5), or ``max_loss``.

    Args:
        name: what is trained, e.g. ``"fine-tuning"`` (the message starts with it).
        fix: what to do, e.g. ``"lower lr (now 0.1), e.g. 10×"``.
        params: the parameters to watch (tensors; read without autograd).
        max_param: the largest parameter magnitude allowed (``None``: no check).
        loss_factor: the runaway factor for the loss (``None``: no relative check).
        loss_floor: the smallest reference magnitude of the relative check.
        max_loss: an absolute upper bound on the loss (``None``: none).
        cause: the likely cause, written before the fix.
    """

    def __init__(self, name: str, fix: str, params: Iterable[torch.Tensor] = (),
                 max_param: float | None = 1e3, loss_factor: float | None = 1e3,
                 loss_floor: float = 1.0, max_loss: float | None = None,
                 cause: str = "the learning rate is probably too high"):
        self.name, self.fix, self.cause = name, fix, cause
        self.params = [p for p in params if isinstance(p, torch.Tensor) and p.numel()]
        self.max_param, self.loss_factor = max_param, loss_factor
        self.loss_floor, self.max_loss = loss_floor, max_loss
        self.reference: float | None = None

    def error(self, when: str, what: str) -> RuntimeError:
        """The ``RuntimeError`` raised for a run that diverged ``when`` because ``what``."""
        return RuntimeError(
            f"{self.name} diverged {when}: {what}. {self.cause[:1].upper()}{self.cause[1:]}; "
            f"{self.fix}, and restart from a fresh model (these weights are ruined)."
        )

    def check_loss(self, when: str, loss) -> float:
        """Check one loss value (a float or a 0-dim tensor); return it as a float."""
        value = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if not math.isfinite(value):
            raise self.error(when, f"the loss became {value}")
        if self.max_loss is not None and value > self.max_loss:
            raise self.error(when, f"the loss reached {value:.3g} > max_loss = {self.max_loss:g}")
        if self.loss_factor is not None:
            if self.reference is None:
                self.reference = max(abs(value), self.loss_floor)
            elif abs(value) > self.loss_factor * self.reference:
                raise self.error(
                    when, f"the loss ran away to {value:.3g}, more than {self.loss_factor:g}× "
                    f"the size of its first value (reference {self.reference:.3g})")
        return value

    def check_params(self, when: str) -> None:
        """Check the watched parameters for non-finite entries and runaway magnitudes."""
        if not self.params:
            return
        with torch.no_grad():
            biggest = float(torch.stack([p.detach().abs().amax().to(torch.float64).cpu()
                                         for p in self.params]).max())
        if not math.isfinite(biggest):
            raise self.error(when, "the parameters became NaN or infinite")
        if self.max_param is not None and biggest > self.max_param:
            raise self.error(
                when, f"a parameter reached magnitude {biggest:.3g} > {self.max_param:g} "
                "(the weights are running away although the loss may still look finite)")

    def check(self, when: str, loss=None, params: bool = True) -> float | None:
        """``check_loss`` (when a loss is given) and, if ``params``, ``check_params``."""
        value = None if loss is None else self.check_loss(when, loss)
        if params:
            self.check_params(when)
        return value
