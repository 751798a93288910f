"""Reads over the breakdown facts (``SliceFact``): member share of GMV, buyer profiles,
supplier quality, note → order conversion and share K-factor. Pages and the API only
read what the job built; names (notes, suppliers, levels…) are looked up for the rows.

Over a period, counts are summed over its days (buyers, openers, sharers and recipients
are person-days, like the daily facts' visitors); a tree's depth is the deepest link.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Max, Sum

from quanzi.analytics.models import SliceFact

MEASURES = (
    "gmv",
    "paid_orders",
    "buyers",
    "units",
    "units_refunded",
    "orders_complained",
    "reviews",
    "rating_total",
    "opens",
    "openers",
    "links",
    "sharers",
    "recipients",
    "registrations",
)


def _rate(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _scope(report: str, *, start: date, end: date, channel: str, dim: str, dim_id: int):
    return SliceFact.objects.filter(
        report=report, day__gte=start, day__lte=end, channel=channel, dim=dim, dim_id=dim_id
    )


def slice_totals(
    report: str, *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> list[dict[str, Any]]:
    """Per key of ``report`` over the period: every measure summed, the deepest link."""
    qs = _scope(report, start=start, end=end, channel=channel, dim=dim, dim_id=dim_id)
    rows = (
        qs.values("key")
        .annotate(**{m: Sum(m) for m in MEASURES}, depth=Max("depth"))
        .order_by("key")
    )
    return [{k: (v or 0) if k != "key" else v for k, v in row.items()} for row in rows]


# ------------------------------------------------------------------ member share


def members_report(
    *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> dict[str, Any]:
    """GMV of paid members against the others, per day and over the period."""
    found: dict[tuple[date, str], dict] = {}
    for row in _scope(
        "member", start=start, end=end, channel=channel, dim=dim, dim_id=dim_id
    ).values("day", "key", "gmv", "paid_orders", "buyers"):
        found[(row["day"], row["key"])] = row
    days = []
    day = start
    while day <= end:
        days.append(
            _member_row({"day": day}, found.get((day, "member")), found.get((day, "other")))
        )
        day += timedelta(days=1)
    by_key = {
        r["key"]: r
        for r in slice_totals(
            "member", start=start, end=end, channel=channel, dim=dim, dim_id=dim_id
        )
    }
    total = _member_row({}, by_key.get("member"), by_key.get("other"))
    return {"days": days, "total": total}


def _member_row(out: dict, member: dict | None, other: dict | None) -> dict[str, Any]:
    for name, row in (("member", member), ("other", other)):
        out[f"{name}_gmv"] = row["gmv"] if row else 0
        out[f"{name}_orders"] = row["paid_orders"] if row else 0
        out[f"{name}_buyers"] = row["buyers"] if row else 0
    out["member_share"] = _rate(out["member_gmv"], out["member_gmv"] + out["other_gmv"])
    return out


# ------------------------------------------------------------------ buyer profiles


def _profile_rows(report: str, names: dict[str, str], **scope) -> list[dict[str, Any]]:
    rows = slice_totals(report, **scope)
    total = sum(r["gmv"] for r in rows)
    out = [
        {
            "key": r["key"],
            "name": names.get(r["key"], r["key"]),
            "gmv": r["gmv"],
            "paid_orders": r["paid_orders"],
            "buyers": r["buyers"],
            "gmv_share": _rate(r["gmv"], total),
            "aov": _rate(r["gmv"], r["paid_orders"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["gmv"], r["key"]))


def profiles_report(
    *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> dict[str, Any]:
    """GMV, orders and buyers by delivery province, member level, new or returning."""
    from django.utils.translation import gettext as _

    from quanzi.membership.models import MemberLevel

    scope = {"start": start, "end": end, "channel": channel, "dim": dim, "dim_id": dim_id}
    levels = {str(pk): name for pk, name in MemberLevel.objects.values_list("pk", "name")}
    levels["0"] = _("No level")
    return {
        "regions": _profile_rows("region", {"": _("Unknown")}, **scope),
        "levels": _profile_rows("level", levels, **scope),
        "buyer_types": _profile_rows(
            "buyer", {"new": _("New buyers"), "returning": _("Returning buyers")}, **scope
        ),
    }


# ------------------------------------------------------------------ suppliers


def suppliers_report(
    *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> dict[str, Any]:
    """Per supplier: refund rate (units refunded / units sold), complaint rate (orders
    complained about / orders with its lines), average rating of the reviews written."""
    from quanzi.catalog.models import Supplier

    rows = slice_totals("supplier", start=start, end=end, channel=channel, dim=dim, dim_id=dim_id)
    names = dict(
        Supplier.objects.filter(pk__in=[int(r["key"]) for r in rows]).values_list("pk", "name")
    )
    out = [
        {
            "supplier_id": int(r["key"]),
            "name": names.get(int(r["key"]), r["key"]),
            "gmv": r["gmv"],
            "paid_orders": r["paid_orders"],
            "units": r["units"],
            "units_refunded": r["units_refunded"],
            "refund_rate": _rate(r["units_refunded"], r["units"]),
            "orders_complained": r["orders_complained"],
            "complaint_rate": _rate(r["orders_complained"], r["paid_orders"]),
            "reviews": r["reviews"],
            "rating": round(_rate(r["rating_total"], r["reviews"]), 2),
        }
        for r in rows
    ]
    return {"suppliers": sorted(out, key=lambda r: (-r["gmv"], r["supplier_id"]))}


# ------------------------------------------------------------------ notes


def _conversion_row(r: dict) -> dict[str, Any]:
    return {
        "opens": r["opens"],
        "openers": r["openers"],
        "paid_orders": r["paid_orders"],
        "buyers": r["buyers"],
        "gmv": r["gmv"],
        "conversion": _rate(r["paid_orders"], r["opens"]),
        "buyer_conversion": _rate(r["buyers"], r["openers"]),
    }


def notes_report(*, start: date, end: date, dim: str = "all", dim_id: int = 0) -> dict[str, Any]:
    """Per note and per creator: opens → orders attributed to the notes."""
    scope = {"start": start, "end": end, "channel": "all", "dim": dim, "dim_id": dim_id}
    notes = slice_totals("note", **scope)
    creators = slice_totals("creator", **scope)
    titles: dict[int, tuple[str, int]] = {}
    if apps.is_installed("quanzi.content"):
        from quanzi.content.models import Note

        titles = {
            pk: (title, author)
            for pk, title, author in Note.objects.filter(
                pk__in=[int(r["key"]) for r in notes]
            ).values_list("pk", "title", "author_id")
        }
    from quanzi.accounts.models import User

    nicknames = dict(
        User.objects.filter(
            pk__in={int(r["key"]) for r in creators} | {a for _, a in titles.values()}
        ).values_list("pk", "nickname")
    )
    note_rows = []
    for r in notes:
        title, author = titles.get(int(r["key"]), (r["key"], 0))
        note_rows.append(
            {
                "note_id": int(r["key"]),
                "title": title,
                "creator_id": author,
                "creator": nicknames.get(author, ""),
                **_conversion_row(r),
            }
        )
    creator_rows = [
        {
            "creator_id": int(r["key"]),
            "name": nicknames.get(int(r["key"]), r["key"]),
            **_conversion_row(r),
        }
        for r in creators
    ]
    order = lambda r: (-r["paid_orders"], -r["opens"], r.get("note_id") or r["creator_id"])  # noqa: E731
    return {"notes": sorted(note_rows, key=order), "creators": sorted(creator_rows, key=order)}


# ------------------------------------------------------------------ shares


def shares_report(*, start: date, end: date, dim: str = "all", dim_id: int = 0) -> dict[str, Any]:
    """Per campaign shared: invites per sharer × conversion of recipients to buyers =
    the K-factor (new buyers each sharer brought), and the depth of its share tree."""
    scope = {"channel": "all", "dim": dim, "dim_id": dim_id}
    rows = slice_totals("share", start=start, end=end, **scope)
    tree = dict(
        SliceFact.objects.filter(report="share", day__lte=end, **scope)
        .values("key")
        .annotate(d=Max("depth"))
        .values_list("key", "d")
    )
    out = []
    for r in rows:
        target, _, target_id = r["key"].partition(":")
        invites = _rate(r["recipients"], r["sharers"])
        conversion = _rate(r["buyers"], r["recipients"])
        out.append(
            {
                "campaign": r["key"],
                "target": target,
                "target_id": int(target_id or 0),
                "name": "",
                "sharers": r["sharers"],
                "links": r["links"],
                "recipients": r["recipients"],
                "registrations": r["registrations"],
                "buyers": r["buyers"],
                "paid_orders": r["paid_orders"],
                "gmv": r["gmv"],
                "invites_per_sharer": invites,
                "recipient_conversion": conversion,
                "k_factor": invites * conversion,
                "depth": r["depth"],
                "tree_depth": tree.get(r["key"]) or 0,
            }
        )
    _campaign_names(out)
    return {"campaigns": sorted(out, key=lambda r: (-r["k_factor"], -r["gmv"], r["campaign"]))}


def _campaign_names(rows: list[dict]) -> None:
    """What each campaign shared, in words: the product's title, the note's title…"""
    lookups = {
        "product": ("catalog", "Product", "title"),
        "note": ("content", "Note", "title"),
        "shop": ("distribution", "Shop", "name"),
        "circle": ("circles", "Circle", "name"),
    }
    by_target: dict[str, set[int]] = {}
    for r in rows:
        by_target.setdefault(r["target"], set()).add(r["target_id"])
    names: dict[tuple[str, int], str] = {}
    for target, ids in by_target.items():
        if target not in lookups:
            continue
        app, model, field = lookups[target]
        try:
            cls = apps.get_model(app, model)
        except LookupError:
            continue
        for pk, name in cls.objects.filter(pk__in=ids).values_list("pk", field):
            names[(target, pk)] = name
    for r in rows:
        r["name"] = names.get((r["target"], r["target_id"]), f"#{r['target_id']}")


REPORTS = {
    "members": members_report,
    "profiles": profiles_report,
    "suppliers": suppliers_report,
    "notes": notes_report,
    "shares": shares_report,
}
UNCHANNELLED = {"notes", "shares"}  # opening a note or a link is no order of a channel


def breakdown_report(
    name: str, *, start: date, end: date, channel: str = "all", dim: str = "all", dim_id: int = 0
) -> dict[str, Any]:
    """One breakdown (``REPORTS``) for a period, channel and scope, with its filters."""
    scope: dict[str, Any] = {"start": start, "end": end, "dim": dim, "dim_id": dim_id}
    if name not in UNCHANNELLED:
        scope["channel"] = channel
    return {"start": start, "end": end, "channel": channel, **REPORTS[name](**scope)}
