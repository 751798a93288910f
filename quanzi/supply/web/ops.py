"""The operator's supplier desk: every supplier's quality figures and money owed, this
month's statement, and a form to record a payout."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.storefront.web import error_text
from quanzi.supply import selectors
from quanzi.supply.services import money
from quanzi.supply.web.portal import month_bounds


@operator_required
def suppliers_page(request):
    start, end = month_bounds()
    rows = []
    for figures in selectors.quality_all():
        sid = figures["supplier_id"]
        rows.append(
            {
                **figures,
                "owed": money.owed(supplier_id=sid),
                "statement": money.statement(supplier_id=sid, start=start, end=end),
            }
        )
    return render(request, "supply/ops.html", {"rows": rows})


@operator_required
@require_POST
def payout(request, supplier_id: int):
    try:
        fen = Decimal(request.POST.get("amount", "").strip() or "0") * 100
        if fen != fen.to_integral_value():
            raise ValueError("below one fen")
        amount = int(fen)
        money.payout_record(
            supplier_id=supplier_id,
            amount=amount,
            reference=request.POST.get("reference", ""),
            note=request.POST.get("note", ""),
            operator=request.user,
        )
    except (ValueError, InvalidOperation):
        messages.error(request, _("Enter an amount above zero."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Payout recorded."))
    return redirect("/dashboard/supply/")
