"""Structured logs: one JSON object per line, with the ids of what the event touched.

* ``JsonFormatter`` writes each record as one JSON object with every ``extra={...}`` field.
* ``RequestIdMiddleware`` takes ``X-Request-ID`` from the proxy (or makes one), answers
  with it, keeps it in a context variable for the request, and logs one line per request.
* ``ContextFilter`` adds that request id, the user id and any ids bound with
  ``log_context(order_id=...)`` to every record, so that one request (or one background
  task, see ``quanzi.core.celery``) can be followed through the logs of every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quanzi_request_id", default=None
)
_request_var: contextvars.ContextVar[Any] = contextvars.ContextVar("quanzi_request", default=None)
_bound_var: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "quanzi_log_bound", default=None
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """An incoming id is kept only when it is short and plain (it ends up in every log line)."""
    if value and _REQUEST_ID.match(value):
        return value
    return None


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (order_id=..., payment_id=...) to every record logged inside the block."""
    token = _bound_var.set({**(_bound_var.get() or {}), **fields})
    try:
        yield
    finally:
        _bound_var.reset(token)


def _user_id(request: Any) -> int | None:
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "pk", None) is not None:
        return auth.pk
    user = request.__dict__.get("user")
    if user is None:
        return None
    from django.utils.functional import LazyObject, empty

    if isinstance(user, LazyObject):
        wrapped = user._wrapped
        if wrapped is empty:  # never looked at: do not query the database for a log line
            return None
        user = wrapped
    if getattr(user, "is_authenticated", False):
        return user.pk
    return None


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``user_id`` and the bound ids to every record (never overwrites)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id and not hasattr(record, "request_id"):
            record.request_id = request_id
        request = _request_var.get()
        if request is not None and not hasattr(record, "user_id"):
            try:
                user_id = _user_id(request)
            except Exception:  # noqa: BLE001 - a log line must never fail
                user_id = None
            if user_id is not None:
                record.user_id = user_id
        for key, value in (_bound_var.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (test runners swap it per test).

    On a thread running an event loop (``quanzi front``) the lines of one turn of the
    loop are written together when the turn ends, one write for many requests' lines
    instead of one each; every other thread writes each line as it comes."""

    def __init__(self) -> None:
        super().__init__()
        self._turns: dict[int, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        loop = asyncio._get_running_loop()
        if loop is None:
            super().emit(record)
            return
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - a log line must never fail
            self.handleError(record)
            return
        lines = self._turns.get(id(loop))
        if lines is None:
            lines = self._turns[id(loop)] = []
            loop.call_soon(self._write_turn, id(loop))
        lines.append(line)

    def _write_turn(self, loop_id: int) -> None:
        lines = self._turns.pop(loop_id, None)
        if not lines:
            return
        with self.lock:
            try:
                stream = self.stream
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except Exception:  # noqa: BLE001 - a log line must never fail
                pass

    @property
    def stream(self):  # type: ignore[override]
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("quanzi") else f"quanzi.{name}")


_quiet_paths = ("/healthz", "/readyz", "/static/", "/favicon.ico")
http_log = logging.getLogger("quanzi.http")


class RequestIdMiddleware:
    """``X-Request-ID`` in and out; one ``request`` log line per request with its duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = clean_request_id(request.headers.get("X-Request-ID")) or new_request_id()
        request.request_id = request_id
        id_token = request_id_var.set(request_id)
        request_token = _request_var.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            quiet = request.path.startswith(_quiet_paths)
            http_log.log(
                logging.DEBUG if quiet else logging.INFO,
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request_var.reset(request_token)
            request_id_var.reset(id_token)
