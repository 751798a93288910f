"""Talking to WeChat's HTTP API: errors, the cached access token and JS-SDK ticket.

One access token per app is cached (Django's cache, backed by the ``AppToken`` row) and
refreshed before it expires by one process at a time: under a Redis lock when Redis is
configured, under the ``AppToken`` row's lock in the embedded mode. The one that holds
the lock reads the row again first, so the others find the fresh token instead of asking
WeChat again. An answer of ``40001`` (invalid token) or ``42001`` (expired) drops that
token, takes a fresh one (once) and repeats the call once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger
from quanzi.wechat.config import App, api_url
from quanzi.wechat.models import AppToken

log = get_logger("quanzi.wechat")

TIMEOUT = (3, 8)  # connect, read (seconds)
REFRESH_BEFORE = 300  # seconds before expiry a credential is renewed
LOCK_SECONDS = 30
TOKEN_ERRORS = (40001, 42001)
RATE_LIMITED = (45009, 45011)


class WechatError(QuanziError):
    """WeChat answered with an ``errcode``."""

    status = 502
    code = "wechat_error"

    def __init__(self, errcode: int, errmsg: str, *, code: str = "", status: int | None = None):
        self.errcode = errcode
        self.errmsg = errmsg
        if not code and errcode in RATE_LIMITED:
            code, status = "wechat_rate_limited", 429
        super().__init__(
            code or "wechat_error",
            f"WeChat answered {errcode}: {errmsg}",
            {"errcode": errcode},
            status=status,
        )


class WechatUnavailable(QuanziError):
    """WeChat did not answer (timeout, network) or answered nonsense."""

    status = 503
    code = "wechat_unavailable"


def request(
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
    binary: bool = False,
) -> Any:
    """One call; WeChat's JSON answer (or the image bytes when ``binary``)."""
    url = f"{api_url()}{path}"
    try:
        response = requests.request(method, url, params=params, json=json, timeout=TIMEOUT)
    except requests.RequestException as exc:
        log.warning("wechat unreachable", extra={"path": path, "error": type(exc).__name__})
        raise WechatUnavailable(message="WeChat could not be reached; try again") from exc
    content_type = response.headers.get("Content-Type", "")
    if binary and response.status_code == 200 and content_type.startswith("image/"):
        return response.content
    try:
        data = response.json()
    except ValueError as exc:
        raise WechatUnavailable(message=f"WeChat answered HTTP {response.status_code}") from exc
    if not isinstance(data, dict):
        raise WechatUnavailable(message="WeChat answered something unexpected")
    errcode = data.get("errcode") or 0
    if errcode:
        log.info("wechat refused", extra={"path": path, "errcode": errcode})
        raise WechatError(int(errcode), str(data.get("errmsg", "")))
    return data


def call(app: App, method: str, path: str, **kwargs: Any) -> Any:
    """A call that needs the app's access token; a token WeChat calls invalid or expired
    is renewed once and the call repeated once."""
    token = access_token(app)
    params = dict(kwargs.pop("params", None) or {})
    try:
        return request(method, path, params={**params, "access_token": token}, **kwargs)
    except WechatError as exc:
        if exc.errcode not in TOKEN_ERRORS:
            raise
        log.info("wechat token refused", extra={"app_id": app.app_id, "errcode": exc.errcode})
        token = access_token(app, stale=token)
        return request(method, path, params={**params, "access_token": token}, **kwargs)


def access_token(app: App, *, stale: str = "") -> str:
    """The app's access token; ``stale`` is one WeChat refused: never returned again."""

    def fetch() -> tuple[str, int]:
        data = request(
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": app.app_id, "secret": app.secret},
        )
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    return credential(app, AppToken.ACCESS_TOKEN, fetch, stale=stale)


def jsapi_ticket(app: App) -> str:
    """The 公众号's JS-SDK ticket (cached like the access token)."""

    def fetch() -> tuple[str, int]:
        data = call(app, "GET", "/cgi-bin/ticket/getticket", params={"type": "jsapi"})
        return str(data["ticket"]), int(data.get("expires_in", 7200))

    return credential(app, AppToken.JSAPI_TICKET, fetch)


def _cache_key(app_id: str, kind: str) -> str:
    return f"quanzi:wechat:{kind}:{app_id}"


def _fresh(value: str, expires_at, stale: str) -> bool:
    return bool(
        value
        and value != stale
        and expires_at is not None
        and expires_at - timezone.now() > timedelta(seconds=REFRESH_BEFORE)
    )


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - the cache is an accelerator
        return None


def _cache_set(key: str, value: str, expires_at) -> None:
    ttl = int((expires_at - timezone.now()).total_seconds()) - REFRESH_BEFORE
    if ttl > 0:
        with contextlib.suppress(Exception):
            cache.set(key, (value, expires_at), ttl)


def credential(
    app: App, kind: str, fetch: Callable[[], tuple[str, int]], *, stale: str = ""
) -> str:
    key = _cache_key(app.app_id, kind)
    held = _cache_get(key)
    if held and _fresh(held[0], held[1], stale):
        return held[0]
    row = AppToken.objects.filter(app_id=app.app_id, kind=kind).first()
    if row is not None and _fresh(row.value, row.expires_at, stale):
        _cache_set(key, row.value, row.expires_at)
        return row.value
    with _refresh_lock(app.app_id, kind):
        row = AppToken.objects.get(app_id=app.app_id, kind=kind)
        if _fresh(row.value, row.expires_at, stale):
            value, expires_at = row.value, row.expires_at
        else:
            value, expires_in = fetch()
            now = timezone.now()
            expires_at = now + timedelta(seconds=max(expires_in, 0))
            AppToken.objects.filter(pk=row.pk).update(
                value=value,
                expires_at=expires_at,
                refreshed_at=now,
                refreshes=F("refreshes") + 1,
            )
            log.info("wechat credential refreshed", extra={"app_id": app.app_id, "kind": kind})
    _cache_set(key, value, expires_at)
    return value


def _ensure_row(app_id: str, kind: str) -> None:
    if AppToken.objects.filter(app_id=app_id, kind=kind).exists():
        return
    try:
        with transaction.atomic():
            AppToken.objects.create(app_id=app_id, kind=kind)
    except IntegrityError:
        pass  # created by another process meanwhile


@contextlib.contextmanager
def _refresh_lock(app_id: str, kind: str) -> Iterator[None]:
    """Held by one process at a time per app and credential."""
    _ensure_row(app_id, kind)
    if settings.REDIS_URL:
        lock = cache.lock(f"quanzi:wechat:lock:{kind}:{app_id}", timeout=LOCK_SECONDS)
        if not lock.acquire(blocking=True, blocking_timeout=LOCK_SECONDS):
            raise WechatUnavailable(message="another process is renewing the WeChat token")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                lock.release()
        return
    with transaction.atomic():
        # An UPDATE first: it takes the row's lock on PostgreSQL and the write lock on
        # SQLite, so the read that follows sees what the previous holder wrote.
        AppToken.objects.filter(app_id=app_id, kind=kind).update(refreshes=F("refreshes"))
        yield
