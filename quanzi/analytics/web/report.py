"""The report the pages show (operator and own scope alike): filters, the facts read for
them, the chart data, and CSV of every table."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quanzi.analytics import selectors
from quanzi.analytics.channels import CHANNELS
from quanzi.core.errors import QuanziError
from quanzi.core.labels import label


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("To date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [
            (code, label("analytics_channel", code)) for code in ["all", *CHANNELS]
        ]


def _period(request) -> tuple[PeriodForm, date, date, str, str]:
    """The filters of the request: the form, the period (the last 30 days when the
    filters are bad, with the reason), the channel and that reason."""
    form = PeriodForm(request.GET or None)
    start = end = None
    channel = "all"
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        channel = form.cleaned_data["channel"] or "all"
    error = ""
    try:
        start, end = selectors.period_check(start=start, end=end, today=timezone.localdate())
    except QuanziError as exc:
        error = str(exc.message)
        start, end = selectors.period_check(start=None, end=None, today=timezone.localdate())
    return form, start, end, channel, error


def report_build(request, *, dim: str = "all", dim_id: int = 0) -> dict[str, Any]:
    """Everything the report page shows for the request's filters (bad filters fall back
    to the last 30 days, with the form's errors shown)."""
    form, start, end, channel, error = _period(request)
    scope = {"start": start, "end": end, "dim": dim, "dim_id": dim_id}
    days = selectors.gmv_days(channel=channel, **scope)
    compare = selectors.gmv_compare(channel=channel, **scope)
    channels = selectors.channel_table(**scope)
    return {
        "form": form,
        "error": error,
        "start": start,
        "end": end,
        "channel": channel,
        "days": days,
        "compare": compare,
        "channels": channels,
        "chart": _chart_data(days, compare, channels, channel),
        "query": f"start={start}&end={end}&channel={channel}",
    }


def _chart_data(days, compare, channels, channel) -> dict[str, Any]:
    by_channel = {row["channel"]: row for row in channels}
    funnel_row = by_channel.get(channel) or by_channel.get("all")
    return {
        "days": [str(d["day"]) for d in days],
        "gmv": [d["gmv"] / 100 for d in days],
        "visitors": [d["visitors"] for d in days],
        "conversion": [round(d["conversion"] * 100, 2) for d in days],
        "aov": [round(d["aov"] / 100, 2) for d in days],
        "factors": [label("gmv_factor", f) for f in compare["contributions"]],
        "contributions": [round(v / 100, 2) for v in compare["contributions"].values()],
        "funnel": [
            {"name": label("funnel_step", s["step"]), "value": s["people"]}
            for s in (funnel_row["funnel"] if funnel_row else [])
        ],
        "names": {
            "gmv": _("GMV (yuan)"),
            "visitors": _("Visitors"),
            "conversion": _("Conversion (%)"),
            "aov": _("Average order value (yuan)"),
            "change": _("Contribution to the change (yuan)"),
        },
    }


DAY_COLUMNS = [
    ("day", gettext_lazy("Day")),
    ("visitors", gettext_lazy("Visitors")),
    ("conversion", gettext_lazy("Conversion")),
    ("aov", gettext_lazy("Average order value")),
    ("repeat", gettext_lazy("Repeat factor")),
    ("gmv", gettext_lazy("GMV")),
    ("paid_orders", gettext_lazy("Paid orders")),
    ("buyers", gettext_lazy("Buyers")),
    ("refund_amount", gettext_lazy("Refund amount")),
    ("repeat_rate_30", gettext_lazy("Repurchase rate, 30 days")),
    ("repeat_rate_90", gettext_lazy("Repurchase rate, 90 days")),
]
CHANNEL_COLUMNS = [
    ("channel", gettext_lazy("Channel")),
    ("visitors", gettext_lazy("Visitors")),
    ("viewers", gettext_lazy("Viewed")),
    ("carters", gettext_lazy("Carted")),
    ("placers", gettext_lazy("Ordered")),
    ("buyers", gettext_lazy("Buyers")),
    ("orders", gettext_lazy("Orders placed")),
    ("paid_orders", gettext_lazy("Paid orders")),
    ("gmv", gettext_lazy("GMV")),
    ("aov", gettext_lazy("Average order value")),
    ("conversion", gettext_lazy("Conversion")),
    ("refund_amount", gettext_lazy("Refund amount")),
    ("repeat_rate_30", gettext_lazy("Repurchase rate, 30 days")),
]
MONEY = {"gmv", "aov", "refund_amount", "member_gmv", "other_gmv"}
RATIOS = {"invites_per_sharer", "k_factor"}
RATES = {
    "member_share",
    "gmv_share",
    "refund_rate",
    "complaint_rate",
    "buyer_conversion",
    "recipient_conversion",
    "conversion",
    "repeat",
    "repeat_rate_30",
    "repeat_rate_90",
    "group_success_rate",
    "bargain_success_rate",
}


