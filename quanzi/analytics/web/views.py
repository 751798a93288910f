"""Analytics pages: the operator's (``/dashboard/analytics/``, ``…/breakdowns/``) and
each shopkeeper's, leader's, creator's and circle owner's own (``/analytics/<scope>/``,
``…/breakdowns/``), the same reports restricted to their scope."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404
from django.shortcuts import redirect, render

from quanzi.analytics.selectors import scopes_of
from quanzi.analytics.web.report import (
    CHANNEL_COLUMNS,
    DAY_COLUMNS,
    csv_answer,
    report_build,
    table,
)
from quanzi.dashboard.access import operator_required

TABLES = ("days", "channels")


def _context(report, *, base: str) -> dict:
    return {
        **report,
        "day_columns": [str(t) for _, t in DAY_COLUMNS],
        "day_rows": table(report["days"], DAY_COLUMNS),
        "channel_columns": [str(t) for _, t in CHANNEL_COLUMNS],
        "channel_rows": table(report["channels"], CHANNEL_COLUMNS),
        "base": base,
    }


@operator_required
def operator_report(request):
    report = report_build(request)
    return render(
        request, "analytics/operator.html", _context(report, base="/dashboard/analytics/")
    )


@operator_required
def operator_csv(request, which: str):
    if which not in TABLES:
        raise Http404
    return csv_answer(report_build(request), which, prefix="gmv")


def _own_scope(request, dim: str | None):
    """The caller's scope named ``dim`` (its slug, e.g. ``shop`` or ``circle-12``, or a
    dimension: its first scope of that kind; their first one when not named), or None."""
    scopes = scopes_of(request.user)
    mine = scopes
    if dim:
        mine = [s for s in scopes if s["slug"] == dim] or [s for s in scopes if s["dim"] == dim]
    return mine[0] if mine else None, scopes


def own_report(request, dim: str | None = None):
    if not request.user.is_authenticated:
        return redirect(f"/login/?next={quote(request.get_full_path())}")
    scope, scopes = _own_scope(request, dim)
    if scope is None:
        return render(request, "analytics/none.html", status=403)
    report = report_build(request, dim=scope["dim"], dim_id=scope["dim_id"])
    context = _context(report, base=f"/analytics/{scope['slug']}/")
    return render(request, "analytics/own.html", {**context, "scope": scope, "scopes": scopes})


def own_csv(request, dim: str, which: str):
    if not request.user.is_authenticated:
        return redirect(f"/login/?next={quote(request.get_full_path())}")
    if which not in TABLES:
        raise Http404
    scope, _ = _own_scope(request, dim)
    if scope is None:
        return render(request, "analytics/none.html", status=403)
    report = report_build(request, dim=scope["dim"], dim_id=scope["dim_id"])
    return csv_answer(report, which, prefix=scope["dim"])


MECHANIC_TABLES = ("mechanics", "shops", "leaders")


def _mechanics_context(report) -> dict:
    from quanzi.analytics.web.report import LEADER_COLUMNS, MECHANIC_COLUMNS

    return {
        **report,
        "mechanic_columns": [str(t) for _, t in MECHANIC_COLUMNS],
        "mechanic_rows": table(report["days"], MECHANIC_COLUMNS),
        "leader_columns": [str(t) for _, t in LEADER_COLUMNS],
        "shop_rows": table(report["shops"], LEADER_COLUMNS),
        "leader_rows": table(report["leaders"], LEADER_COLUMNS),
    }


@operator_required
def operator_mechanics(request):
    from quanzi.analytics.web.report import mechanics_build

    return render(request, "analytics/mechanics.html", _mechanics_context(mechanics_build(request)))


@operator_required
def operator_mechanics_csv(request, which: str):
    from quanzi.analytics.web.report import mechanics_build, mechanics_csv

    if which not in MECHANIC_TABLES:
        raise Http404
    return mechanics_csv(mechanics_build(request), which)


def _breakdowns_context(report, *, base: str) -> dict:
    return {**report, "base": base}


@operator_required
def operator_breakdowns(request):
    from quanzi.analytics.web.breakdowns import breakdowns_build

    report = breakdowns_build(request)
    context = _breakdowns_context(report, base="/dashboard/analytics/breakdowns/")
    return render(request, "analytics/breakdowns.html", context)


@operator_required
def operator_breakdowns_csv(request, which: str):
    from quanzi.analytics.web.breakdowns import TABLES, breakdowns_build, breakdowns_csv

    if which not in TABLES:
        raise Http404
    return breakdowns_csv(breakdowns_build(request), which, prefix="analytics")


def own_breakdowns(request, dim: str):
    from quanzi.analytics.web.breakdowns import breakdowns_build

    if not request.user.is_authenticated:
        return redirect(f"/login/?next={quote(request.get_full_path())}")
    scope, scopes = _own_scope(request, dim)
    if scope is None:
        return render(request, "analytics/none.html", status=403)
    report = breakdowns_build(request, dim=scope["dim"], dim_id=scope["dim_id"])
    context = _breakdowns_context(report, base=f"/analytics/{scope['slug']}/breakdowns/")
    return render(
        request, "analytics/own_breakdowns.html", {**context, "scope": scope, "scopes": scopes}
    )


def own_breakdowns_csv(request, dim: str, which: str):
    from quanzi.analytics.web.breakdowns import TABLES, breakdowns_build, breakdowns_csv

    if not request.user.is_authenticated:
        return redirect(f"/login/?next={quote(request.get_full_path())}")
    if which not in TABLES:
        raise Http404
    scope, _ = _own_scope(request, dim)
    if scope is None:
        return render(request, "analytics/none.html", status=403)
    report = breakdowns_build(request, dim=scope["dim"], dim_id=scope["dim_id"])
    return breakdowns_csv(report, which, prefix=scope["slug"])
