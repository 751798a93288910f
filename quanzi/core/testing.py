"""Helpers for Quanzi's own tests (imported by tests only)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import connection

from quanzi.core.errors import QuanziError

# Every race on PostgreSQL opens one connection per call. Two test processes (xdist
# workers, or two runs on one machine) racing 64 clients each at the same moment would
# pass the server's 100 connections and see "too many clients" answers that are not the
# code's. Races on one PostgreSQL server therefore take turns across processes.
_RACE_LOCK = Path(tempfile.gettempdir()) / "quanzi-test-races.lock"


@contextlib.contextmanager
def _one_race_at_a_time() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    try:
        fd = os.open(_RACE_LOCK, os.O_RDONLY | os.O_CREAT, 0o666)  # flock needs no write
    except OSError:  # another user's lock file: run unserialized rather than not at all
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def race(calls: Sequence[Callable[[], Any]], *, timeout: float = 60) -> list[Any]:
    """Run each call in its own thread, all released together by a barrier.

    Returns, per call, its result, the ``code`` of a ``QuanziError`` it raised, or the
    ``repr`` of any other exception. Each thread closes its own database connection.
    On PostgreSQL, races of different processes run one after the other.
    """
    with _one_race_at_a_time():
        return _race(calls, timeout=timeout)


def _race(calls: Sequence[Callable[[], Any]], *, timeout: float) -> list[Any]:
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


# --- a WSGI application called in-process (fast paths against Django) -----------------


class WsgiAnswer:
    """A WSGI application's answer: status, headers, body."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.reason = status
        self.headers = dict(headers)
        self.body = body

    def json(self):
        return json.loads(self.body)

    def headers_but_request_id(self):
        return {k: v for k, v in self.headers.items() if k != "X-Request-ID"}


class CountingDjango:
    """Django's own WSGI handler, counting the requests it is handed."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def wsgi_call(app, environ) -> WsgiAnswer:
    """Call the WSGI ``app`` with ``environ`` on the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    # As Django's test client does: the test's transaction keeps its connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = app(environ, start_response)
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return WsgiAnswer(seen["status"], seen["headers"], body)


def post_environ(path, body, *, token=None, headers=None, raw=None, content_type=None) -> dict:
    """The WSGI environ of a JSON ``POST`` (``raw``: the body as sent, instead of ``body``)."""
    from django.test import RequestFactory

    extra = dict(headers or {})
    if token is not None:
        extra["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body)
    request = RequestFactory().post(
        path, data=data, content_type=content_type or "application/json", headers=extra
    )
    return request.environ
