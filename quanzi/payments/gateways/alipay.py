"""Alipay through ``python-alipay-sdk`` (RSA2).

* ``create`` signs a page-pay and a wap-pay URL locally (no request is sent).
* ``parse_notification``: the form-encoded notification is verified with the Alipay
  public key (the SDK's ``verify``); amounts are yuan strings turned into fen exactly.
* ``refund``: ``alipay.trade.refund`` with ``out_request_no = refund_no``, which Alipay
  keeps idempotent; ``payout``: ``alipay.fund.trans.uni.transfer`` with
  ``out_biz_no = payout_no`` (``user_ref`` is ``alipay_user_id:<2088…>``,
  ``alipay_open_id:<id>`` or ``alipay_logon_id:<mobile|e-mail>``; ``payee_name`` goes in
  ``payee_info.name``, required by Alipay with a login id). Live Alipay accepts transfers only from apps in public-key
  certificate mode: set QUANZI_ALIPAY_APP_CERT, _PUBLIC_CERT and _ROOT_CERT for that.

The SDK keeps its host in the instance attribute ``_gateway``; a small subclass sets it
to ``QUANZI_ALIPAY_GATEWAY_URL`` (tests point it at a local stand-in).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from alipay import AliPay, DCAliPay
from alipay.exceptions import AliPayValidationError
from django.conf import settings
from django.utils import timezone as dj_timezone

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger
from quanzi.core.money import yuan
from quanzi.payments.gateways.base import (
    CloseResult,
    Gateway,
    InvalidNotification,
    Notification,
    PayoutResult,
    QueryResult,
    RefundResult,
)

log = get_logger("quanzi.payments.alipay")

DEFAULT_GATEWAY_URL = "https://openapi.alipay.com/gateway.do"
TIMEOUT = 20  # seconds
PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")
_YUAN = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_PAYEE_KINDS = {
    "alipay_user_id": "ALIPAY_USER_ID",
    "alipay_open_id": "ALIPAY_OPEN_ID",
    "alipay_logon_id": "ALIPAY_LOGON_ID",  # mobile or e-mail: Alipay wants the name too
}
BEIJING = timezone(timedelta(hours=8))


def time_expire(expires_at: datetime) -> str:
    """Alipay's absolute ``time_expire``: ``yyyy-MM-dd HH:mm:ss``, Beijing time."""
    return expires_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _setting(name: str) -> str:
    return str(getattr(settings, f"QUANZI_ALIPAY_{name}", "") or "").strip()


def fen(amount: str) -> int:
    """'19.90' → 1990, exactly; anything but a plain non-negative yuan amount is refused."""
    if not isinstance(amount, str) or not _YUAN.fullmatch(amount):
        raise ValueError(f"not a yuan amount: {amount!r}")
    return int(Decimal(amount) * 100)


def _fail(message: str) -> QuanziError:
    return QuanziError("gateway_error", message, {"gateway": "alipay"}, status=502)


def _why(answer: dict[str, Any]) -> str:
    parts = (answer.get("code"), answer.get("sub_code"), answer.get("sub_msg") or answer.get("msg"))
    return " ".join(str(part) for part in parts if part)


def _transient(answer: dict[str, Any]) -> bool:
    """Alipay's "try again" answers: unavailable, or a system error on its side."""
    return answer.get("code") == "20000" or "SYSTEM_ERROR" in str(answer.get("sub_code", ""))


