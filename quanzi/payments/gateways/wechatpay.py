"""WeChat Pay (API v3) through the ``wechatpayv3`` package.

* ``create``: a NATIVE order (``code_url`` for a QR code), or a JSAPI order with the
  signed parameters for ``wx.requestPayment`` / ``WeixinJSBridge`` when the payer's
  openid is known (``user_ref="openid:<openid>"``, ``payer_app_id`` the WeChat app it
  belongs to: the mini-program or the official account the cashier opens in).
  Notifications are accepted for the merchant's app id and for the app ids
  ``accepted_app_ids`` lists (the WeChat app registers its configured apps).
* ``parse_notification``: the SDK verifies the platform signature and decrypts the
  resource with the APIv3 key; anything that does not verify is ``InvalidNotification``.
* ``refund`` looks the refund number up first and submits it only if WeChat Pay has never
  seen it; ``payout`` does the same with the merchant transfer batch (商家转账), one batch
  of one detail per payout, both numbered ``payout_no``.

The SDK fixes its host inside ``Core.__init__`` (which may already fetch the platform
certificates) and has no transport seam, so this module builds the SDK's ``Core`` itself
with ``QUANZI_WECHATPAY_GATEWAY_URL`` as the base URL; nothing is patched globally.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone as dj_timezone
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger
from quanzi.payments.gateways.base import (
    CloseResult,
    Gateway,
    InvalidNotification,
    Notification,
    PayoutResult,
    QueryResult,
    RefundResult,
)

log = get_logger("quanzi.payments.wechatpay")

DEFAULT_GATEWAY_URL = "https://api.mch.weixin.qq.com"
TIMEOUT = (5, 20)  # connect, read (seconds)
REAL_NAME_FROM = 200_000  # transfers of 2,000 yuan or more need the payee's real name
NAME_ALLOWED_FROM = 30  # WeChat Pay refuses a name on transfers below 0.30 yuan
_SIGNATURE_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
_NUMBER = re.compile(r"[0-9A-Za-z]{1,32}")
BEIJING = timezone(timedelta(hours=8))


def time_expire(expires_at: datetime) -> str:
    """WeChat Pay's ``time_expire``: RFC 3339 with the offset, to the second."""
    return expires_at.astimezone(BEIJING).isoformat(timespec="seconds")


# Callables answering more app ids whose payments this merchant takes (registered by the
# WeChat app: its mini-program and official account), besides ``QUANZI_WECHATPAY_APPID``.
accepted_app_ids: list[Callable[[], Iterable[str]]] = []


def _app_ids() -> set[str]:
    ids = {_setting("APPID")}
    for source in accepted_app_ids:
        ids.update(source())
    return ids


def _setting(name: str) -> str:
    return str(getattr(settings, f"QUANZI_WECHATPAY_{name}", "") or "").strip()


def _openid(user_ref: str) -> str:
    return user_ref[len("openid:") :] if user_ref.startswith("openid:") else ""


def _names_payee(amount: int, payee_name: str) -> bool:
    """Send the payee's real name (WeChat Pay then checks it) when there is one and the
    transfer may carry it."""
    return bool(payee_name) and amount >= NAME_ALLOWED_FROM


def _pkcs8(path: str) -> str:
    """The merchant key as PKCS#8 PEM text (the SDK reads only that form)."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _load(text: Any) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _why(code: int, text: Any) -> str:
    data = _load(text)
    return f"HTTP {code} {data.get('code', '')} {data.get('message', '')}".strip()


def _unsure(code: int) -> bool:
    """A server error or a rate limit says nothing about whether the money moved."""
    return code >= 500 or code == 429


def _fail(message: str) -> QuanziError:
    return QuanziError("gateway_error", message, {"gateway": "wechatpay"}, status=502)


class _Core(Core):
    """The SDK's signing and verifying transport, sent to ``base_url``."""

    def __init__(self, *, base_url: str, **kwargs: Any):
        self._quanzi_base_url = base_url
        super().__init__(**kwargs)
        self._gate_way = base_url

    def _init_certificates(self) -> None:
        # Core.__init__ sets the fixed host, then may download the platform certificates:
        # that download must go to base_url as well.
        self._gate_way = self._quanzi_base_url
        super()._init_certificates()


