"""``quanzi front``: the fast paths on an event loop, every other request handed on.

A flash sale's start is tens of thousands of identical requests within a minute, each
worth one Redis round trip. Under the WSGI server each of them also holds a process
blocked while Redis answers (and, under the sync workers it once had, a TCP connection); the WSGI fast
path (``quanzi.core.fastpaths``) removed Django's stack from it but not those. The front
is an ASGI application served by uvicorn (``quanzi front``): connections are kept
alive, and a process serves many requests at once, each waiting on Redis without
holding the process. nginx sends the paths that have a fast path to the front and the
rest to ``quanzi serve`` (``deploy/nginx/quanzi.conf``).

* A request matching a path registered with ``fastpaths.register_async`` and plain as
  the WSGI fast path requires it (``fastpaths._plain``, a JSON object body) is answered
  by the async handler, with what the WSGI fast path gives its answers: the status, the
  body, the headers of Django's middleware (``fastpaths._headers``), the
  ``X-Request-ID``, the one ``request`` log line (``fast_path: true, front: true``),
  and the request's record for risk (``observe_fast``, run on a thread: it may write).
* The bearer token is read from the token cache's id entry
  (``accounts.services.token_id_cache_key``: the user id as digits) with an asyncio
  Redis client; a token the cache does not hold goes on to Django, which reads it from
  the database and fills the cache, as it does for the WSGI fast path.
* Anything else — another path, a handler answering ``None``, a token not cached, a
  query string, a cookie — is sent to the upstream (``QUANZI_FRONT_UPSTREAM``: the
  ``quanzi serve`` instances) as it came, headers and body, and its answer is returned as it
  is. The front adds nothing to ``X-Forwarded-For``: it stands beside ``quanzi serve`` behind
  the same nginx, whose addresses ``QUANZI_PROXY_COUNT`` counts.
* When the token cache lives on the Redis a handler's script runs on (the flash gate's),
  the handler hands the script the cache's key instead (``bearer_user_key``) and the
  script reads the buyer in the same step: one round trip for the request, not two.
* What a handler must do with the database (the sale's item read once a second, a gate
  rebuild, waking a writer) runs on a thread of the front's (``run_sync``), never on
  the loop.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from quanzi.core import fastpaths
from quanzi.core.logging import (
    clean_request_id,
    get_logger,
    http_log,
    new_request_id,
    request_id_var,
)

log = get_logger("quanzi.api")

# Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@dataclass(frozen=True)
class SignedIn:
    """The buyer of a request the front answers: known by id alone."""

    pk: int
    is_authenticated: bool = True


def environ_of(scope: dict, body: bytes) -> dict[str, Any]:
    """A WSGI environ of an ASGI request, for the checks and helpers the WSGI fast path
    shares (as the WSGI server would have built it)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    root, path = scope.get("root_path", ""), scope["path"]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": _wsgi_str(root),
        "PATH_INFO": _wsgi_str(path[len(root) :] if root and path.startswith(root) else path),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _wsgi_str(text: str) -> str:
    """A decoded path as WSGI gives it: its UTF-8 bytes read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


class Upstream:
    """Django behind the front, over HTTP (``QUANZI_FRONT_UPSTREAM``): one keep-alive
    client session per event loop."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self._session = None
        self._loop = None

    async def forward(self, scope: dict, body: bytes) -> tuple[int, list, bytes]:
        import aiohttp
        from yarl import URL

        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                timeout=aiohttp.ClientTimeout(total=65),
            )
        target = self.base + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", [])
            if name.decode("latin-1").lower() not in _HOP and name.lower() != b"content-length"
        ]
        async with self._session.request(
            scope["method"],
            URL(target, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as answer:
            content = await answer.read()
            out = [
                (name, value)
                for name, value in answer.raw_headers
                if name.decode("latin-1").lower() not in _HOP and name.lower() != b"content-length"
            ]
        out.append((b"content-length", str(len(content)).encode()))
        return answer.status, out, content

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Front:
    """The ASGI application (``quanzi.asgi``)."""

    def __init__(self, *, upstream, run_sync=None):
        self.upstream = upstream
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="front-sync")
        self._run_sync = run_sync
        self._cache = None

    # -- what the handlers get -----------------------------------------------------------

    async def run_sync(self, fn, *args, **kwargs):
        """``fn`` on a thread of the front's (the database's connections are per thread
        and are recycled as a request's would be)."""
        if self._run_sync is not None:
            return self._run_sync(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _in_thread, fn, args, kwargs)

    async def token_user_id(self, raw: str) -> int | None:
        """The user id of a bearer token the token cache holds; None otherwise."""
        entry = self._token_entry(raw)
        if entry is None:
            return None
        client, key = entry
        try:
            value = await client.get(key)
        except Exception:  # noqa: BLE001 - the cache is an accelerator: Django decides
            log.warning("token cache unavailable", exc_info=True)
            return None
        if value is None or not value.isdigit():
            return None
        return int(value)

    def token_key(self, raw: str, *, on: str) -> str | None:
        """The token cache's key of the token's user id when that cache is the Redis at
        the URL ``on`` (a script there reads the user itself, in the same round trip);
        None otherwise."""
        if _cache_url() != on:
            return None
        entry = self._token_entry(raw)
        return None if entry is None else entry[1]

    def _token_entry(self, raw: str):
        """(the token cache's client, the key of the token's user id); None without a
        token or a Redis token cache."""
        from quanzi.accounts.services import token_id_cache_key

        if not raw or not settings.AUTH_TOKEN_CACHE_SECONDS:
            return None
        found = self._cache_client()
        if found is None:
            return None
        client, backend = found
        return client, backend.make_key(token_id_cache_key(raw=raw))

    def _cache_client(self):
        """(an asyncio client of the token cache's Redis, the cache backend that names its
        keys), made once per event loop; None without a Redis cache."""
        loop = asyncio.get_running_loop()
        if self._cache is not None and self._cache[0] is loop:
            return self._cache[1]
        url = _cache_url()
        if url is None:
            return None  # no shared token cache: every request is Django's
        import redis.asyncio
        from django.core.cache import caches

        client = redis.asyncio.Redis.from_url(url, socket_timeout=5, decode_responses=True)
        # A backend of its own (``make_key``: prefix and version): the shared ``cache``
        # would be built anew in each request's context on an event loop.
        self._cache = (loop, (client, caches.create_connection("default")))
        return self._cache[1]

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        route = fastpaths.async_route(scope["method"], scope["path"])
        if route is not None and await self._serve(route, scope, body, send):
            return
        try:
            status, headers, content = await self.upstream.forward(scope, body)
        except Exception:  # noqa: BLE001 - the upstream is down or timed out
            log.warning("upstream unavailable", exc_info=True)
            status, content = (
                502,
                json.dumps(
                    {"code": "upstream_unavailable", "message": "try again shortly", "detail": {}}
                ).encode(),
            )
            headers = [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(content)).encode()),
            ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                close = getattr(self.upstream, "close", None)
                if close is not None:
                    await close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _serve(self, route, scope, body: bytes, send) -> bool:
        from django.utils import translation

        handler, match = route
        environ = environ_of(scope, body)
        if not fastpaths._plain(environ):
            return False
        data: dict[str, Any] = {}
        if scope["method"] in ("POST", "PUT"):
            parsed = fastpaths.json_request(environ, body)
            if parsed is None:
                return False
            data = parsed
        started = time.monotonic()
        request = FrontRequest(environ=environ, match=match, body=body, data=data, front=self)
        request_id = clean_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id()
        id_token = request_id_var.set(request_id)
        try:
            language = fastpaths._language(environ)
            translation.activate(language)
            try:
                answer = await handler(request)
            except Exception:  # noqa: BLE001 - the API's answer to the unexpected
                log.exception("unexpected error", extra={"path": request.path})
                answer = (500, fastpaths.INTERNAL_ERROR)
            if answer is None:
                return False
            status, payload = answer
            content = json.dumps(payload, ensure_ascii=False).encode()
            headers = fastpaths._headers(environ, request_id, len(content), language)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers],
                }
            )
            await send({"type": "http.response.body", "body": content})
            if request.auth is not None:
                self._observe(request)
            http_log.log(
                logging.INFO,
                "request",
                extra={
                    "method": scope["method"],
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "fast_path": True,
                    "front": True,
                },
            )
            return True
        finally:
            request_id_var.reset(id_token)

    def _observe(self, request) -> None:
        """Risk's record of the request, on a thread (it may write), not awaited."""
        if self._run_sync is not None:
            self._run_sync(fastpaths._observe, request)
            return
        future = self._pool.submit(_in_thread, fastpaths._observe, (request,), {})
        future.add_done_callback(_swallow)


