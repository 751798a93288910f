"""Transactions of a request that either does all its work or none of it.

A service opens its own transaction (``transaction.atomic()``); called inside another
one, Django makes it a savepoint — two statements more — so that a caller may catch
the service's failure and go on. A request whose failure rolls everything back (an API
call under ``Idempotency-Key``: the work and the key's record commit together or not at
all) never goes on after a failure, so its services need no savepoint:

* ``all_or_nothing()`` opens such a transaction;
* ``service_atomic()`` is a service's transaction: inside ``all_or_nothing()`` it joins
  the outer transaction without a savepoint; anywhere else it is ``transaction.atomic()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db import transaction

_whole = ContextVar("quanzi_all_or_nothing", default=False)
T = TypeVar("T")


@contextmanager
def all_or_nothing() -> Iterator[None]:
    with transaction.atomic():
        token = _whole.set(True)
        try:
            yield
        finally:
            _whole.reset(token)


def service_atomic() -> transaction.Atomic:
    if _whole.get() and transaction.get_connection().in_atomic_block:
        return transaction.atomic(savepoint=False)
    return transaction.atomic()


# --- conflicts the database asks us to retry ---------------------------------------------

# PostgreSQL aborts a transaction that lost a serialization conflict (40001) or was picked
# as a deadlock's victim (40P01); it did nothing, and the same work run again normally
# succeeds.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
CONFLICT_ATTEMPTS = 3


def is_retryable_conflict(exc: BaseException) -> bool:
    """True for a serialization failure or a deadlock reported by the database."""
    from django.db import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return state in RETRYABLE_SQLSTATES


def retry_on_conflict(func: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS) -> T:
    """Run ``func`` — a whole transaction of its own — again when the database aborts it
    for a serialization failure or a deadlock, up to ``attempts`` times in all.

    Only where it is safe: ``func`` opens the outermost transaction, so an aborted attempt
    left nothing behind, and it does no network call. Inside a caller's transaction there
    is nothing to retry here (the caller's whole transaction is aborted): the error goes
    up to where that transaction began.
    """
    from quanzi.core.logging import get_logger

    attempt = 1
    while True:
        try:
            return func()
        except Exception as exc:
            if (
                attempt >= attempts
                or not is_retryable_conflict(exc)
                or transaction.get_connection().in_atomic_block
            ):
                raise
            get_logger("quanzi.db").warning(
                "database conflict; the transaction is run again",
                extra={"attempt": attempt, "error": str(exc.__cause__ or exc)[:200]},
            )
            attempt += 1
