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

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_whole = ContextVar("quanzi_all_or_nothing", default=False)


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
