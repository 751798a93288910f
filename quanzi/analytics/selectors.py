"""Reads over the daily facts (never over the orders: pages only read what the job built)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Sum

from quanzi.analytics.channels import CHANNELS
from quanzi.analytics.decomposition import contributions, driver, factors_of, gmv_of
from quanzi.analytics.models import DailyFact
from quanzi.core.errors import Invalid

MAX_DAYS = 366
SUMMED = (
    "visitors",
    "viewers",
    "views",
    "carters",
    "carts",
    "placers",
    "orders",
    "buyers",
    "paid_orders",
    "gmv",
    "refund_amount",
    "refund_orders",
    "repeat_buyers_30",
    "repeat_buyers_90",
)


def period_check(*, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or end - timedelta(days=29)
    if end < start:
        raise Invalid("bad_period", "the period ends before it starts", {"start": str(start)})
    if (end - start).days >= MAX_DAYS:
        raise Invalid("period_too_long", f"a period is at most {MAX_DAYS} days")
    return start, end


def _facts(*, start: date, end: date, channel: str, dim: str, dim_id: int):
    return DailyFact.objects.filter(
        day__gte=start, day__lte=end, channel=channel, dim=dim, dim_id=dim_id
    )


def _totals(qs) -> dict[str, int]:
    sums = qs.aggregate(**{name: Sum(name) for name in SUMMED})
    return {name: sums[name] or 0 for name in SUMMED}


def _with_factors(row: dict[str, Any]) -> dict[str, Any]:
    factors = factors_of(
        visitors=row["visitors"],
        buyers=row["buyers"],
        paid_orders=row["paid_orders"],
        gmv=row["gmv"],
    )
    factors.pop("visitors")  # the row's own count, an integer
    return {
        **row,
        **factors,
        "repeat_rate_30": row["repeat_buyers_30"] / row["buyers"] if row["buyers"] else 0.0,
        "repeat_rate_90": row["repeat_buyers_90"] / row["buyers"] if row["buyers"] else 0.0,
    }


def _factors(row: dict[str, Any]) -> dict[str, float]:
    return factors_of(
        visitors=row["visitors"],
        buyers=row["buyers"],
        paid_orders=row["paid_orders"],
        gmv=row["gmv"],
    )


def gmv_days(
    *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> list[dict[str, Any]]:
    """One row per day of the period (days without facts are zeros), with the factors."""
    found = {
        row["day"]: row
        for row in _facts(start=start, end=end, channel=channel, dim=dim, dim_id=dim_id).values(
            "day", *SUMMED
        )
    }
    rows = []
    day = start
    while day <= end:
        row = found.get(day) or {"day": day, **dict.fromkeys(SUMMED, 0)}
        rows.append(_with_factors(row))
        day += timedelta(days=1)
    return rows


def gmv_compare(
    *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> dict[str, Any]:
    """The period against the one of the same length just before it: each period's
    totals and factors (visitors summed over days), and each factor's share of the change."""
    length = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=length - 1)
    scope = {"channel": channel, "dim": dim, "dim_id": dim_id}
    now = _with_factors(_totals(_facts(start=start, end=end, **scope)))
    before = _with_factors(_totals(_facts(start=prev_start, end=prev_end, **scope)))
    parts = contributions(_factors(before), _factors(now))
    return {
        "current": now,
        "previous": {**before, "start": prev_start, "end": prev_end},
        "change": now["gmv"] - before["gmv"],
        "contributions": parts,
        "driver": driver(parts),
        "check": gmv_of(_factors(now)),
    }


def channel_table(
    *, start: date, end: date, dim: str = "all", dim_id: int = 0
) -> list[dict[str, Any]]:
    """Per channel over the period: totals, the factors and the funnel's step rates."""
    rows = []
    for channel in ["all", *CHANNELS]:
        totals = _totals(_facts(start=start, end=end, channel=channel, dim=dim, dim_id=dim_id))
        if channel != "all" and not totals["visitors"] and not totals["refund_orders"]:
            continue
        row = _with_factors({"channel": channel, **totals})
        row["funnel"] = funnel_steps(totals)
        rows.append(row)
    return rows


def funnel_steps(totals: dict[str, int]) -> list[dict[str, Any]]:
    """view → cart → order → pay, in distinct people (summed over days), with each step's
    rate against the one before."""
    steps = [
        ("view", totals["viewers"]),
        ("cart", totals["carters"]),
        ("order", totals["placers"]),
        ("pay", totals["buyers"]),
    ]
    out = []
    previous = None
    for name, people in steps:
        rate = people / previous if previous else None
        out.append({"step": name, "people": people, "rate": rate})
        previous = people
    return out


