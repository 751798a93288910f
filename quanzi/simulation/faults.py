"""Faults the simulation (and the fault-injection tests) put into a running shop.

* ``GatewayFaults``: the payment gateway, on refund and payout calls, errors (a definite
  refusal), times out before doing anything, times out *after* doing it (the answer is
  lost: the money moved but the caller never heard), or answers twice.
* ``killed``: a worker dies between two steps of a sweep. ``WorkerKilled`` derives from
  ``BaseException``, as a dying process's interruption would, so no ``except Exception``
  in the sweep swallows it: the step in flight rolls back, what committed before stays.
"""

from __future__ import annotations

import contextlib
import importlib
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any


class WorkerKilled(BaseException):
    """The process running a sweep stopped here."""


class GatewayTimeout(TimeoutError):
    """The gateway did not answer in time (it may or may not have done the work)."""


# What a gateway call can suffer, and how often (out of 100) while faults are on.
MODES = ("ok", "error", "timeout_before", "timeout_after", "twice")
WEIGHTS = (70, 8, 8, 8, 6)


class GatewayFaults:
    """Wraps the sandbox gateway's ``refund`` and ``payout`` with seeded faults."""

    def __init__(self, rng: random.Random, *, counter: Counter | None = None):
        self.rng = rng
        self.enabled = True
        self.counter = counter if counter is not None else Counter()
        self.forced: list[str] = []  # modes for the next calls, before the random ones

    def _mode(self) -> str:
        if self.forced:
            return self.forced.pop(0)
        if not self.enabled:
            return "ok"
        return self.rng.choices(MODES, weights=WEIGHTS)[0]

    def _call(self, what: str, real: Callable[..., Any], number: str, kind: str, **kwargs):
        from quanzi.payments.models import SandboxRecord

        mode = self._mode()
        if mode == "error" and SandboxRecord.objects.filter(kind=kind, number=number).exists():
            # A gateway never refuses a number it has paid: it answers late instead.
            mode = "timeout_before"
        if mode != "ok":
            self.counter[f"gateway_{what}_{mode}"] += 1
        if mode == "error":
            return _failed(what)
        if mode == "timeout_before":
            raise GatewayTimeout(f"sandbox {what} timed out")
        result = real(**kwargs)
        if mode == "timeout_after":
            raise GatewayTimeout(f"sandbox {what} timed out after paying")
        if mode == "twice":
            result = real(**kwargs)
        return result

    @contextlib.contextmanager
    def installed(self) -> Iterator[GatewayFaults]:
        from quanzi.payments.gateways import get_gateway

        gateway = get_gateway("sandbox")
        real_refund, real_payout = gateway.refund, gateway.payout

        def refund(**kwargs):
            return self._call("refund", real_refund, kwargs["refund_no"], "refund", **kwargs)

        def payout(**kwargs):
            return self._call("payout", real_payout, kwargs["payout_no"], "payout", **kwargs)

        gateway.refund, gateway.payout = refund, payout
        try:
            yield self
        finally:
            del gateway.refund, gateway.payout


def _failed(what: str):
    from quanzi.payments.gateways.base import PayoutResult, RefundResult

    error = f"sandbox {what} refused (injected)"
    if what == "refund":
        return RefundResult(succeeded=False, error=error)
    return PayoutResult(succeeded=False, error=error)


# Where each sweep can be killed: the function it calls once per item. The kill comes
# before the k-th item ("before") or right after it did its work, inside its
# transaction ("after": the work is rolled back as if the process died before commit).
KILL_POINTS: dict[str, str] = {
    "orders.expire_unpaid": "quanzi.orders.services._release",
    "orders.auto_confirm": "quanzi.orders.services._complete",
    "orders.settle_due": "quanzi.orders.services._settle_many",
    "groupbuy.expire_groups": "quanzi.groupbuy.services._refund_if_owed",
    "groupbuy.refund_stragglers": "quanzi.groupbuy.services._refund_if_owed",
    "groupbuy.ship_stragglers": "quanzi.groupbuy.services.member_ship",
    "payments.retry_refunds": "quanzi.payments.services.refund_book_success",
    "distribution.retry_payouts": "quanzi.distribution.withdrawals.withdrawal_book_paid",
    "membership.fulfil_orders": "quanzi.membership.services.membership_order_fulfil",
    "bargain.expire": "quanzi.bargain.services.bargain_lock",
}


@contextlib.contextmanager
def killed(target: str, *, at_call: int = 1, when: str = "before") -> Iterator[dict[str, int]]:
    """Replace the function at dotted path ``target`` so that its ``at_call``-th call
    raises ``WorkerKilled`` (before doing its work, or after it). Yields a dict whose
    ``calls`` says how often it was called."""
    module_name, _, name = target.rpartition(".")
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    seen = {"calls": 0}

    def wrapper(*args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == at_call and when == "before":
            raise WorkerKilled(f"killed before {name} call {at_call}")
        result = real(*args, **kwargs)
        if seen["calls"] == at_call and when == "after":
            raise WorkerKilled(f"killed after {name} call {at_call}")
        return result

    setattr(module, name, wrapper)
    try:
        yield seen
    finally:
        setattr(module, name, real)


@contextlib.contextmanager
def seeded_draws(rng: random.Random) -> Iterator[None]:
    """Bargain seeds and lottery draws come from ``secrets``; during a run they come from
    the run's own generator, so that the same seed cuts and draws alike."""
    import secrets

    from quanzi.bargain import services as bargain_services
    from quanzi.rewards import lottery

    class _Seeded:
        def __getattr__(self, name: str):
            return getattr(secrets, name)

        @staticmethod
        def randbits(k: int) -> int:
            return rng.getrandbits(k)

    shim = _Seeded()
    saved = (bargain_services.secrets, lottery.secrets)
    bargain_services.secrets = lottery.secrets = shim  # type: ignore[assignment]
    try:
        yield
    finally:
        bargain_services.secrets, lottery.secrets = saved
