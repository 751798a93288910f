"""The breakdowns page (operator and own scope alike): member share of GMV, buyer
profiles, supplier quality, notes and shares, their charts and a CSV of every table."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quanzi.analytics.breakdowns import breakdown_report
from quanzi.analytics.web.report import _csv, _period, cell, table

MEMBER_COLUMNS = [
    ("day", gettext_lazy("Day")),
    ("member_gmv", gettext_lazy("Members' GMV")),
    ("other_gmv", gettext_lazy("Others' GMV")),
    ("member_share", gettext_lazy("Members' share of GMV")),
    ("member_buyers", gettext_lazy("Member buyers")),
    ("other_buyers", gettext_lazy("Other buyers")),
    ("member_orders", gettext_lazy("Members' paid orders")),
    ("other_orders", gettext_lazy("Others' paid orders")),
]
PROFILE_COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("gmv", gettext_lazy("GMV")),
    ("gmv_share", gettext_lazy("Share of GMV")),
    ("paid_orders", gettext_lazy("Paid orders")),
    ("buyers", gettext_lazy("Buyers")),
    ("aov", gettext_lazy("Average order value")),
]
SUPPLIER_COLUMNS = [
    ("name", gettext_lazy("Supplier")),
    ("gmv", gettext_lazy("GMV")),
    ("units", gettext_lazy("Units sold")),
    ("units_refunded", gettext_lazy("Units refunded")),
    ("refund_rate", gettext_lazy("Refund rate")),
    ("paid_orders", gettext_lazy("Paid orders")),
    ("orders_complained", gettext_lazy("Orders complained about")),
    ("complaint_rate", gettext_lazy("Complaint rate")),
    ("reviews", gettext_lazy("Reviews")),
    ("rating", gettext_lazy("Average rating")),
]
_CONVERSION = [
    ("opens", gettext_lazy("Opens")),
    ("openers", gettext_lazy("Readers")),
    ("paid_orders", gettext_lazy("Attributed orders")),
    ("buyers", gettext_lazy("Buyers")),
    ("gmv", gettext_lazy("GMV")),
    ("conversion", gettext_lazy("Orders per open")),
    ("buyer_conversion", gettext_lazy("Buyers per reader")),
]
NOTE_COLUMNS = [
    ("note_id", gettext_lazy("Note ID")),
    ("title", gettext_lazy("Title")),
    ("creator", gettext_lazy("Creator")),
    *_CONVERSION,
]
CREATOR_COLUMNS = [("name", gettext_lazy("Creator")), *_CONVERSION]
SHARE_COLUMNS = [
    ("campaign", gettext_lazy("Campaign")),
    ("name", gettext_lazy("Name")),
    ("sharers", gettext_lazy("Sharers")),
    ("links", gettext_lazy("Links made")),
    ("recipients", gettext_lazy("Recipients")),
    ("invites_per_sharer", gettext_lazy("Recipients per sharer")),
    ("buyers", gettext_lazy("Buyers")),
    ("recipient_conversion", gettext_lazy("Recipients who bought")),
    ("k_factor", gettext_lazy("K-factor")),
    ("registrations", gettext_lazy("Registrations")),
    ("gmv", gettext_lazy("GMV")),
    ("tree_depth", gettext_lazy("Share tree depth")),
]

# which CSV → (columns, where its rows are in the report)
TABLES = {
    "members": (MEMBER_COLUMNS, ("members", "days")),
    "regions": (PROFILE_COLUMNS, ("profiles", "regions")),
    "levels": (PROFILE_COLUMNS, ("profiles", "levels")),
    "buyers": (PROFILE_COLUMNS, ("profiles", "buyer_types")),
    "suppliers": (SUPPLIER_COLUMNS, ("suppliers", "suppliers")),
    "notes": (NOTE_COLUMNS, ("notes", "notes")),
    "creators": (CREATOR_COLUMNS, ("notes", "creators")),
    "shares": (SHARE_COLUMNS, ("shares", "campaigns")),
}

SECTION_TITLES = {
    "members": gettext_lazy("Members' share of GMV"),
    "regions": gettext_lazy("GMV by province"),
    "levels": gettext_lazy("GMV by member level"),
    "buyers": gettext_lazy("New and returning buyers"),
    "suppliers": gettext_lazy("Supplier quality"),
    "notes": gettext_lazy("Notes to orders"),
    "creators": gettext_lazy("Creators to orders"),
    "shares": gettext_lazy("Share K-factor and tree depth"),
}


def breakdowns_build(request, *, dim: str = "all", dim_id: int = 0) -> dict[str, Any]:
    """Every breakdown for the request's filters (bad filters: the last 30 days, with
    the reason shown), read from the facts the job built."""
    form, start, end, channel, error = _period(request)
    scope = {"start": start, "end": end, "channel": channel, "dim": dim, "dim_id": dim_id}
    reports = {
        name: breakdown_report(name, **scope)
        for name in ("members", "profiles", "suppliers", "notes", "shares")
    }
    sections = [
        {
            "which": which,
            "title": str(SECTION_TITLES[which]),
            "columns": [str(t) for _, t in columns],
            "rows": table(reports[report][key], columns),
        }
        for which, (columns, (report, key)) in TABLES.items()
    ]
    return {
        "form": form,
        "error": error,
        "start": start,
        "end": end,
        "channel": channel,
        "reports": reports,
        "sections": sections,
        "member_share": cell("member_share", reports["members"]["total"]["member_share"]),
        "chart": _chart(reports),
        "query": f"start={start}&end={end}&channel={channel}",
    }


def _pie(rows: list[dict]) -> list[dict]:
    return [{"name": r["name"], "value": r["gmv"] / 100} for r in rows if r["gmv"]]


def _chart(reports: dict) -> dict[str, Any]:
    members = reports["members"]["days"]
    profiles = reports["profiles"]
    suppliers = reports["suppliers"]["suppliers"][:10]
    notes = reports["notes"]["notes"][:10]
    shares = reports["shares"]["campaigns"][:10]
    return {
        "days": [str(d["day"]) for d in members],
        "member_gmv": [d["member_gmv"] / 100 for d in members],
        "other_gmv": [d["other_gmv"] / 100 for d in members],
        "member_share": [round(d["member_share"] * 100, 2) for d in members],
        "regions": _pie(profiles["regions"]),
        "levels": _pie(profiles["levels"]),
        "buyer_types": _pie(profiles["buyer_types"]),
        "suppliers": [s["name"] for s in suppliers],
        "refund_rate": [round(s["refund_rate"] * 100, 2) for s in suppliers],
        "complaint_rate": [round(s["complaint_rate"] * 100, 2) for s in suppliers],
        "notes": [n["title"] for n in notes],
        "note_conversion": [round(n["conversion"] * 100, 2) for n in notes],
        "campaigns": [f"{c['name']}" for c in shares],
        "k_factor": [round(c["k_factor"], 3) for c in shares],
        "tree_depth": [c["tree_depth"] for c in shares],
        "names": {
            "member_gmv": _("Members' GMV (yuan)"),
            "other_gmv": _("Others' GMV (yuan)"),
            "member_share": _("Members' share of GMV (%)"),
            "refund_rate": _("Refund rate (%)"),
            "complaint_rate": _("Complaint rate (%)"),
            "note_conversion": _("Orders per open (%)"),
            "k_factor": _("K-factor"),
            "tree_depth": _("Share tree depth"),
        },
        "titles": {which: str(title) for which, title in SECTION_TITLES.items()},
    }


def breakdowns_csv(report: dict[str, Any], which: str, *, prefix: str):
    columns, (name, key) = TABLES[which]
    rows = report["reports"][name][key]
    return _csv(f"{prefix}-{which}-{report['start']}-{report['end']}.csv", columns, rows)
