"""``Idempotency-Key`` on POSTs that create orders, payments, refunds and withdrawals.

The same key with the same body returns the first answer; with a different body it is a
409. The record is written in the same transaction as the work, so a crash leaves
neither, and two identical requests at once serialize on the unique key.

Cost on the hot path: one INSERT per keyed request, and no savepoint for the services
the work calls (``quanzi.core.transactions``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from ninja import Status

from quanzi.core.errors import Conflict, Invalid, QuanziError
from quanzi.core.models import IdempotencyRecord
from quanzi.core.sql import insert_many
from quanzi.core.transactions import all_or_nothing, retry_on_conflict


def _body_hash(route: str, body: Any) -> str:
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(request, *, route: str, body: Any, work: Callable[[], Status]) -> Status:
    """Run ``work`` (returning a ``Status``) at most once per key and user."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return work()
    if len(key) > 128:
        raise Invalid("invalid_idempotency_key", "Idempotency-Key is at most 128 characters")
    user_id = request.auth.pk
    digest = _body_hash(route, body)

    def remember(status: int, payload: Any) -> None:
        _remember(
            user_id=user_id, key=key, route=route, digest=digest, status=status, payload=payload
        )

    # No read first: the first use of a key (nearly every request) costs one INSERT,
    # written last in the work's own transaction, with no savepoint. A key already
    # answered — a retry, or a twin request racing on it, which waits on the unique
    # key — makes that INSERT fail: the work is rolled back and the first answer
    # replayed. A retry whose work is refused this time (the last unit went meanwhile)
    # finds the first answer the same way, when recording the refusal.
    def attempt() -> tuple[int, Any]:
        with all_or_nothing():
            answer = work()
            status, payload = answer.status_code, _jsonable(answer.value)
            remember(status, payload)
        return status, payload

    try:
        try:
            # All or nothing: a serialization failure or deadlock left nothing behind, so
            # the work is run again (``retry_on_conflict``).
            status, payload = retry_on_conflict(attempt)
        except QuanziError as exc:
            # A refusal is an answer too: remember it so a retry sees the same.
            status, payload = exc.status, exc.as_dict()
            with transaction.atomic():
                remember(status, payload)
    except _KeyTaken:
        existing = IdempotencyRecord.objects.get(user_id=user_id, key=key)
        return _replay(existing, digest)
    if status >= 400:
        raise _Replayed(status, payload)
    return Status(status, payload)


def refusal_answer(request, *, route: str, body: Any, error: QuanziError) -> Status:
    """``run_idempotent`` for a request refused before any work (its ``work`` would only
    raise ``error``), without opening the work's transaction: the refusal is recorded
    under the key and raised; a key answered already gets its first answer back."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        raise error
    if len(key) > 128:
        raise Invalid("invalid_idempotency_key", "Idempotency-Key is at most 128 characters")
    if refusal_remember(user_id=request.auth.pk, key=key, route=route, body=body, error=error):
        raise _Replayed(error.status, error.as_dict())
    existing = IdempotencyRecord.objects.get(user_id=request.auth.pk, key=key)
    return _replay(existing, _body_hash(route, body))


def recorded_answer(request, *, route: str, body: Any) -> Status | None:
    """The answer already recorded for the request's ``Idempotency-Key``, if any (a
    refusal raised again, as ``run_idempotent`` does). For work whose effect is outside
    the database (a Redis step is not rolled back with the record's INSERT): read this
    first, so that a retry does not do the work again."""
    key = request.headers.get("Idempotency-Key")
    if not key or len(key) > 128:
        return None
    existing = IdempotencyRecord.objects.filter(user_id=request.auth.pk, key=key).first()
    return None if existing is None else _replay(existing, _body_hash(route, body))


def _remember(
    *, user_id: int, key: str, route: str, digest: str, status: int, payload: Any
) -> None:
    try:
        insert_many(  # one INSERT, no RETURNING: the record's id is never needed
            [
                IdempotencyRecord(
                    user_id=user_id,
                    key=key,
                    route=route,
                    body_hash=digest,
                    status_code=status,
                    response=payload,
                )
            ]
        )
    except IntegrityError as exc:
        raise _KeyTaken from exc


def refusal_remember(*, user_id: int, key: str, route: str, body: Any, error: QuanziError) -> bool:
    """Record ``error`` as the first answer to ``key`` (``run_idempotent``'s record of a
    refusal, for a fast path answering it in front of the API). False when the key has
    an answer already: the API then replays that one."""
    try:
        with transaction.atomic():
            _remember(
                user_id=user_id,
                key=key,
                route=route,
                digest=_body_hash(route, body),
                status=error.status,
                payload=error.as_dict(),
            )
    except _KeyTaken:
        return False
    return True


class _KeyTaken(Exception):
    """Another request with the same key was answered first."""


class _Replayed(QuanziError):
    """A remembered refusal, raised again so the API answers it the same way."""

    def __init__(self, status: int, payload: dict[str, Any]):
        super().__init__(
            payload.get("code"), payload.get("message", ""), payload.get("detail"), status=status
        )


def _jsonable(value: Any) -> Any:
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _replay(record: IdempotencyRecord, digest: str) -> Status:
    if record.body_hash != digest:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        )
    if record.status_code >= 400:
        raise _Replayed(record.status_code, record.response)
    return Status(record.status_code, record.response)