class _Client(WeChatPay):
    """``WeChatPay`` with the core above (its own ``__init__`` would build one for the
    fixed host): the same attributes, a direct merchant, not a service provider."""

    def __init__(self, *, core: Core, mchid: str, appid: str, notify_url: str):
        self._type = WeChatPayType.NATIVE
        self._mchid = mchid
        self._appid = appid
        self._notify_url = notify_url
        self._core = core
        self._partner_mode = False


class WechatPayGateway(Gateway):
    name = "wechatpay"

    def __init__(self) -> None:
        self._client: _Client | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return (_setting("GATEWAY_URL") or DEFAULT_GATEWAY_URL).rstrip("/")

    def configured(self) -> bool:
        required = ("MCHID", "APPID", "APIV3_KEY", "CERT_SERIAL_NO", "PRIVATE_KEY", "NOTIFY_URL")
        if not all(_setting(name) for name in required):
            return False
        if len(_setting("APIV3_KEY").encode()) != 32 or not Path(_setting("PRIVATE_KEY")).is_file():
            return False
        if _setting("PUBLIC_KEY"):
            return bool(_setting("PUBLIC_KEY_ID")) and Path(_setting("PUBLIC_KEY")).is_file()
        return bool(_setting("PLATFORM_CERTS_DIR"))

    def client(self) -> _Client:
        """The SDK client, built on first use (it may fetch the platform certificates)."""
        with self._lock:
            if self._client is None:
                public_key = public_key_id = None
                if _setting("PUBLIC_KEY"):
                    public_key = Path(_setting("PUBLIC_KEY")).read_text()
                    public_key_id = _setting("PUBLIC_KEY_ID")
                core = _Core(
                    base_url=self.base_url,
                    mchid=_setting("MCHID"),
                    cert_serial_no=_setting("CERT_SERIAL_NO"),
                    private_key=_pkcs8(_setting("PRIVATE_KEY")),
                    apiv3_key=_setting("APIV3_KEY"),
                    cert_dir=_setting("PLATFORM_CERTS_DIR") or None,
                    timeout=TIMEOUT,
                    public_key=public_key,
                    public_key_id=public_key_id,
                )
                self._client = _Client(
                    core=core,
                    mchid=_setting("MCHID"),
                    appid=_setting("APPID"),
                    notify_url=_setting("NOTIFY_URL"),
                )
            return self._client

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
        openid = _openid(user_ref)
        appid = (payer_app_id if openid else "") or _setting("APPID")
        try:
            client = self.client()
            code, text = client.pay(
                appid=appid,
                description=description[:127],
                out_trade_no=out_trade_no,
                amount={"total": amount, "currency": "CNY"},
                time_expire=time_expire(expires_at),
                payer={"openid": openid} if openid else None,
                pay_type=WeChatPayType.JSAPI if openid else WeChatPayType.NATIVE,
            )
        except Exception as exc:  # noqa: BLE001 - network, bad signature, SDK refusal
            log.warning(
                "wechatpay order failed", extra={"out_trade_no": out_trade_no, "error": str(exc)}
            )
            raise _fail("WeChat Pay could not be reached") from exc
        data = _load(text)
        if code not in (200, 201):
            raise _fail(f"WeChat Pay refused the order: {_why(code, text)}")
        if not openid:
            if not data.get("code_url"):
                raise _fail("WeChat Pay answered without a code_url")
            return {"trade_type": "NATIVE", "code_url": data["code_url"]}
        if not data.get("prepay_id"):
            raise _fail("WeChat Pay answered without a prepay_id")
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={data['prepay_id']}"
        return {
            "trade_type": "JSAPI",
            "appId": appid,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": client.sign([appid, timestamp, nonce, package]),
        }

    def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        lower = {key.lower(): value for key, value in headers.items()}
        signed = {name: lower.get(name.lower(), "") for name in _SIGNATURE_HEADERS}
        if not (signed["Wechatpay-Signature"] and signed["Wechatpay-Serial"]):
            raise InvalidNotification("missing signature headers")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidNotification("body is not UTF-8") from exc
        try:
            data = self.client().callback(signed, text)
        except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception
            raise InvalidNotification(f"notification does not verify: {exc}") from exc
        if not data:
            raise InvalidNotification("bad signature or resource that does not decrypt")
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise InvalidNotification("malformed notification")
        # Refund notifications carry no appid; payment notifications must carry ours.
        appid = resource.get("appid", _setting("APPID"))
        if resource.get("mchid") != _setting("MCHID") or appid not in _app_ids():
            raise InvalidNotification("notification for another merchant")
        try:
            amount = resource["amount"]["total"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ValueError("amount")
            return Notification(
                out_trade_no=str(resource["out_trade_no"]),
                txn_id=str(resource["transaction_id"]),
                amount=amount,
                paid=resource.get("trade_state") == "SUCCESS",
                raw=resource,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidNotification("malformed notification") from exc

    def ack(self, ok: bool) -> tuple[int, str, str]:
        if ok:
            return 200, "application/json", '{"code": "SUCCESS", "message": "OK"}'
        return 400, "application/json", '{"code": "FAIL", "message": "FAIL"}'

    def query(self, *, out_trade_no: str) -> QueryResult:
        try:
            code, text = self.client().query(out_trade_no=out_trade_no)
        except Exception as exc:  # noqa: BLE001
            log.warning(
                "wechatpay query failed", extra={"out_trade_no": out_trade_no, "error": str(exc)}
            )
            raise _fail("WeChat Pay could not be reached") from exc
        if code == 404:
            return QueryResult(paid=False)
        if code != 200:
            raise _fail(f"WeChat Pay refused the query: {_why(code, text)}")
        data = _load(text)
        if data.get("trade_state") != "SUCCESS":
            return QueryResult(paid=False)
        return QueryResult(
            paid=True,
            txn_id=str(data.get("transaction_id", "")),
            amount=int((data.get("amount") or {}).get("total", 0)),
        )

    def close(self, *, out_trade_no: str, expires_at: datetime) -> CloseResult:
        try:
            code, text = self.client().close(out_trade_no=out_trade_no)
        except Exception as exc:  # noqa: BLE001 - unknown: the reconcile sweep asks again
            return CloseResult(closed=False, error=f"unreachable: {exc}"[:300])
        if code in (200, 204):
            return CloseResult(closed=True)
        answer = _load(text).get("code", "")
        if answer == "ORDERPAID":
            return CloseResult(closed=False, paid=True, error="paid")
        if answer == "ORDERCLOSED":
            return CloseResult(closed=True)
        if answer == "ORDER_NOT_EXIST":
            # A prepay still in flight could create it: closed for sure once it expired.
            if dj_timezone.now() >= expires_at:
                return CloseResult(closed=True)
            return CloseResult(closed=False, error="no such trade yet")
        return CloseResult(closed=False, error=f"refused: {_why(code, text)}")

    # -- paying back ---------------------------------------------------------------

    def refund(
        self, *, out_trade_no: str, refund_no: str, amount: int, total: int, reason: str
    ) -> RefundResult:
        try:
            client = self.client()
            code, text = client.query_refund(out_refund_no=refund_no)
            if code == 404:  # never seen: submit it (a retry finds it above instead)
                code, text = client.refund(
                    out_refund_no=refund_no,
                    amount={"refund": amount, "total": total, "currency": "CNY"},
                    out_trade_no=out_trade_no,
                    reason=reason[:80] or None,
                )
        except Exception as exc:  # noqa: BLE001 - unknown outcome: retry with the same number
            return RefundResult(succeeded=False, pending=True, error=f"unreachable: {exc}"[:300])
        if code not in (200, 201):
            return RefundResult(
                succeeded=False, pending=_unsure(code), error=f"refused: {_why(code, text)}"
            )
        data = _load(text)
        refunded = (data.get("amount") or {}).get("refund")
        if data.get("out_refund_no") != refund_no or refunded != amount:
            return RefundResult(succeeded=False, error="refund number used for another amount")
        status = data.get("status", "")
        refund_id = str(data.get("refund_id", ""))
        if status == "SUCCESS":
            return RefundResult(succeeded=True, gateway_refund_id=refund_id)
        if status == "PROCESSING":
            return RefundResult(
                succeeded=False, pending=True, gateway_refund_id=refund_id, error="processing"
            )
        return RefundResult(succeeded=False, gateway_refund_id=refund_id, error=status or "unknown")

    def payout(
        self,
        *,
        payout_no: str,
        user_ref: str,
        amount: int,
        description: str,
        payee_name: str = "",
    ) -> PayoutResult:
        openid = _openid(user_ref)
        if not openid:
            return PayoutResult(succeeded=False, error="payee has no WeChat openid")
        if not _NUMBER.fullmatch(payout_no):
            return PayoutResult(succeeded=False, error="payout number must be 1-32 letters/digits")
        if amount >= REAL_NAME_FROM and not payee_name:
            return PayoutResult(succeeded=False, error="2,000 yuan or more needs the real name")
        remark = (description or "Quanzi payout")[:32]
        try:
            client = self.client()
            result = self._transfer_state(client, payout_no)
            if result is not None:
                return result
            code, text = client.transfer_query_out_batch_no(out_batch_no=payout_no)
            if code == 404:
                code, text = client.transfer_batch(
                    out_batch_no=payout_no,
                    batch_name=remark,
                    batch_remark=remark,
                    total_amount=amount,
                    total_num=1,
                    transfer_detail_list=[
                        {
                            "out_detail_no": payout_no,
                            "transfer_amount": amount,
                            "transfer_remark": remark,
                            "openid": openid,
                            # The SDK encrypts it with the platform key and names that
                            # key's serial in the Wechatpay-Serial header.
                            **(
                                {"user_name": payee_name}
                                if _names_payee(amount, payee_name)
                                else {}
                            ),
                        }
                    ],
                    transfer_scene_id=_setting("TRANSFER_SCENE_ID") or None,
                )
                if code not in (200, 201):
                    return PayoutResult(
                        succeeded=False, pending=_unsure(code), error=f"refused: {_why(code, text)}"
                    )
                result = self._transfer_state(client, payout_no)
                if result is not None:
                    return result
            elif code != 200:
                return PayoutResult(succeeded=False, pending=True, error=_why(code, text))
        except Exception as exc:  # noqa: BLE001 - unknown outcome: ask again, same number
            return PayoutResult(succeeded=False, pending=True, error=f"unreachable: {exc}"[:300])
        # The batch exists but its detail is not visible yet (the query answers
        # {"transfer_batch": {...}}, the creation the batch itself).
        answer = _load(text)
        batch = answer.get("transfer_batch") or answer
        ref = str(batch.get("batch_id", ""))
        if batch.get("batch_status") == "CLOSED":
            reason = batch.get("close_reason", "")
            return PayoutResult(succeeded=False, gateway_ref=ref, error=f"closed {reason}".strip())
        return PayoutResult(succeeded=False, pending=True, gateway_ref=ref, error="accepted")

    def _transfer_state(self, client: _Client, payout_no: str) -> PayoutResult | None:
        """The transfer detail's final state, ``pending`` while in flight, None if unknown."""
        code, text = client.transfer_query_out_detail_no(
            out_detail_no=payout_no, out_batch_no=payout_no
        )
        if code == 404:
            return None
        if code != 200:
            return PayoutResult(succeeded=False, pending=True, error=_why(code, text))
        detail = _load(text)
        status, ref = detail.get("detail_status", ""), str(detail.get("detail_id", ""))
        if status == "SUCCESS":
            return PayoutResult(succeeded=True, gateway_ref=ref)
        if status == "FAIL":
            return PayoutResult(
                succeeded=False, gateway_ref=ref, error=f"failed: {detail.get('fail_reason', '')}"
            )
        return PayoutResult(succeeded=False, pending=True, gateway_ref=ref, error=status.lower())