def _cache_url() -> str | None:
    """The URL of the token cache's Redis; None when the cache is not Redis."""
    conf = settings.CACHES.get("default", {})
    if conf.get("BACKEND") != "django_redis.cache.RedisCache":
        return None
    location = conf["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location


class FrontRequest(fastpaths.FastRequest):
    """A fast path's request in the front: ``bearer_user_id`` is awaited, and
    ``run_sync`` runs database work on the front's threads."""

    def __init__(self, *, environ, match, body, data, front: Front):
        super().__init__(environ=environ, match=match, body=body, data=data)
        self.front = front

    async def bearer_user_id(self) -> int | None:
        user_id = await self.front.token_user_id(self.bearer_token())
        if user_id is not None:
            self.signed_in(user_id)
        return user_id

    def bearer_user_key(self, *, on: str) -> str | None:
        """Where the token cache keeps the bearer's user id, when it is the Redis at
        ``on``: a handler's script there reads the buyer in its own step."""
        return self.front.token_key(self.bearer_token(), on=on)

    def signed_in(self, user_id: int) -> None:
        """The request's user, for its log line and risk's record."""
        self.auth = SignedIn(pk=user_id)

    async def run_sync(self, fn, *args, **kwargs):
        return await self.front.run_sync(fn, *args, **kwargs)


def _in_thread(fn, args, kwargs):
    from django.db import close_old_connections

    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


def _swallow(future) -> None:
    future.exception()  # recording never breaks a request


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def application_for(upstream: str) -> Front:
    return Front(upstream=Upstream(upstream))
