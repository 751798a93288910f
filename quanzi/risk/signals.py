"""Identifiers seen with accounts (device id, IP, phone, normalised address, payment
account), kept with their history: an account keeps every value it was ever seen with,
deleted addresses and deleted accounts included.

Recorded on sign-up and profile changes (the accounts' model signals), on every request
of a signed-in person (IP and the ``X-Device-Id`` header, once an hour per value), on
paid orders (delivery address and payment account) and on every event asked of
``risk_check`` (what the event carries).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from quanzi.risk.models import RiskSignal

_SPACES = re.compile(r"[\s,，.。#\-—_/()（）]+")
_UNITS = str.maketrans({"號": "号", "棟": "栋", "單": "单", "元": "元"})


def normalise_address(address: dict[str, Any] | Any) -> str:
    """One place written one way: province to detail, no spaces or punctuation, full-width
    digits made plain, traditional unit characters made simple, lower case, and the unit
    words 号 / 栋 / 幢 / 单元 / 室 after a number made one mark (``5号1栋`` and ``5 号 1 栋``
    are one place, ``51号`` another)."""
    if not isinstance(address, dict):
        address = address.snapshot() if hasattr(address, "snapshot") else {}
    parts = [str(address.get(key, "") or "") for key in ("province", "city", "district", "detail")]
    text = "".join(parts)
    text = "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" else c for c in text)
    text = _SPACES.sub("", text.translate(_UNITS)).lower()
    text = re.sub(r"(\d+)(号|栋|幢|单元|室)", r"\1~", text)
    return text.rstrip("~")


def signal_record(
    *, user_id: int, kind: str, value: str, source: str = "", at: datetime | None = None
) -> None:
    value = (value or "").strip()[:160]
    if kind == RiskSignal.IP:
        value = public_ip(value)
    signals_record(user_id=user_id, pairs=[(kind, value)], source=source, at=at)


def signals_record(
    *,
    user_id: int,
    pairs: Iterable[tuple[str, str]],
    source: str = "",
    at: datetime | None = None,
) -> None:
    """Record several ``(kind, value)`` of one account in one statement: a value seen
    before gets its ``last_seen`` and count moved on, a new one is inserted
    (``INSERT … ON CONFLICT DO UPDATE``; a concurrent recorder of the same value is
    waited for by the database)."""
    rows = {}
    for kind, value in pairs:
        value = (value or "").strip()[:160]
        if value:
            rows.setdefault((kind, value), None)
    if not rows or not user_id:
        return
    at = at or timezone.now()
    conn = transaction.get_connection()
    table = conn.ops.quote_name(RiskSignal._meta.db_table)
    stamp = RiskSignal._meta.get_field("last_seen").get_db_prep_save(at, conn)
    values: list[Any] = []
    for kind, value in rows:
        values += [user_id, kind, value, source[:30], stamp, stamp]
    marks = ", ".join(["(%s, %s, %s, %s, %s, %s, 1)"] * len(rows))
    with conn.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, value, source, first_seen, last_seen, seen)"
            f" VALUES {marks} ON CONFLICT (user_id, kind, value) DO UPDATE SET"
            f" last_seen = excluded.last_seen, seen = {table}.seen + 1",
            values,
        )


def signals_of(user_id: int) -> dict[str, set[str]]:
    """Every value each kind of identifier was ever seen with for this account."""
    seen: dict[str, set[str]] = defaultdict(set)
    for kind, value in RiskSignal.objects.filter(user_id=user_id).values_list("kind", "value"):
        seen[kind].add(value)
    return seen


def accounts_with(kind: str, values: Iterable[str]) -> dict[str, set[int]]:
    """For each value: the accounts ever seen with it."""
    values = [v for v in set(values) if v]
    out: dict[str, set[int]] = defaultdict(set)
    if not values:
        return out
    for value, user_id in RiskSignal.objects.filter(kind=kind, value__in=values).values_list(
        "value", "user_id"
    ):
        out[value].add(user_id)
    return out


def user_signals_record(user, *, source: str, at: datetime | None = None) -> None:
    """The account's own identifiers: its phone and device."""
    signal_record(user_id=user.pk, kind=RiskSignal.PHONE, value=user.phone, source=source, at=at)
    signal_record(
        user_id=user.pk, kind=RiskSignal.DEVICE, value=user.device_id, source=source, at=at
    )


def address_signals_record(address, *, source: str, at: datetime | None = None) -> None:
    user_id = address.user_id
    signal_record(user_id=user_id, kind=RiskSignal.PHONE, value=address.phone, source=source, at=at)
    signal_record(
        user_id=user_id,
        kind=RiskSignal.ADDRESS,
        value=normalise_address(address),
        source=source,
        at=at,
    )


@functools.lru_cache(maxsize=4096)
def public_ip(value: str) -> str:
    """The address when it is a public one; a loopback or private address (a proxy, a
    local network) tells nothing about who is behind it and is not recorded. Remembered
    per process: every request asks, and a shopper's address repeats."""
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return ""
    return str(address) if address.is_global else ""


def client_ip(request) -> str:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return public_ip(forwarded.split(",")[0])
    return public_ip(request.META.get("REMOTE_ADDR") or "")