def cell(key: str, value) -> str:
    if key in MONEY:
        return f"{value / 100:.2f}"
    if key in RATIOS:
        return f"{value:.3f}"
    if key in RATES:
        return f"{value * 100:.2f}%" if key != "repeat" else f"{value:.3f}"
    if key == "channel":
        return label("analytics_channel", value)
    return str(value)


def table(rows, columns) -> list[list[str]]:
    return [[cell(key, row[key]) for key, _ in columns] for row in rows]


def csv_answer(report: dict[str, Any], which: str, *, prefix: str) -> HttpResponse:
    columns = DAY_COLUMNS if which == "days" else CHANNEL_COLUMNS
    rows = report["days"] if which == "days" else report["channels"]
    return _csv(f"{prefix}-{which}-{report['start']}-{report['end']}.csv", columns, rows)


def _csv(filename: str, columns, rows) -> HttpResponse:
    answer = HttpResponse(content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{filename}"'
    answer.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese headers only with a BOM
    writer = csv.writer(answer)
    writer.writerow([str(title) for _, title in columns])
    writer.writerows(table(rows, columns))
    return answer


MECHANIC_COLUMNS = [
    ("day", gettext_lazy("Day")),
    ("group_started", gettext_lazy("Groups started")),
    ("group_succeeded", gettext_lazy("Groups formed")),
    ("group_success_rate", gettext_lazy("Group success rate")),
    ("group_fill_minutes", gettext_lazy("Minutes to fill")),
    ("bargain_started", gettext_lazy("Bargains started")),
    ("bargain_succeeded", gettext_lazy("Bargains completed")),
    ("bargain_success_rate", gettext_lazy("Bargain completion rate")),
    ("bargain_helpers_avg", gettext_lazy("Helpers per bargain")),
]
LEADER_COLUMNS = [
    ("rank", gettext_lazy("Rank")),
    ("name", gettext_lazy("Name")),
    ("gmv", gettext_lazy("GMV")),
    ("paid_orders", gettext_lazy("Paid orders")),
    ("buyers", gettext_lazy("Buyers")),
]


def mechanics_build(request) -> dict[str, Any]:
    """Group-buy and bargain outcomes, and the shop and leader leaderboards, for the
    request's period (the channel filter does not apply: each table is one mechanic)."""
    form, start, end, _channel, error = _period(request)
    days = selectors.mechanics_days(start=start, end=end)
    return {
        "form": form,
        "error": error,
        "start": start,
        "end": end,
        "days": days,
        "totals": selectors.mechanics_totals(start=start, end=end),
        "shops": selectors.leaderboard(dim="shop", start=start, end=end),
        "leaders": selectors.leaderboard(dim="leader", start=start, end=end),
        "chart": {
            "days": [str(d["day"]) for d in days],
            "group_rate": [round(d["group_success_rate"] * 100, 1) for d in days],
            "bargain_rate": [round(d["bargain_success_rate"] * 100, 1) for d in days],
            "fill": [d["group_fill_minutes"] for d in days],
            "helpers": [d["bargain_helpers_avg"] for d in days],
            "names": {
                "group_rate": _("Group success rate (%)"),
                "bargain_rate": _("Bargain completion rate (%)"),
                "fill": _("Minutes to fill"),
                "helpers": _("Helpers per bargain"),
            },
        },
        "query": f"start={start}&end={end}",
    }


def mechanics_csv(report: dict[str, Any], which: str) -> HttpResponse:
    columns, rows = {
        "mechanics": (MECHANIC_COLUMNS, report["days"]),
        "shops": (LEADER_COLUMNS, report["shops"]),
        "leaders": (LEADER_COLUMNS, report["leaders"]),
    }[which]
    return _csv(f"{which}-{report['start']}-{report['end']}.csv", columns, rows)