class _AliPay(AliPay):
    def __init__(self, *, gateway_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self._gateway = gateway_url


class _CertAliPay(DCAliPay):
    def __init__(self, *, gateway_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self._gateway = gateway_url


class AlipayGateway(Gateway):
    name = "alipay"
    starts_offline = True

    def __init__(self) -> None:
        self._client: AliPay | DCAliPay | None = None

    @property
    def base_url(self) -> str:
        return _setting("GATEWAY_URL") or DEFAULT_GATEWAY_URL

    @property
    def cert_mode(self) -> bool:
        return bool(_setting("APP_CERT") and _setting("PUBLIC_CERT") and _setting("ROOT_CERT"))

    def configured(self) -> bool:
        if not (_setting("APP_ID") and _setting("PRIVATE_KEY") and _setting("NOTIFY_URL")):
            return False
        keys = ["PRIVATE_KEY"]
        keys += ["APP_CERT", "PUBLIC_CERT", "ROOT_CERT"] if self.cert_mode else ["PUBLIC_KEY"]
        return all(_setting(name) and Path(_setting(name)).is_file() for name in keys)

    def client(self) -> AliPay | DCAliPay:
        """The SDK client (loading keys only; it sends nothing until asked)."""
        if self._client is None:
            common = {
                "gateway_url": self.base_url,
                "appid": _setting("APP_ID"),
                "app_notify_url": _setting("NOTIFY_URL"),
                "app_private_key_string": Path(_setting("PRIVATE_KEY")).read_text(),
                "sign_type": "RSA2",
            }
            if self.cert_mode:
                self._client = _CertAliPay(
                    app_public_key_cert_string=Path(_setting("APP_CERT")).read_text(),
                    alipay_public_key_cert_string=Path(_setting("PUBLIC_CERT")).read_text(),
                    alipay_root_cert_string=Path(_setting("ROOT_CERT")).read_text(),
                    **common,
                )
            else:
                self._client = _AliPay(
                    alipay_public_key_string=Path(_setting("PUBLIC_KEY")).read_text(), **common
                )
            self._client._config.timeout = TIMEOUT
        return self._client

    def _call(self, method: str, biz_content: dict[str, Any]) -> dict[str, Any]:
        """A signed request whose signed answer is verified (raises if it does not)."""
        return self.client().server_api(method, biz_content)

    # -- paying --------------------------------------------------------------------

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
        try:
            client = self.client()
        except Exception as exc:  # noqa: BLE001 - unreadable keys or certificates
            log.warning("alipay client failed", extra={"error": str(exc)})
            raise _fail("Alipay is not set up correctly") from exc
        order = {
            "subject": description[:256],
            "out_trade_no": out_trade_no,
            "total_amount": yuan(amount),
            "return_url": _setting("RETURN_URL") or None,
            "time_expire": time_expire(expires_at),
        }
        page = client.api_alipay_trade_page_pay(**order)
        # The SDK's default product code for wap is not the one Alipay documents.
        wap = client.api_alipay_trade_wap_pay(**order, product_code="QUICK_WAP_WAY")
        return {"pay_url": f"{self.base_url}?{page}", "wap_url": f"{self.base_url}?{wap}"}

    def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidNotification("not a form-encoded notification") from exc
        data = dict(pairs)
        if len(data) != len(pairs):
            raise InvalidNotification("a field appears twice")
        signature = data.pop("sign", "")
        if not signature:
            raise InvalidNotification("missing signature")
        try:
            verified = self.client().verify(dict(data), signature)
        except Exception as exc:  # noqa: BLE001 - bad base64, unknown sign type
            raise InvalidNotification(f"signature does not verify: {exc}") from exc
        if not verified:
            raise InvalidNotification("bad signature")
        if data.get("app_id") != _setting("APP_ID"):
            raise InvalidNotification("notification for another app")
        try:
            return Notification(
                out_trade_no=data["out_trade_no"],
                txn_id=data["trade_no"],
                amount=fen(data["total_amount"]),
                paid=data.get("trade_status") in PAID,
                raw=data,
            )
        except (KeyError, ValueError) as exc:
            raise InvalidNotification("malformed notification") from exc

    def ack(self, ok: bool) -> tuple[int, str, str]:
        return (200, "text/plain", "success") if ok else (400, "text/plain", "failure")

    def query(self, *, out_trade_no: str) -> QueryResult:
        try:
            answer = self.client().api_alipay_trade_query(out_trade_no=out_trade_no)
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "alipay query failed", extra={"out_trade_no": out_trade_no, "error": str(exc)}
            )
            raise _fail("Alipay could not be reached") from exc
        if answer.get("code") == "40004" and answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return QueryResult(paid=False)
        if answer.get("code") != "10000":
            raise _fail(f"Alipay refused the query: {_why(answer)}")
        if answer.get("trade_status") not in PAID:
            return QueryResult(paid=False)
        return QueryResult(
            paid=True, txn_id=answer.get("trade_no", ""), amount=fen(answer["total_amount"])
        )

    def close(self, *, out_trade_no: str, expires_at: datetime) -> CloseResult:
        try:
            answer = self.client().api_alipay_trade_close(out_trade_no=out_trade_no)
        except Exception as exc:  # noqa: BLE001 - unknown: the reconcile sweep asks again
            return CloseResult(closed=False, error=f"unreachable: {exc}"[:300])
        if answer.get("code") == "10000":
            return CloseResult(closed=True)
        sub_code = str(answer.get("sub_code", ""))
        if sub_code == "ACQ.TRADE_NOT_EXIST":
            # Alipay opens the trade when the customer opens the pay URL: until the URL
            # expires it could still be opened, so the close is tried again until then.
            if dj_timezone.now() >= expires_at:
                return CloseResult(closed=True)
            return CloseResult(closed=False, error="pay URL not opened yet; valid until expiry")
        if sub_code == "ACQ.TRADE_STATUS_ERROR":
            return CloseResult(closed=False, paid=True, error=_why(answer))
        return CloseResult(closed=False, error=_why(answer))

    # -- paying back ---------------------------------------------------------------

    def refund(
        self, *, out_trade_no: str, refund_no: str, amount: int, total: int, reason: str
    ) -> RefundResult:
        try:
            answer = self.client().api_alipay_trade_refund(
                refund_amount=yuan(amount),
                out_trade_no=out_trade_no,
                out_request_no=refund_no,
                refund_reason=reason[:256],
            )
        except AliPayValidationError:
            return RefundResult(succeeded=False, pending=True, error="answer did not verify")
        except Exception as exc:  # noqa: BLE001 - unknown outcome: retry, same number
            return RefundResult(succeeded=False, pending=True, error=f"unreachable: {exc}"[:300])
        if answer.get("code") == "10000":
            return RefundResult(succeeded=True, gateway_refund_id=answer.get("trade_no", ""))
        return RefundResult(succeeded=False, pending=_transient(answer), error=_why(answer))

    def payout(
        self,
        *,
        payout_no: str,
        user_ref: str,
        amount: int,
        description: str,
        payee_name: str = "",
    ) -> PayoutResult:
        kind, _, identity = user_ref.partition(":")
        if kind not in _PAYEE_KINDS or not identity:
            return PayoutResult(succeeded=False, error="payee has no Alipay account id")
        if kind == "alipay_logon_id" and not payee_name:
            return PayoutResult(succeeded=False, error="an Alipay login id needs the real name")
        payee = {"identity": identity, "identity_type": _PAYEE_KINDS[kind]}
        if payee_name:
            payee["name"] = payee_name  # Alipay checks it against the account
        biz = {
            "out_biz_no": payout_no,
            "trans_amount": yuan(amount),
            "product_code": "TRANS_ACCOUNT_NO_PWD",
            "biz_scene": "DIRECT_TRANSFER",
            "order_title": (description or "Quanzi payout")[:128],
            "payee_info": payee,
        }
        try:
            answer = self._call("alipay.fund.trans.uni.transfer", biz)
        except AliPayValidationError:
            return PayoutResult(succeeded=False, pending=True, error="answer did not verify")
        except Exception as exc:  # noqa: BLE001 - unknown outcome: ask again, same number
            return PayoutResult(succeeded=False, pending=True, error=f"unreachable: {exc}"[:300])
        ref = answer.get("order_id", "")
        if answer.get("code") != "10000":
            return PayoutResult(
                succeeded=False, pending=_transient(answer), gateway_ref=ref, error=_why(answer)
            )
        if answer.get("status") == "SUCCESS":
            return PayoutResult(succeeded=True, gateway_ref=ref)
        if answer.get("status") in ("FAIL", "CLOSED"):
            return PayoutResult(succeeded=False, gateway_ref=ref, error=answer["status"].lower())
        return PayoutResult(
            succeeded=False, pending=True, gateway_ref=ref, error=str(answer.get("status", ""))
        )
