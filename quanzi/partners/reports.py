"""What a partner brought, per local day, and the lines it reconciles against.

Per day (the order's placement day, local time): ``new_users`` (members whose first
arrival was that day), ``buyers`` (distinct members who placed a partner order),
``orders`` (partner orders placed), ``paid_orders`` (of those, paid at some time),
``gmv`` (what the paid ones charged, fen), ``refunds`` (what was refunded of them, fen).
The reconciliation CSV lists the same orders one per line, so its sums are the report's.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from quanzi.core.errors import Invalid
from quanzi.orders.numbers import order_number
from quanzi.partners.models import PartnerMember, PartnerOrder

MAX_DAYS = 92
CSV_HEADER = [
    "order_no",
    "partner_uid",
    "level",
    "placed_at",
    "paid_at",
    "amount",
    "refund",
    "status",
]


def _window(date_from: date | None, date_to: date | None) -> tuple[date, date, datetime, datetime]:
    today = timezone.localdate()
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=29)
    if date_from > date_to or (date_to - date_from).days >= MAX_DAYS:
        raise Invalid("invalid_period", f"a period of 1 to {MAX_DAYS} days", {"field": "date_from"})
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    return date_from, date_to, start, end


def _orders(partner_id: int, start: datetime, end: datetime):
    return (
        PartnerOrder.objects.filter(
            partner_id=partner_id, order__created_at__gte=start, order__created_at__lt=end
        )
        .order_by("order_id")
        .values_list(
            "order_id",
            "uid",
            "level_code",
            "member_id",
            "order__created_at",
            "order__paid_at",
            "order__payable",
            "order__refunded_amount",
            "order__status",
        )
    )


def partner_report(*, partner_id: int, date_from: date | None = None, date_to: date | None = None):
    date_from, date_to, start, end = _window(date_from, date_to)
    days: dict[date, dict] = {}
    day = date_from
    while day <= date_to:
        days[day] = {
            "day": day,
            "new_users": 0,
            "buyers": 0,
            "orders": 0,
            "paid_orders": 0,
            "gmv": 0,
            "refunds": 0,
        }
        day += timedelta(days=1)
    buyers: dict[date, set[int]] = defaultdict(set)
    for _, _, _, member_id, created, paid, payable, refunded, _ in _orders(partner_id, start, end):
        row = days[timezone.localdate(created)]
        row["orders"] += 1
        buyers[row["day"]].add(member_id)
        if paid is not None:
            row["paid_orders"] += 1
            row["gmv"] += payable
            row["refunds"] += refunded
    arrivals = PartnerMember.objects.filter(
        partner_id=partner_id, first_arrived_at__gte=start, first_arrived_at__lt=end
    ).values_list("first_arrived_at", flat=True)
    for first in arrivals:
        days[timezone.localdate(first)]["new_users"] += 1
    for day, members in buyers.items():
        days[day]["buyers"] = len(members)
    rows = list(days.values())
    totals = {
        key: sum(r[key] for r in rows)
        for key in ("new_users", "orders", "paid_orders", "gmv", "refunds")
    }
    totals["buyers"] = len({m for members in buyers.values() for m in members})
    return {"date_from": date_from, "date_to": date_to, "days": rows, "totals": totals}


def reconciliation_rows(
    *, partner_id: int, date_from: date | None = None, date_to: date | None = None
):
    _, _, start, end = _window(date_from, date_to)
    for order_id, uid, level, _, created, paid, payable, refunded, status in _orders(
        partner_id, start, end
    ):
        yield [
            order_number(order_id=order_id, created_at=created),
            uid,
            level,
            timezone.localtime(created).isoformat(timespec="seconds"),
            timezone.localtime(paid).isoformat(timespec="seconds") if paid else "",
            payable,
            refunded,
            status,
        ]


def reconciliation_csv(**kwargs) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(reconciliation_rows(**kwargs))
    return out.getvalue()
