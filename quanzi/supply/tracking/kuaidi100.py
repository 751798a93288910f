"""快递100 (Kuaidi100), the common Chinese carrier aggregator.

* Query (实时查询): ``POST {base}/poll/query.do`` with form fields ``customer``,
  ``param`` (JSON: ``com``, ``num``, ``phone``, ``resultv2``) and
  ``sign = MD5(param + key + customer)`` in upper-case hex.
* Subscribe (订阅): ``POST {base}/poll`` with ``schema=json`` and ``param`` (JSON:
  ``company``, ``number``, ``key``, ``parameters: {callbackurl, salt, resultv2}``);
  ``returnCode`` 200 is accepted, 501 means already subscribed (also fine).
* Push (推送): the aggregator posts the form fields ``param`` (JSON: ``status``,
  ``lastResult: {com, nu, state, data: [...]}``) and ``sign = MD5(param + salt)``; a
  push whose sign does not match is refused. The answer it expects is
  ``{"result": true, "returnCode": "200"}``.

Event times are Beijing time without a zone. ``statusCode`` (``resultv2=4``) or, for
older answers, the parcel's ``state`` names the stage: 1 揽收, 0 在途, 5 派件, 3 签收,
2 疑难, 4 退签, 6 退回, 14 拒签 (sub-codes such as 301 or 1002 start with their stage).
Settings: ``QUANZI_KUAIDI100_CUSTOMER``, ``_KEY``, ``_SALT``, ``_BASE_URL`` and
``QUANZI_TRACKING_CALLBACK_URL`` (our push endpoint as the internet reaches it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from quanzi.supply.carriers import CARRIERS, carrier_by_kuaidi100
from quanzi.supply.models import ShipmentStatus as St
from quanzi.supply.tracking.base import (
    InvalidPush,
    TrackEvent,
    TrackingError,
    TrackingProvider,
    TrackReport,
    setting,
)

BEIJING = ZoneInfo("Asia/Shanghai")
TIMEOUT = 10

STAGES = {
    "0": St.IN_TRANSIT,
    "1": St.ACCEPTED,
    "2": St.PROBLEM,
    "3": St.DELIVERED,
    "4": St.RETURNED,
    "5": St.DELIVERING,
    "6": St.RETURNED,
    "7": St.IN_TRANSIT,  # 转投
    "8": St.IN_TRANSIT,  # 清关
    "14": St.RETURNED,  # 拒签
}


def stage(code: object) -> str | None:
    code = str(code or "").strip()
    if code in STAGES:
        return STAGES[code]
    if len(code) >= 3 and code[0] in STAGES:  # a sub-code: 301 签收 by the recipient…
        return STAGES[code[0]]
    return None


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 (the provider's scheme)


def parse_result(result: dict, *, carrier: str = "", tracking_no: str = "") -> TrackReport:
    """A query answer or a push's ``lastResult`` as our report."""
    company = str(result.get("com") or "")
    found = carrier_by_kuaidi100(company)
    carrier = found.code if found else carrier
    tracking_no = str(result.get("nu") or tracking_no)
    rows = result.get("data") or []
    parcel_stage = stage(result.get("state"))
    events = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        try:
            when = datetime.strptime(
                str(row.get("ftime") or row.get("time")), "%Y-%m-%d %H:%M:%S"
            ).replace(tzinfo=BEIJING)
        except ValueError:
            continue
        status = stage(row.get("statusCode"))
        if status is None:
            # Without per-event codes, the newest row (first) carries the parcel's state.
            status = parcel_stage if index == 0 and parcel_stage else St.IN_TRANSIT
        events.append(
            TrackEvent(
                time=when,
                status=status,
                location=str(row.get("areaName") or row.get("location") or "")[:100],
                text=str(row.get("context") or "")[:300],
            )
        )
    return TrackReport(carrier=carrier, tracking_no=tracking_no, events=events)


class Kuaidi100(TrackingProvider):
    name = "kuaidi100"

    def __init__(self) -> None:
        self.customer = setting("QUANZI_KUAIDI100_CUSTOMER")
        self.key = setting("QUANZI_KUAIDI100_KEY")
        self.salt = setting("QUANZI_KUAIDI100_SALT")
        self.base_url = setting("QUANZI_KUAIDI100_BASE_URL", "https://poll.kuaidi100.com").rstrip(
            "/"
        )
        self.callback_url = setting("QUANZI_TRACKING_CALLBACK_URL")
        if not (self.customer and self.key and self.salt):
            raise TrackingError("kuaidi100 needs QUANZI_KUAIDI100_CUSTOMER, _KEY and _SALT")

    def _post(self, path: str, form: dict[str, str]) -> dict:
        request = urllib.request.Request(
            self.base_url + path,
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
                body = answer.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TrackingError(f"kuaidi100 unreachable: {exc}") from exc
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise TrackingError("kuaidi100 answered something that is not JSON") from exc
        if not isinstance(parsed, dict):
            raise TrackingError("kuaidi100 answered something that is not an object")
        return parsed

    def _company(self, carrier: str) -> str:
        return CARRIERS[carrier].kuaidi100

    def subscribe(self, *, carrier: str, tracking_no: str, phone: str = "") -> None:
        param = {
            "company": self._company(carrier),
            "number": tracking_no,
            "key": self.key,
            "parameters": {
                "callbackurl": self.callback_url,
                "salt": self.salt,
                "resultv2": "4",
                "phone": phone,
            },
        }
        answer = self._post(
            "/poll", {"schema": "json", "param": json.dumps(param, ensure_ascii=False)}
        )
        if str(answer.get("returnCode")) not in ("200", "501"):
            raise TrackingError(f"kuaidi100 refused the subscription: {answer.get('message')}")

    def query(self, *, carrier: str, tracking_no: str, phone: str = "") -> TrackReport:
        param = json.dumps(
            {"com": self._company(carrier), "num": tracking_no, "phone": phone, "resultv2": "4"},
            ensure_ascii=False,
        )
        answer = self._post(
            "/poll/query.do",
            {
                "customer": self.customer,
                "param": param,
                "sign": md5_upper(param + self.key + self.customer),
            },
        )
        if "data" not in answer:
            raise TrackingError(f"kuaidi100 query failed: {answer.get('message')}")
        return parse_result(answer, carrier=carrier, tracking_no=tracking_no)

    def verify_push(self, *, headers: dict[str, str], body: bytes) -> TrackReport:
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            raise InvalidPush("the body is not text") from exc
        param, sign = form.get("param", ""), form.get("sign", "")
        if not param or not sign:
            raise InvalidPush("param and sign are required")
        if not hmac.compare_digest(md5_upper(param + self.salt), sign.upper()):
            raise InvalidPush("the signature does not match")
        try:
            payload = json.loads(param)
        except ValueError as exc:
            raise InvalidPush("param is not JSON") from exc
        result = payload.get("lastResult") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            raise InvalidPush("the push carries no lastResult")
        report = parse_result(result)
        if report.carrier not in CARRIERS or not report.tracking_no:
            raise InvalidPush("the push names no known carrier and number")
        return report

    def ack(self, ok: bool) -> tuple[int, str, bytes]:
        body = {
            "result": ok,
            "returnCode": "200" if ok else "500",
            "message": "成功" if ok else "失败",
        }
        return 200 if ok else 400, "application/json", json.dumps(body, ensure_ascii=False).encode()
