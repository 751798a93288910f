"""Helpers for Quanzi's own tests (imported by tests only)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from quanzi.core.errors import QuanziError


def race(calls: Sequence[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run each call in its own thread, all released together by a barrier.

    Returns, per call, its result, the ``code`` of a ``QuanziError`` it raised, or the
    ``repr`` of any other exception. Each thread closes its own database connection.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except QuanziError as exc:
            results[index] = exc.code
        except Exception as exc:  # noqa: BLE001 - handed to the test's assertions
            results[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    assert not any(thread.is_alive() for thread in threads), "a client hung (deadlock?)"
    return results
