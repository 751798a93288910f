"""Structured logs: a request id in and out, the ids on every line, each money movement once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys

from quanzi.core.logging import JsonFormatter, log_context
from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import Leg, entry_post


def _lines(captured: str) -> list[dict]:
    out = []
    for line in captured.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_a_request_id_is_made_when_missing_and_kept_when_given(anon):
    made = anon.get("/products")
    assert re.fullmatch(r"[0-9a-f]{32}", made["X-Request-ID"])
    assert anon.get("/products", headers={"X-Request-ID": "edge-7f3a.1"})["X-Request-ID"] == (
        "edge-7f3a.1"
    )
    forged = anon.get("/products", headers={"X-Request-ID": 'x" injected\n{"level":"error"}'})
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
    assert anon.client.get("/healthz")["X-Request-ID"]


def test_every_line_of_a_request_carries_its_request_and_user_ids(
    customer, sku, make_address, capsys
):
    address = make_address(customer)
    order = customer.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
    ).json()
    payment = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
    capsys.readouterr()
    done = customer.api.post(
        f"/payments/sandbox/{payment['payment_id']}/complete", headers={"X-Request-ID": "rid-pay-1"}
    )
    assert done.status_code == 200 and done["X-Request-ID"] == "rid-pay-1"
    lines = _lines(capsys.readouterr().err)
    captured = [line for line in lines if line["event"] == "payment captured"]
    assert len(captured) == 1
    assert captured[0]["request_id"] == "rid-pay-1"
    assert captured[0]["user_id"] == customer.pk  # added by the filter, not by the service
    assert captured[0]["order_id"] == order["id"]
    assert captured[0]["payment_id"] == payment["payment_id"]
    access = [line for line in lines if line["event"] == "request"]
    assert access and access[-1]["status"] == 200 and access[-1]["request_id"] == "rid-pay-1"
    assert access[-1]["path"].endswith("/complete") and access[-1]["duration_ms"] >= 0
    assert all(line.get("request_id") == "rid-pay-1" for line in lines)


def test_each_money_movement_is_logged_exactly_once(customer, operator, sku, buy, capsys):
    capsys.readouterr()
    before = set(JournalEntry.objects.values_list("key", flat=True))
    order = buy(customer, sku, qty=2)
    refund = operator.api.post(f"/admin/orders/{order['id']}/refunds", {"reason": "damaged"})
    assert refund.status_code == 201, refund.content
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "refunded"
    new_keys = set(JournalEntry.objects.values_list("key", flat=True)) - before
    logged = [
        line["key"] for line in _lines(capsys.readouterr().err) if line["event"] == "ledger entry"
    ]
    assert len(new_keys) >= 2  # the payment and its refund at least
    assert sorted(logged) == sorted(new_keys)  # each entry once, none twice, none missing

    # Posting an entry again (a retried task, a duplicate notification) logs nothing.
    from django.db import transaction

    some_key = sorted(new_keys)[0]
    entry = JournalEntry.objects.get(key=some_key)
    same_legs = [
        Leg(p.account.code, p.amount, p.unit) for p in entry.postings.select_related("account")
    ]
    with transaction.atomic():
        entry_post(key=some_key, kind=entry.kind, legs=same_legs)
    assert not [line for line in _lines(capsys.readouterr().err) if line["event"] == "ledger entry"]


def test_bound_ids_and_exceptions_are_in_the_json_line():
    record = logging.LogRecord("quanzi.x", logging.ERROR, __file__, 1, "boom %s", ("here",), None)
    from quanzi.core.logging import ContextFilter

    with log_context(order_id=42):
        ContextFilter().filter(record)
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    payload = json.loads(JsonFormatter().format(record))
    assert payload["event"] == "boom here" and payload["level"] == "error"
    assert payload["order_id"] == 42 and "ValueError: bad" in payload["exc"]


class _Writes(io.StringIO):
    """A stderr that counts its writes."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def test_lines_of_one_turn_of_an_event_loop_are_written_together_and_in_order(monkeypatch):
    from quanzi.core.logging import StderrHandler

    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("quanzi.test.turns")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    stderr = _Writes()
    monkeypatch.setattr(sys, "stderr", stderr)

    async def requests():
        async def one(n):
            log.info("request", extra={"n": n})
            await asyncio.sleep(0)
            log.info("answered", extra={"n": n})

        await asyncio.gather(*(one(n) for n in range(5)))

    try:
        log.info("before")  # no loop on this thread: written at once
        assert stderr.writes == 1
        asyncio.run(requests())
        log.info("after")
    finally:
        log.removeHandler(handler)
    lines = _lines(stderr.getvalue())
    assert [(line["event"], line.get("n")) for line in lines] == [
        ("before", None),
        *(("request", n) for n in range(5)),
        *(("answered", n) for n in range(5)),
        ("after", None),
    ]
    # Ten lines from the loop in two turns: two writes, not ten.
    assert stderr.writes == 1 + 2 + 1
