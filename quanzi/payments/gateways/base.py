"""The gateway interface: create, verify a notification, query, close, refund, payout.

Adapters translate Quanzi's integer fen and numbers to the provider's API. Every call
that moves money is idempotent on a number Quanzi chooses (``out_trade_no``,
``refund_no``, ``payout_no``), so a retry never moves money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


class InvalidNotification(Exception):
    """The notification's signature or content does not verify."""


@dataclass
class Notification:
    out_trade_no: str
    txn_id: str
    amount: int
    paid: bool
    raw: dict[str, Any]


@dataclass
class QueryResult:
    paid: bool
    txn_id: str = ""
    amount: int = 0


@dataclass
class CloseResult:
    closed: bool  # the trade can no longer be paid
    paid: bool = False  # it cannot be closed because it was paid: query and capture it
    error: str = ""


@dataclass
class RefundResult:
    succeeded: bool
    pending: bool = False
    gateway_refund_id: str = ""
    error: str = ""


@dataclass
class PayoutResult:
    succeeded: bool
    pending: bool = False  # accepted but not final: ask again with the same payout_no
    gateway_ref: str = ""
    error: str = ""


class Gateway:
    name = "base"
    # True when ``create`` needs no network call (it signs locally): such a payment can
    # start inside the placement's transaction (``payments.services.order_checkout``)
    # without holding the SKU rows while a provider answers.
    starts_offline = False

    def configured(self) -> bool:
        return True

    def create(
        self,
        *,
        out_trade_no: str,
        amount: int,
        description: str,
        user_ref: str,
        expires_at: datetime,
        payer_app_id: str = "",
    ) -> dict[str, Any]:
        """Start a payment that the gateway refuses to take after ``expires_at`` (the
        order's payment deadline); returns what the client needs to pay (URL, JSAPI
        params…). ``user_ref`` is who pays as the gateway knows them ("openid:<id>" for
        WeChat Pay's JSAPI) and ``payer_app_id`` the app they pay from (the WeChat
        mini-program or official account the openid belongs to), when there is one."""
        raise NotImplementedError

    def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        """Verify and decode an asynchronous notification or raise ``InvalidNotification``."""
        raise NotImplementedError

    def ack(self, ok: bool) -> tuple[int, str, str]:
        """The answer the provider expects: (status, content type, body)."""
        return (
            (200, "application/json", '{"code": "SUCCESS"}')
            if ok
            else (400, "application/json", '{"code": "FAIL"}')
        )

    def query(self, *, out_trade_no: str) -> QueryResult:
        raise NotImplementedError

    def close(self, *, out_trade_no: str, expires_at: datetime) -> CloseResult:
        """Close an unpaid trade so that it can no longer be paid (idempotent)."""
        raise NotImplementedError

    def refund(
        self, *, out_trade_no: str, refund_no: str, amount: int, total: int, reason: str
    ) -> RefundResult:
        raise NotImplementedError

    def payout(
        self,
        *,
        payout_no: str,
        user_ref: str,
        amount: int,
        description: str,
        payee_name: str = "",
    ) -> PayoutResult:
        """Pay ``amount`` fen to ``user_ref`` ("openid:<id>", "alipay_user_id:<2088…>",
        "alipay_logon_id:<id>", "user:<id>"); ``payee_name`` is the person's real name
        where the provider checks it (never logged)."""
        raise NotImplementedError
