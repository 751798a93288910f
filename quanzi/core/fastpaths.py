"""Fast paths: a few hot API operations answered in front of Django's request handling.

At a flash sale's start tens of thousands of buyers send the same request within a
minute, and each of them costs a web process the work of Django's middleware stack and
django-ninja's operation (a few milliseconds of CPU) around a step that itself costs a
Redis round trip. A feature app may register a *fast path* for such an operation
(``register(method, pattern, handler)`` from its ``ready()``); ``wrap`` puts the fast
paths in front of the WSGI application (``quanzi/wsgi.py``).

A fast path answers only what it can answer exactly as the API would; for anything else
its handler returns ``None`` and the request goes on to Django unchanged (its body given
back). The wrapper itself hands to Django every request that is not plain:

* a query string, a cookie (the storefront's session, its language, CSRF), a NUL in the
  path or a header, a host the shop does not serve, an HTTPS redirect or a disallowed
  user agent, a body that is not ``application/json`` of a known length within
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a JSON body that is not an object or holds a NUL.

What a request answered by a fast path keeps from Django's stack: the ``X-Request-ID``
in and out and the one ``request`` log line (``quanzi.core.logging``, with
``fast_path: true``); the response headers the middleware adds (security headers,
``Vary``, ``Content-Language`` of the negotiated language, ``X-Frame-Options``,
``Content-Length``); the ``request_started`` / ``request_finished`` signals (database
connections are recycled as for any request); and what a middleware offering
``observe_fast(request)`` records about signed-in requests (``risk``). The error shape
is the API's ``{code, message, detail}``; an unexpected error is the API's ``500
internal_error``. Tests pin that each fast path answers as the API does, case by case.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.client import responses
from typing import Any

from django.conf import settings

from quanzi.core.logging import (
    _request_var,
    clean_request_id,
    get_logger,
    http_log,
    new_request_id,
    request_id_var,
)

log = get_logger("quanzi.api")

_NUL = "\x00"

# The API's answer to the unexpected (a fast path's or the front's handler raising).
INTERNAL_ERROR = {
    "code": "internal_error",
    "message": "something went wrong on our side",
    "detail": {},
}


@dataclass
class FastRequest:
    """What a fast path's handler sees: the WSGI environ, the path's match, the body."""

    environ: dict[str, Any]
    match: re.Match
    body: bytes
    data: dict[str, Any]
    auth: Any = None
    _headers: Any = field(default=None, repr=False)

    @property
    def META(self) -> dict[str, Any]:  # noqa: N802 - Django's name, for shared helpers
        return self.environ

    @property
    def headers(self):
        if self._headers is None:
            from django.http.request import HttpHeaders

            self._headers = HttpHeaders(self.environ)
        return self._headers

    @property
    def path(self) -> str:
        return self.environ.get("SCRIPT_NAME", "") + self.environ.get("PATH_INFO", "")

    def bearer_user(self):
        """The user of the bearer token when the token cache has it; None otherwise (the
        API's own authentication then reads the database and fills the cache)."""
        from quanzi.accounts.services import token_user_cached

        token = self.bearer_token()
        return token_user_cached(raw=token) if token else None

    def bearer_token(self) -> str:
        """The token of an ``Authorization: Bearer`` header; empty without one."""
        parts = self.environ.get("HTTP_AUTHORIZATION", "").split(" ")
        if parts[0].lower() != "bearer":
            return ""
        return " ".join(parts[1:])


# A handler answers (status, JSON payload) or None: "let the API answer this one".
Handler = Callable[[FastRequest], "tuple[int, Any] | None"]

_routes: list[tuple[str, re.Pattern, Handler]] = []


def register(method: str, pattern: str, handler: Handler) -> None:
    """Serve ``method`` on paths matching ``pattern`` (a regular expression on the path
    below the script name, e.g. ``^/api/v1/flash-sales/(\\d+)/orders$``) with
    ``handler``, in front of Django."""
    _routes.append((method.upper(), re.compile(pattern), handler))


# The same on an event loop (``quanzi.core.front``): an async handler answering as its
# WSGI twin does.
AsyncHandler = Callable[[FastRequest], "Awaitable[tuple[int, Any] | None]"]

_async_routes: list[tuple[str, re.Pattern, AsyncHandler]] = []


def register_async(method: str, pattern: str, handler: AsyncHandler) -> None:
    """Serve ``method`` on ``pattern`` in the async front (``quanzi front``) with the
    coroutine ``handler``; it answers exactly what the WSGI fast path answers."""
    _async_routes.append((method.upper(), re.compile(pattern), handler))


def async_route(method: str, path: str) -> tuple[AsyncHandler, re.Match] | None:
    for route_method, rx, handler in _async_routes:
        if route_method == method:
            match = rx.match(path)
            if match is not None:
                return handler, match
    return None


def registered() -> list[tuple[str, str]]:
    return [(method, rx.pattern) for method, rx, _ in _routes]


def wrap(app):
    """The WSGI application ``app`` with the registered fast paths in front of it
    (``app`` itself when ``FAST_PATHS`` is off)."""
    if not settings.FAST_PATHS:
        return app

    def application(environ, start_response):
        if _routes:
            method = environ.get("REQUEST_METHOD", "")
            path = environ.get("PATH_INFO", "")
            for route_method, rx, handler in _routes:
                if route_method != method:
                    continue
                match = rx.match(path)
                if match is None:
                    continue
                answer = _serve(handler, match, environ, start_response)
                if answer is not None:
                    return answer
                break
        return app(environ, start_response)

    application.django = app  # type: ignore[attr-defined]
    return application


# --- what the wrapper checks before a handler runs ---------------------------------------

_hosts_seen: dict[tuple, bool] = {}


def _host_allowed(environ) -> bool:
    key = (
        environ.get("HTTP_X_FORWARDED_HOST"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
    )
    known = _hosts_seen.get(key)
    if known is None:
        from django.core.exceptions import DisallowedHost
        from django.http import HttpRequest

        probe = HttpRequest()
        probe.META = environ
        try:
            probe.get_host()
            known = True
        except DisallowedHost:
            known = False
        if len(_hosts_seen) > 1000:
            _hosts_seen.clear()
        _hosts_seen[key] = known
    return known


def _is_secure(environ) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, secure_value = header
        value = environ.get(name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _plain(environ) -> bool:
    """A request without what only Django's stack handles (see the module's docstring)."""
    if environ.get("QUERY_STRING") or environ.get("HTTP_COOKIE"):
        return False
    if _NUL in environ.get("PATH_INFO", "") or _NUL in environ.get("SCRIPT_NAME", ""):
        return False
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str) and _NUL in value:
            return False
    if settings.DISALLOWED_USER_AGENTS:
        return False
    if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
        return False
    return _host_allowed(environ)


def _read_json(environ) -> tuple[bytes, dict[str, Any]] | None:
    """The body and its JSON object, or None (the body, if read, is given back)."""
    length = _json_length(environ)
    if length is None:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if we hand over
    data = json_object(body, length)
    return None if data is None else (body, data)


def _json_length(environ) -> int | None:
    """The declared length of a JSON body a fast path may read, or None."""
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        return None
    return length


def json_object(body: bytes, length: int) -> dict[str, Any] | None:
    """The JSON object of a body of the declared length, or None (not all there, a NUL,
    not JSON, not an object)."""
    if len(body) != length or b"\x00" in body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    from quanzi.core.middleware import _has_nul

    if _has_nul(data):
        return None
    return data


def json_request(environ, body: bytes) -> dict[str, Any] | None:
    """A whole body already read (the async front): its JSON object when a fast path may
    answer it, as ``_read_json`` decides."""
    length = _json_length(environ)
    return None if length is None else json_object(body, length)


# --- the answer -------------------------------------------------------------------------


def _language(environ) -> str:
    from django.utils import translation

    probe = _LanguageProbe(environ)
    return translation.get_language_from_request(probe)


class _LanguageProbe:
    """The parts of a request ``get_language_from_request`` reads (no cookie here)."""

    COOKIES: dict[str, str] = {}

    def __init__(self, environ):
        self.META = environ
        self.path_info = environ.get("PATH_INFO", "")


def _headers(environ, request_id: str, length: int, language: str) -> list[tuple[str, str]]:
    """The headers Django's middleware stack gives an API answer to such a request."""
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Vary", "Accept-Language, Cookie"),
        ("Content-Language", language),
        ("X-Frame-Options", settings.X_FRAME_OPTIONS),
        ("Content-Length", str(length)),
        ("X-Request-ID", request_id),
    ]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_HSTS_SECONDS and _is_secure(environ):
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        headers.append(("Strict-Transport-Security", sts))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        if not isinstance(policy, str):
            policy = ",".join(policy)
        headers.append(("Referrer-Policy", policy))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers


_observers: list[Callable[[Any], None]] | None = None


def _observe(request: FastRequest) -> None:
    """What the middleware offering ``observe_fast`` records about the request."""
    global _observers
    if _observers is None:
        from django.utils.module_loading import import_string

        found = []
        for path in settings.MIDDLEWARE:
            hook = getattr(import_string(path), "observe_fast", None)
            if hook is not None:
                found.append(hook)
        _observers = found
    for hook in _observers:
        try:
            hook(request)
        except Exception:  # noqa: BLE001 - recording never breaks a request
            pass


def _serve(handler: Handler, match: re.Match, environ, start_response):
    if not _plain(environ):
        return None
    from django.core import signals
    from django.utils import translation

    started = time.monotonic()
    read = _read_json(environ) if environ.get("REQUEST_METHOD") in ("POST", "PUT") else None
    if read is None and environ.get("REQUEST_METHOD") in ("POST", "PUT"):
        return None
    body, data = read if read is not None else (b"", {})
    request = FastRequest(environ=environ, match=match, body=body, data=data)
    request_id = clean_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id()
    id_token = request_id_var.set(request_id)
    request_token = _request_var.set(request)
    signals.request_started.send(sender=FastRequest, environ=environ)
    try:
        language = _language(environ)
        translation.activate(language)
        try:
            answer = handler(request)
        except Exception:  # noqa: BLE001 - the API's answer to the unexpected
            log.exception("unexpected error", extra={"path": request.path})
            answer = (500, INTERNAL_ERROR)
        if answer is None:
            return None
        status, payload = answer
        content = json.dumps(payload, ensure_ascii=False).encode()
        _observe(request)
        start_response(
            f"{status} {responses.get(status, 'Unknown Status Code')}",
            _headers(environ, request_id, len(content), language),
        )
        http_log.log(
            logging.INFO,
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "fast_path": True,
            },
        )
        return [content]
    finally:
        signals.request_finished.send(sender=FastRequest)
        _request_var.reset(request_token)
        request_id_var.reset(id_token)