def scopes_of(user) -> list[dict[str, Any]]:
    """What a person may see of analytics: their shop, their leader's points, their
    notes as a creator, each circle they own (an operator sees everything through the
    operator views). ``slug`` names the scope in the pages' paths."""
    from django.apps import apps

    from quanzi.community.models import Leader
    from quanzi.content.models import Creator
    from quanzi.distribution.models import Shop

    scopes = []
    shop = Shop.objects.filter(owner=user).first()
    if shop is not None:
        scopes.append({"dim": "shop", "dim_id": shop.pk, "name": shop.name, "slug": "shop"})
    leader = Leader.objects.filter(user=user).first()
    if leader is not None:
        scopes.append(
            {"dim": "leader", "dim_id": leader.pk, "name": user.nickname, "slug": "leader"}
        )
    if Creator.objects.filter(user=user).exists():
        scopes.append(
            {"dim": "creator", "dim_id": user.pk, "name": user.nickname, "slug": "creator"}
        )
    if apps.is_installed("quanzi.circles"):
        from quanzi.circles.models import Circle

        for pk, name in Circle.objects.filter(owner=user).order_by("id").values_list("pk", "name"):
            scopes.append({"dim": "circle", "dim_id": pk, "name": name, "slug": f"circle-{pk}"})
    return scopes


def mechanics_days(*, start: date, end: date) -> list[dict[str, Any]]:
    """Per day of the period: groups and bargains started, their success rates, the
    average time a group took to fill (minutes) and helpers per bargain."""
    from quanzi.analytics.models import MechanicFact

    found = {
        (f.day, f.mechanic): f for f in MechanicFact.objects.filter(day__gte=start, day__lte=end)
    }
    rows = []
    day = start
    while day <= end:
        g, b = found.get((day, "group")), found.get((day, "bargain"))
        rows.append({"day": day, **_mechanic_row(g, "group"), **_mechanic_row(b, "bargain")})
        day += timedelta(days=1)
    return rows


def mechanics_totals(*, start: date, end: date) -> dict[str, Any]:
    from quanzi.analytics.models import MechanicFact

    sums: dict[str, Any] = {}
    for mechanic in ("group", "bargain"):
        agg = MechanicFact.objects.filter(day__gte=start, day__lte=end, mechanic=mechanic)
        totals = agg.aggregate(
            started=Sum("started"),
            succeeded=Sum("succeeded"),
            failed=Sum("failed"),
            fill_seconds=Sum("fill_seconds"),
            helpers=Sum("helpers"),
        )
        sums.update(_mechanic_row(_Totals(**{k: v or 0 for k, v in totals.items()}), mechanic))
    return sums


class _Totals:
    def __init__(self, **values):
        self.__dict__.update(values)


def _mechanic_row(fact, mechanic: str) -> dict[str, Any]:
    started = fact.started if fact else 0
    succeeded = fact.succeeded if fact else 0
    out = {
        f"{mechanic}_started": started,
        f"{mechanic}_succeeded": succeeded,
        f"{mechanic}_success_rate": succeeded / started if started else 0.0,
    }
    if mechanic == "group":
        out["group_fill_minutes"] = (
            round(fact.fill_seconds / succeeded / 60, 1) if fact and succeeded else 0.0
        )
    else:
        out["bargain_helpers_avg"] = round(fact.helpers / started, 2) if fact and started else 0.0
    return out


def leaderboard(*, dim: str, start: date, end: date, limit: int = 20) -> list[dict[str, Any]]:
    """Shops (distributors) or community leaders ranked by GMV over the period."""
    rows = list(
        DailyFact.objects.filter(day__gte=start, day__lte=end, channel="all", dim=dim, dim_id__gt=0)
        .values("dim_id")
        .annotate(gmv=Sum("gmv"), paid_orders=Sum("paid_orders"), buyers=Sum("buyers"))
        .order_by("-gmv", "dim_id")[:limit]
    )
    names: dict[int, str] = {}
    ids = [r["dim_id"] for r in rows]
    if dim == "shop":
        from quanzi.distribution.models import Shop

        names = dict(Shop.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif dim == "leader":
        from quanzi.community.models import Leader

        names = dict(Leader.objects.filter(pk__in=ids).values_list("pk", "user__nickname"))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
        row["name"] = names.get(row["dim_id"], str(row["dim_id"]))
    return rows
