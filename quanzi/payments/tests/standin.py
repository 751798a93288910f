"""Local stand-ins for WeChat Pay v3 and Alipay, served on 127.0.0.1 in a thread.

Each plays its provider closely enough for the adapters' SDKs: it checks the merchant's
request signature, answers with responses signed by the provider's own key (generated
here), keeps its own books (trades, refunds, transfers — idempotent on their numbers, as
the real services are) and records every request. It also builds the asynchronous
notifications the provider would send when the customer pays.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

# -- keys and certificates ---------------------------------------------------------------


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def generated_key(role: str) -> rsa.RSAPrivateKey:
    """One generated key per role ("merchant", "platform", …) for the whole test run."""
    return rsa_key()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def certificate(
    key: rsa.RSAPrivateKey,
    common_name: str,
    *,
    issuer_key: rsa.RSAPrivateKey | None = None,
    issuer_name: str | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """A certificate for ``key``, self-signed unless an issuer is given."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quanzi Test"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Payments"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    issuer = subject
    if issuer_name is not None:
        issuer = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quanzi Test"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Payments"),
                x509.NameAttribute(NameOID.COMMON_NAME, issuer_name),
            ]
        )
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(issuer_key or key, hashes.SHA256())
    )


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(public_key, message: str, signature: str) -> bool:
    try:
        public_key.verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# -- the HTTP server -------------------------------------------------------------------


