"""The built-in sandbox gateway: pays on request, signs its notifications with a local
key (HMAC-SHA256 over timestamp, nonce and body), and can deliver them late, twice or
out of order. Production refuses it unless ``QUANZI_ALLOW_SANDBOX=1``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.core.errors import Conflict
from quanzi.core.sql import insert_many
from quanzi.payments.gateways.base import (
    CloseResult,
    Gateway,
    InvalidNotification,
    Notification,
    PayoutResult,
    QueryResult,
    RefundResult,
)

MAX_SKEW_SECONDS = 7 * 86_400  # late deliveries are legitimate; replays are caught by id


def _sign(timestamp: str, nonce: str, body: str) -> str:
    message = f"{timestamp}\n{nonce}\n{body}\n".encode()
    return hmac.new(settings.SANDBOX_SIGNING_KEY.encode(), message, hashlib.sha256).hexdigest()


class SandboxGateway(Gateway):
    name = "sandbox"
    starts_offline = True

    # Tests flip these to exercise retries; the demo never does.
    fail_refunds = False
    fail_payouts = False

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
        return {
            "pay_url": f"/pay/sandbox/{out_trade_no}",
            "amount": amount,
            "description": description,
            "expires_at": expires_at.isoformat(),
        }

    def check_payable(self, *, params: dict[str, Any]) -> None:
        """Refuse to take money after the trade's expiry, as a real gateway does."""
        expires_at = params.get("expires_at")
        if expires_at and datetime.fromisoformat(expires_at) <= timezone.now():
            raise Conflict("payment_expired", "the payment window of this order has closed")

    def build_notification(
        self, *, out_trade_no: str, amount: int, txn_id: str | None = None
    ) -> dict[str, Any]:
        body = json.dumps(
            {
                "out_trade_no": out_trade_no,
                "transaction_id": txn_id or "SBX" + secrets.token_hex(10).upper(),
                "amount": amount,
                "trade_state": "SUCCESS",
            },
            separators=(",", ":"),
        )
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        headers = {
            "X-Sandbox-Timestamp": timestamp,
            "X-Sandbox-Nonce": nonce,
            "X-Sandbox-Signature": _sign(timestamp, nonce, body),
        }
        return {"headers": headers, "body": body}

    def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("x-sandbox-timestamp", "")
        nonce = lower.get("x-sandbox-nonce", "")
        signature = lower.get("x-sandbox-signature", "")
        try:
            text = body.decode()
        except UnicodeDecodeError as exc:
            raise InvalidNotification("body is not UTF-8") from exc
        if not (timestamp and nonce and signature):
            raise InvalidNotification("missing signature headers")
        if not hmac.compare_digest(_sign(timestamp, nonce, text), signature):
            raise InvalidNotification("bad signature")
        try:
            if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
                raise InvalidNotification("timestamp too old")
            data = json.loads(text)
            return Notification(
                out_trade_no=str(data["out_trade_no"]),
                txn_id=str(data["transaction_id"]),
                amount=int(data["amount"]),
                paid=data.get("trade_state") == "SUCCESS",
                raw=data,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidNotification("malformed notification") from exc

    def query(self, *, out_trade_no: str) -> QueryResult:
        from quanzi.payments.models import SandboxRecord

        record = SandboxRecord.objects.filter(kind="charge", number=out_trade_no).first()
        if record is None:
            return QueryResult(paid=False)
        return QueryResult(paid=True, txn_id=record.reference, amount=record.amount)

    def charge_reference(self, *, out_trade_no: str) -> str | None:
        """The transaction id of the charge taken for ``out_trade_no``, if any."""
        from quanzi.payments.models import SandboxRecord

        return (
            SandboxRecord.objects.filter(kind="charge", number=out_trade_no)
            .values_list("reference", flat=True)
            .first()
        )

    def close(self, *, out_trade_no: str, expires_at: datetime) -> CloseResult:
        from quanzi.payments.models import SandboxRecord

        if SandboxRecord.objects.filter(kind="charge", number=out_trade_no).exists():
            return CloseResult(closed=False, paid=True, error="paid")
        self._record("close", out_trade_no, 0, "closed")
        return CloseResult(closed=True)

    def _record(self, kind: str, number: str, amount: int, reference: str) -> str:
        from quanzi.payments.models import SandboxRecord

        try:
            # Outside a transaction the INSERT is its own; inside one, a savepoint keeps
            # a duplicate from aborting the caller's transaction.
            atomic = (
                transaction.atomic()
                if transaction.get_connection().in_atomic_block
                else contextlib.nullcontext()
            )
            with atomic:
                insert_many(
                    [SandboxRecord(kind=kind, number=number, amount=amount, reference=reference)]
                )
            return reference
        except IntegrityError:
            pass
        return SandboxRecord.objects.get(kind=kind, number=number).reference

    def record_charge(self, *, out_trade_no: str, amount: int, txn_id: str) -> str:
        return self._record("charge", out_trade_no, amount, txn_id)

    def refund(
        self, *, out_trade_no: str, refund_no: str, amount: int, total: int, reason: str
    ) -> RefundResult:
        if self.fail_refunds:
            return RefundResult(succeeded=False, error="sandbox refund failure (simulated)")
        ref = self._record("refund", refund_no, amount, "SBXR" + secrets.token_hex(8).upper())
        return RefundResult(succeeded=True, gateway_refund_id=ref)

    def payout(
        self,
        *,
        payout_no: str,
        user_ref: str,
        amount: int,
        description: str,
        payee_name: str = "",
    ) -> PayoutResult:
        if self.fail_payouts:
            return PayoutResult(succeeded=False, error="sandbox payout failure (simulated)")
        ref = self._record("payout", payout_no, amount, "SBXP" + secrets.token_hex(8).upper())
        return PayoutResult(succeeded=True, gateway_ref=ref)
