"""A local stand-in for 快递100, served on 127.0.0.1 (the payment stand-ins' server).

It checks what the real service checks (the query's ``sign`` made with the key and the
customer id; the subscription's key), keeps its own parcels' scans, records every
request, and builds the signed pushes the real service would post to our callback.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from quanzi.payments.tests.standin import StandIn

CUSTOMER, KEY, SALT = "QZCUSTOMER0001", "qz-kuaidi100-key", "qz-push-salt"
STATE_OF = {"1": "1", "0": "0", "5": "5", "3": "3", "2": "2", "4": "4", "6": "6"}


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324


class Kuaidi100StandIn(StandIn):
    def __init__(self, *, customer: str = CUSTOMER, key: str = KEY, salt: str = SALT):
        super().__init__()
        self.customer, self.key, self.salt = customer, key, salt
        self.scans: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.subscriptions: list[dict[str, Any]] = []

    def scan(self, company: str, number: str, when: str, code: str, text: str, area: str = ""):
        """The carrier scanned the parcel (``when`` in Beijing time, ``code`` its stage)."""
        self.scans.setdefault((company, number), []).append(
            {"time": when, "ftime": when, "context": text, "areaName": area, "statusCode": code}
        )

    def result(self, company: str, number: str, rows: list[dict[str, str]] | None = None):
        rows = sorted(
            rows if rows is not None else self.scans.get((company, number), []),
            key=lambda r: r["time"],
            reverse=True,
        )
        state = rows[0]["statusCode"][:1] if rows else "0"
        return {
            "message": "ok",
            "state": STATE_OF.get(state, "0"),
            "status": "200",
            "ischeck": "1" if state == "3" else "0",
            "com": company,
            "nu": number,
            "data": rows,
        }

    def push_body(self, company: str, number: str, rows=None, *, salt: str | None = None) -> str:
        """The form body the service posts to the callback (signed with the salt)."""
        param = json.dumps(
            {
                "status": "polling",
                "message": "",
                "lastResult": self.result(company, number, rows),
            },
            ensure_ascii=False,
        )
        return urlencode({"param": param, "sign": md5_upper(param + (salt or self.salt))})

    def handle(self, method, path, headers, body):
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        self.requests.append({"method": method, "path": path, "form": form})
        if method == "POST" and path == "/poll":
            param = json.loads(form.get("param", "{}"))
            if param.get("key") != self.key:
                return self._json({"result": False, "returnCode": "600", "message": "key错误"})
            self.subscriptions.append(param)
            return self._json({"result": True, "returnCode": "200", "message": "提交成功"})
        if method == "POST" and path == "/poll/query.do":
            param = form.get("param", "")
            expected = md5_upper(param + self.key + self.customer)
            if form.get("customer") != self.customer or form.get("sign") != expected:
                return self._json({"result": False, "returnCode": "601", "message": "签名错误"})
            asked = json.loads(param)
            if (asked["com"], asked["num"]) not in self.scans:
                return self._json({"result": False, "returnCode": "500", "message": "查询无结果"})
            return self._json(self.result(asked["com"], asked["num"]))
        return 404, {"Content-Type": "text/plain"}, b"not found"

    @staticmethod
    def _json(answer: dict) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