class StandIn:
    """A provider on 127.0.0.1: subclasses answer ``handle(method, path, headers, body)``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lose_next_answer = False  # do the next POST/transfer, then answer HTTP 500
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def _lost(self, answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], bytes]:
        """The provider did the work but its answer never arrived in one piece."""
        if not self.lose_next_answer:
            return answer
        self.lose_next_answer = False
        return 500, {"Content-Type": "text/plain"}, b"upstream connection reset"

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @contextmanager
    def running(self) -> Iterator[StandIn]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {key: value for key, value in self.headers.items()}
                with stand_in._lock:
                    status, out_headers, out = stand_in.handle(
                        self.command, self.path, headers, body
                    )
                self.send_response(status)
                for key, value in out_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
        thread.daemon = True
        self._server = server
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    def calls(self, method: str, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(prefix)]


@contextmanager
def local_network_only(monkeypatch) -> Iterator[list[str]]:
    """Refuse (and record) any name lookup that is not for this machine."""
    real = socket.getaddrinfo
    refused: list[str] = []

    def guarded(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOCAL_HOSTS:
            refused.append(name)
            raise OSError(f"test network guard: {name} is not local")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield refused


# -- WeChat Pay v3 ---------------------------------------------------------------------

_AUTH = re.compile(r'(\w+)="([^"]*)"')


class WechatPayStandIn(StandIn):
    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        apiv3_key: str,
        merchant_key: rsa.RSAPrivateKey,
        merchant_serial: str,
        platform_key: rsa.RSAPrivateKey,
        platform_cert: x509.Certificate,
    ) -> None:
        super().__init__()
        self.mchid, self.appid, self.apiv3_key = mchid, appid, apiv3_key
        self.merchant_public = merchant_key.public_key()
        self.merchant_serial = merchant_serial
        self.platform_key = platform_key
        self.platform_cert = platform_cert
        self.platform_serial = format(platform_cert.serial_number, "X")
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.refund_status = "SUCCESS"  # what a new refund starts as ("PROCESSING" to delay)
        self.transfer_status = "SUCCESS"

    # signing ----------------------------------------------------------------------------

    def signed_headers(
        self, body: str, *, key: rsa.RSAPrivateKey | None = None, serial: str | None = None
    ) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": serial or self.platform_serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Signature": rsa_sign(
                key or self.platform_key, f"{timestamp}\n{nonce}\n{body}\n"
            ),
        }

    def encrypt(self, plaintext: str, *, associated_data: str, key: str | None = None) -> dict:
        nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay sends
        ciphertext = AESGCM((key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), plaintext.encode(), associated_data.encode()
        )
        return {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": associated_data,
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def _answer(self, status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {"Content-Type": "application/json; charset=utf-8", **self.signed_headers(body)}
        return status, headers, body.encode()

    def _error(self, status: int, code: str, message: str):
        return self._answer(status, {"code": code, "message": message})

    def _merchant_signed(self, method: str, path: str, headers: dict[str, str], body: str) -> bool:
        auth = headers.get("Authorization", "")
        scheme, _, rest = auth.partition(" ")
        fields = dict(_AUTH.findall(rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != self.mchid:
            return False
        if fields.get("serial_no") != self.merchant_serial:
            return False
        message = (
            f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
        )
        return rsa_verify(self.merchant_public, message, fields.get("signature", ""))

    # the customer pays --------------------------------------------------------------------

    def notification(
        self,
        out_trade_no: str,
        *,
        transaction_id: str | None = None,
        amount: int | None = None,
        trade_state: str = "SUCCESS",
        signing_key: rsa.RSAPrivateKey | None = None,
        apiv3_key: str | None = None,
        mchid: str | None = None,
    ) -> dict[str, Any]:
        """The customer pays ``out_trade_no``: the notification WeChat Pay would POST."""
        trade = self.trades[out_trade_no]
        if trade_state == "SUCCESS" and trade["trade_state"] != "SUCCESS":
            trade["trade_state"] = "SUCCESS"
            trade["transaction_id"] = transaction_id or "42000" + secrets.token_hex(12)
        resource = {
            "mchid": mchid or self.mchid,
            "appid": self.appid,
            "out_trade_no": out_trade_no,
            "transaction_id": trade.get("transaction_id") or transaction_id or "",
            "trade_type": trade["trade_type"],
            "trade_state": trade_state,
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "payer": {"openid": trade.get("openid") or "o-standin-payer"},
            "amount": {
                "total": trade["amount"] if amount is None else amount,
                "payer_total": trade["amount"] if amount is None else amount,
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        body = json.dumps(
            {
                "id": secrets.token_hex(16),
                "create_time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    **self.encrypt(
                        json.dumps(resource, ensure_ascii=False),
                        associated_data="transaction",
                        key=apiv3_key,
                    ),
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return {"headers": self.signed_headers(body, key=signing_key), "body": body}

    def refund_notification(self, out_refund_no: str) -> dict[str, Any]:
        """What WeChat Pay POSTs to the notify URL the refund request carried."""
        refund = self.refunds[out_refund_no]
        resource = {
            "mchid": self.mchid,
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": refund["status"],
            "user_received_account": "支付用户零钱",
            "amount": {
                k: refund["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")
            },
        }
        body = json.dumps(
            {
                "id": secrets.token_hex(16),
                "create_time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "resource_type": "encrypt-resource",
                "event_type": "REFUND.SUCCESS",
                "summary": "退款成功",
                "resource": {
                    "original_type": "refund",
                    **self.encrypt(
                        json.dumps(resource, ensure_ascii=False), associated_data="refund"
                    ),
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return {"headers": self.signed_headers(body), "body": body}

    # the API ------------------------------------------------------------------------------

    def handle(self, method, path, headers, body):
        text = body.decode()
        data = json.loads(text) if text else {}
        self.requests.append({"method": method, "path": path, "body": data})
        if not self._merchant_signed(method, path, headers, text):
            return self._error(401, "SIGN_ERROR", "签名错误")
        route = urlsplit(path).path
        if method == "POST" and route in (
            "/v3/pay/transactions/native",
            "/v3/pay/transactions/jsapi",
        ):
            return self._pay(route.rsplit("/", 1)[1].upper(), data)
        close = re.fullmatch(r"/v3/pay/transactions/out-trade-no/(\w+)/close", route)
        if method == "POST" and close:
            return self._close(close[1])
        if method == "GET" and route.startswith("/v3/pay/transactions/out-trade-no/"):
            trade = self.trades.get(route.rsplit("/", 1)[1])
            if trade is None:
                return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
            return self._answer(200, self._trade_out(trade))
        if method == "POST" and route == "/v3/refund/domestic/refunds":
            return self._lost(self._refund(data))
        if method == "GET" and route.startswith("/v3/refund/domestic/refunds/"):
            refund = self.refunds.get(route.rsplit("/", 1)[1])
            if refund is None:
                return self._error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return self._answer(200, refund)
        if method == "POST" and route == "/v3/transfer/batches":
            return self._lost(self._transfer(data, headers))
        match = re.fullmatch(
            r"/v3/transfer/batches/out-batch-no/(\w+)(?:/details/out-detail-no/(\w+))?", route
        )
        if method == "GET" and match:
            batch = self.batches.get(match[1])
            if batch is None:
                return self._error(404, "NOT_FOUND", "记录不存在")
            if match[2] is None:
                return self._answer(200, {"transfer_batch": batch["batch"]})
            detail = batch["details"].get(match[2])
            if detail is None:
                return self._error(404, "NOT_FOUND", "记录不存在")
            return self._answer(200, detail)
        if method == "GET" and route == "/v3/certificates":
            return self._certificates()
        return self._error(404, "NOT_FOUND", f"no route {method} {route}")

    def _pay(self, trade_type: str, data: dict[str, Any]):
        if data.get("mchid") != self.mchid or data.get("appid") != self.appid:
            return self._error(400, "PARAM_ERROR", "mchid/appid")
        if not data.get("notify_url") or not isinstance(data.get("amount", {}).get("total"), int):
            return self._error(400, "PARAM_ERROR", "notify_url/amount")
        openid = (data.get("payer") or {}).get("openid")
        if trade_type == "JSAPI" and not openid:
            return self._error(400, "PARAM_ERROR", "payer.openid")
        number = data["out_trade_no"]
        trade = self.trades.get(number)
        if trade is not None and trade["amount"] != data["amount"]["total"]:
            return self._error(400, "INVALID_REQUEST", "参数与首次请求时不一致")
        if trade is None:
            trade = self.trades[number] = {
                "out_trade_no": number,
                "amount": data["amount"]["total"],
                "description": data.get("description"),
                "notify_url": data["notify_url"],
                "trade_type": trade_type,
                "trade_state": "NOTPAY",
                "openid": openid,
                "code_url": "weixin://wxpay/bizpayurl?pr=" + secrets.token_hex(5),
                "time_expire": data.get("time_expire"),
                "prepay_id": "wx" + secrets.token_hex(16),
            }
        if trade_type == "JSAPI":
            return self._answer(200, {"prepay_id": trade["prepay_id"]})
        return self._answer(200, {"code_url": trade["code_url"]})

    def _close(self, number: str):
        trade = self.trades.get(number)
        if trade is None:
            return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
        if trade["trade_state"] == "SUCCESS":
            return self._error(400, "ORDERPAID", "订单已支付")
        trade["trade_state"] = "CLOSED"
        return 204, self.signed_headers(""), b""

    def _trade_out(self, trade: dict[str, Any]) -> dict[str, Any]:
        out = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": trade["out_trade_no"],
            "trade_type": trade["trade_type"],
            "trade_state": trade["trade_state"],
            "amount": {"total": trade["amount"], "currency": "CNY"},
        }
        if trade.get("transaction_id"):
            out["transaction_id"] = trade["transaction_id"]
        return out

    def _refund(self, data: dict[str, Any]):
        number = data.get("out_refund_no")
        if number in self.refunds:  # the same refund number refunds once
            return self._answer(200, self.refunds[number])
        trade = self.trades.get(data.get("out_trade_no", ""))
        if trade is None or trade["trade_state"] not in ("SUCCESS", "REFUND"):
            return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
        amount = data.get("amount") or {}
        already = sum(
            r["amount"]["refund"]
            for r in self.refunds.values()
            if r["out_trade_no"] == trade["out_trade_no"]
        )
        if (
            amount.get("total") != trade["amount"]
            or already + amount.get("refund", 0) > trade["amount"]
        ):
            return self._error(400, "INVALID_REQUEST", "退款金额超过订单可退金额")
        trade["trade_state"] = "REFUND"
        refund = self.refunds[number] = {
            "refund_id": "50300" + secrets.token_hex(12),
            "out_refund_no": number,
            "transaction_id": trade["transaction_id"],
            "out_trade_no": trade["out_trade_no"],
            "channel": "ORIGINAL",
            "status": self.refund_status,
            "amount": {
                "total": trade["amount"],
                "refund": amount["refund"],
                "payer_total": trade["amount"],
                "payer_refund": amount["refund"],
                "currency": "CNY",
            },
        }
        return self._answer(200, refund)

    def complete_refunds(self) -> None:
        for refund in self.refunds.values():
            if refund["status"] == "PROCESSING":
                refund["status"] = "SUCCESS"

    def _payee_name(self, detail: dict[str, Any], headers: dict[str, str]) -> str | None:
        """The detail's real name, decrypted as WeChat Pay does (RSA-OAEP with the platform
        key named in Wechatpay-Serial); None when it is sent in the clear or does not
        decrypt."""
        if headers.get("Wechatpay-Serial") != self.platform_serial:
            return None
        try:
            return self.platform_key.decrypt(
                base64.b64decode(detail["user_name"]),
                padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
            ).decode()
        except (ValueError, TypeError):
            return None

    def _transfer(self, data: dict[str, Any], headers: dict[str, str]):
        number = data.get("out_batch_no", "")
        if number in self.batches:
            return self._error(400, "INVALID_REQUEST", "商家批次单号已存在")
        details = data.get("transfer_detail_list") or []
        if data.get("appid") != self.appid or data.get("total_num") != len(details):
            return self._error(400, "PARAM_ERROR", "appid/total_num")
        if data.get("total_amount") != sum(d["transfer_amount"] for d in details):
            return self._error(400, "PARAM_ERROR", "total_amount")
        names = {}
        for d in details:
            if "user_name" in d:
                names[d["out_detail_no"]] = self._payee_name(d, headers)
                if names[d["out_detail_no"]] is None:
                    return self._error(400, "PARAM_ERROR", "user_name 解密失败")
            elif d["transfer_amount"] >= 200_000:
                return self._error(400, "PARAM_ERROR", "转账金额>=2000元时，收款用户姓名必填")
        batch_id = "1030000" + secrets.token_hex(10)
        batch = {
            "mchid": self.mchid,
            "out_batch_no": number,
            "batch_id": batch_id,
            "appid": self.appid,
            "batch_status": "ACCEPTED",
            "batch_name": data.get("batch_name"),
            "total_amount": data["total_amount"],
            "total_num": data["total_num"],
        }
        self.batches[number] = {
            "batch": batch,
            "details": {
                d["out_detail_no"]: {
                    "mchid": self.mchid,
                    "out_batch_no": number,
                    "batch_id": batch_id,
                    "out_detail_no": d["out_detail_no"],
                    "detail_id": "1040000" + secrets.token_hex(10),
                    "detail_status": self.transfer_status,
                    "transfer_amount": d["transfer_amount"],
                    "openid": d["openid"],
                    # What WeChat Pay read (its answers carry the name encrypted).
                    "received_user_name": names.get(d["out_detail_no"]),
                }
                for d in details
            },
        }
        return self._answer(
            200, {"out_batch_no": number, "batch_id": batch_id, "batch_status": "ACCEPTED"}
        )

    def _certificates(self):
        encrypted = self.encrypt(cert_pem(self.platform_cert), associated_data="certificate")
        return self._answer(
            200,
            {
                "data": [
                    {
                        "serial_no": self.platform_serial,
                        "effective_time": "2020-01-01T00:00:00+08:00",
                        "expire_time": "2099-01-01T00:00:00+08:00",
                        "encrypt_certificate": encrypted,
                    }
                ]
            },
        )


# -- Alipay ----------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(amount: str) -> int:
    return int(Decimal(amount) * 100)


def alipay_content(params: dict[str, str], *, notification: bool = False) -> str:
    """What is signed: the fields sorted, ``k=v`` joined by &, without ``sign`` (and without
    ``sign_type`` in a notification)."""
    left_out = ("sign", "sign_type") if notification else ("sign",)
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in left_out)


class AlipayStandIn(StandIn):
    def __init__(self, *, app_id: str, app_public_key, alipay_key: rsa.RSAPrivateKey) -> None:
        super().__init__()
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.alipay_key = alipay_key
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[tuple[str, str], dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.cert_sns: tuple[str, str] | None = None  # (app_cert_sn, root_cert_sn) in cert mode

    def _verify_request(self, params: dict[str, str]) -> bool:
        if params.get("app_id") != self.app_id or params.get("sign_type") != "RSA2":
            return False
        if (
            self.cert_sns is not None
            and (
                params.get("app_cert_sn"),
                params.get("alipay_root_cert_sn"),
            )
            != self.cert_sns
        ):
            return False
        return rsa_verify(self.app_public_key, alipay_content(params), params.get("sign", ""))

    def open_pay_url(self, url: str) -> dict[str, Any]:
        """The customer opens the pay URL Quanzi handed out (checked as Alipay would)."""
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == self.url, url
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.requests.append({"method": "GET", "path": parts.path, "body": params})
        if not self._verify_request(params):
            raise AssertionError("the pay URL's signature does not verify")
        biz = json.loads(params["biz_content"])
        product = {
            "alipay.trade.page.pay": "FAST_INSTANT_TRADE_PAY",
            "alipay.trade.wap.pay": "QUICK_WAP_WAY",
        }
        assert biz.get("product_code") == product[params["method"]], biz
        trade = self.trades.setdefault(
            biz["out_trade_no"],
            {
                "out_trade_no": biz["out_trade_no"],
                "total_amount": biz["total_amount"],
                "subject": biz["subject"],
                "notify_url": params.get("notify_url"),
                "trade_status": "WAIT_BUYER_PAY",
                "trade_no": "2025" + secrets.token_hex(10),
                "time_expire": biz.get("time_expire"),
            },
        )
        return trade

    def notification(
        self,
        out_trade_no: str,
        *,
        trade_status: str = "TRADE_SUCCESS",
        total_amount: str | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
        app_id: str | None = None,
    ) -> str:
        """The customer pays: the form Alipay would POST to the notify URL."""
        trade = self.trades[out_trade_no]
        if trade_status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            trade["trade_status"] = trade_status
        now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        amount = total_amount or trade["total_amount"]
        form = {
            "gmt_create": now,
            "charset": "utf-8",
            "seller_email": "shop@example.com",
            "subject": trade["subject"],
            "buyer_id": "2088102177846880",
            "invoice_amount": amount,
            "notify_id": secrets.token_hex(16),
            "fund_bill_list": json.dumps([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}]),
            "notify_type": "trade_status_sync",
            "trade_status": trade_status,
            "receipt_amount": amount,
            "app_id": app_id or self.app_id,
            "buyer_pay_amount": amount,
            "gmt_payment": now,
            "notify_time": now,
            "version": "1.0",
            "out_trade_no": out_trade_no,
            "total_amount": amount,
            "trade_no": trade["trade_no"],
            "auth_app_id": app_id or self.app_id,
            "buyer_logon_id": "cus***@example.com",
            "point_amount": "0.00",
        }
        form["sign"] = rsa_sign(
            signing_key or self.alipay_key, alipay_content(form, notification=True)
        )
        form["sign_type"] = "RSA2"
        return urlencode(form)

    def _answer(self, method: str, inner: dict[str, Any]):
        content = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        name = method.replace(".", "_") + "_response"
        body = f'{{"{name}":{content},"sign":"{rsa_sign(self.alipay_key, content)}"}}'
        return 200, {"Content-Type": "text/html;charset=utf-8"}, body.encode()

    def handle(self, method, path, headers, body):
        parts = urlsplit(path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
        self.requests.append({"method": method, "path": parts.path, "body": params})
        api = params.get("method", "")
        if not self._verify_request(params):
            return self._answer(
                api,
                {
                    "code": "40002",
                    "msg": "Invalid Arguments",
                    "sub_code": "isv.invalid-signature",
                    "sub_msg": "验签出错",
                },
            )
        biz = json.loads(params.get("biz_content") or "{}")
        if api == "alipay.trade.query":
            trade = self.trades.get(biz.get("out_trade_no", ""))
            if trade is None:
                return self._answer(
                    api,
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "ACQ.TRADE_NOT_EXIST",
                        "sub_msg": "交易不存在",
                    },
                )
            return self._answer(
                api,
                {
                    "code": "10000",
                    "msg": "Success",
                    **{
                        k: trade[k]
                        for k in ("trade_no", "out_trade_no", "total_amount", "trade_status")
                    },
                },
            )
        if api == "alipay.trade.close":
            return self._close(api, biz)
        if api == "alipay.trade.refund":
            return self._lost(self._refund(api, biz))
        if api == "alipay.fund.trans.uni.transfer":
            return self._lost(self._transfer(api, biz))
        return self._answer(
            api, {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"}
        )

    def _close(self, api: str, biz: dict[str, Any]):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            failed = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
            return self._answer(api, failed)
        if trade["trade_status"] != "WAIT_BUYER_PAY":
            failed = {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_STATUS_ERROR",
            }
            return self._answer(api, failed)
        trade["trade_status"] = "TRADE_CLOSED"
        return self._answer(
            api, {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"]}
        )

    def _refund(self, api: str, biz: dict[str, Any]):
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None or trade["trade_status"] not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self._answer(
                api, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
            )
        key = (trade["out_trade_no"], biz.get("out_request_no") or trade["out_trade_no"])
        refunded = sum(_fen(r["amount"]) for k, r in self.refunds.items() if k[0] == key[0])
        fund_change = "N"
        if key not in self.refunds:  # the same out_request_no refunds once
            if refunded + _fen(biz["refund_amount"]) > _fen(trade["total_amount"]):
                return self._answer(
                    api,
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                    },
                )
            self.refunds[key] = {"amount": biz["refund_amount"], "reason": biz.get("refund_reason")}
            refunded += _fen(biz["refund_amount"])
            fund_change = "Y"
        return self._answer(
            api,
            {
                "code": "10000",
                "msg": "Success",
                "trade_no": trade["trade_no"],
                "out_trade_no": trade["out_trade_no"],
                "buyer_logon_id": "cus***@example.com",
                "fund_change": fund_change,
                "refund_fee": _yuan(refunded),
            },
        )

    def _transfer(self, api: str, biz: dict[str, Any]):
        number = biz.get("out_biz_no", "")
        if number not in self.transfers:  # the same out_biz_no transfers once
            payee = biz.get("payee_info") or {}
            if (
                payee.get("identity_type")
                not in ("ALIPAY_USER_ID", "ALIPAY_OPEN_ID", "ALIPAY_LOGON_ID")
                or biz.get("product_code") != "TRANS_ACCOUNT_NO_PWD"
            ):
                return self._answer(
                    api, {"code": "40004", "msg": "Business Failed", "sub_code": "PAYEE_NOT_EXIST"}
                )
            if payee["identity_type"] == "ALIPAY_LOGON_ID" and not payee.get("name"):
                return self._answer(
                    api,
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "PAYEE_USER_INFO_ERROR",
                    },
                )
            self.transfers[number] = {
                "out_biz_no": number,
                "order_id": "2025" + secrets.token_hex(10),
                "pay_fund_order_id": "2025" + secrets.token_hex(10),
                "status": "SUCCESS",
                "trans_date": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
                "amount": biz["trans_amount"],
                "payee": payee,
            }
        transfer = self.transfers[number]
        return self._answer(
            api,
            {
                "code": "10000",
                "msg": "Success",
                **{
                    k: transfer[k]
                    for k in ("out_biz_no", "order_id", "pay_fund_order_id", "status", "trans_date")
                },
            },
        )


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)
