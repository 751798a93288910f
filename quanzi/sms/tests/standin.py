"""A stand-in for Tencent Cloud SMS's API (``SendSms``, version 2021-01-11), served on a
local port for the tests (no internet).

It answers the way Tencent Cloud does — a JSON ``Response`` with a ``SendStatusSet``, or
an ``Error`` with its code — so the real SDK, pointed at it by the endpoint setting, runs
unchanged. It does not verify signatures but refuses a request without a
``TC3-HMAC-SHA256`` ``Authorization`` header (``AuthFailure.SignatureFailure``).
``fail(code)`` queues an answer: an error of the request (``RequestLimitExceeded``…), of
the number (``status:LimitExceeded.PhoneNumberDailyLimit``), or ``"http500"``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class State:
    requests: list[dict] = field(default_factory=list)  # every request that reached it
    sent: list[dict] = field(default_factory=list)  # the SendSms bodies it accepted
    failures: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds every answer waits (to widen races)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeTencentSms:
    def __init__(self) -> None:
        self.state = State()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                fake._answer(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.sent.clear()
            self.state.failures.clear()
            self.state.delay = 0.0

    def fail(self, *codes: str) -> None:
        with self.state.lock:
            self.state.failures.extend(codes)

    # -- answering ------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        request_id = str(uuid.uuid4())
        if self.state.delay:
            time.sleep(self.state.delay)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        with self.state.lock:
            self.state.requests.append({"headers": headers, "body": body})
            failure = self.state.failures.pop(0) if self.state.failures else ""
        auth = headers.get("authorization", "")
        if not (auth.startswith("TC3-HMAC-SHA256 Credential=") and "Signature=" in auth):
            return self._error(handler, request_id, "AuthFailure.SignatureFailure", "no signature")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return self._error(handler, request_id, "InvalidAction", "unknown action")
        for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not body.get(name):
                return self._error(
                    handler, request_id, "MissingParameter", f"The parameter `{name}` is missing"
                )
        if failure == "http500":
            handler.send_response(500)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        if failure and not failure.startswith("status:"):
            return self._error(handler, request_id, failure, failure)
        statuses = []
        for phone in body["PhoneNumberSet"]:
            if failure:
                code = failure.removeprefix("status:")
                statuses.append(_status(phone, code, code, serial=""))
            else:
                statuses.append(_status(phone, "Ok", "send success", serial=uuid.uuid4().hex))
        if not failure:
            with self.state.lock:
                self.state.sent.append(body)
        return self._json(
            handler, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}
        )

    def _error(self, handler, request_id: str, code: str, message: str) -> None:
        answer = {
            "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
        }
        return self._json(handler, answer)

    @staticmethod
    def _json(handler, answer: dict) -> None:
        data = json.dumps(answer).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _status(phone: str, code: str, message: str, *, serial: str) -> dict:
    return {
        "SerialNo": serial,
        "PhoneNumber": phone,
        "Fee": 1 if code == "Ok" else 0,
        "SessionContext": "",
        "Code": code,
        "Message": message,
        "IsoCode": "CN",
    }
