"""Pages of flash sales: the storefront's sales (a countdown to the start, sold out) and
the dashboard's (create, close, sold and left)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.flash import gate, selectors, services
from quanzi.storefront.web import error_text as _error_text


def error_text(exc: QuanziError) -> str:
    """The storefront's words for a refusal, with the flash sale's own codes."""
    own = {
        "flash_not_started": _("This flash sale has not started yet."),
        "flash_ended": _("This flash sale has ended."),
        "out_of_stock": _("Sold out."),
        "limit_exceeded": _("You have reached the limit per person."),
        "sku_not_in_sale": _("This item is not in the flash sale."),
        "flash_busy": _("Too many people at once; try again."),
        "address_required": _("Add a delivery address first."),
    }
    return str(own.get(exc.code) or _error_text(exc))


def shop(request):
    sales = selectors.sales_out(list(selectors.sales_visible().order_by("starts_at", "id")[:20]))
    return render(request, "flash/shop.html", {"sales": sales})


@login_required
@require_POST
def buy(request, sale_id: int, sku_id: int):
    from quanzi.accounts.models import Address

    address = (
        Address.objects.filter(user=request.user, is_deleted=False)
        .order_by("-is_default", "id")
        .first()
    )
    try:
        if gate.queued():
            ticket = services.flash_queue(
                user=request.user,
                sale_id=sale_id,
                sku_id=sku_id,
                qty=1,
                address_id=address.pk if address else None,
            )
            return redirect(f"/flash/tickets/{ticket.id}/")
        order, _payment = services.flash_buy(
            user=request.user,
            sale_id=sale_id,
            sku_id=sku_id,
            qty=1,
            address_id=address.pk if address else None,
        )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect("/flash/")
    return redirect(f"/orders/{order.pk}/pay/")


@login_required
def ticket(request, ticket_id: str):
    """The queueing state: the page reloads itself each second while the ticket waits
    for its writer, then goes on to paying the order (or says why it was refused)."""
    try:
        state = selectors.ticket_state(user=request.user, ticket_id=ticket_id)
    except QuanziError as exc:
        if exc.code != "ticket_not_found":
            raise
        messages.error(request, _("This queue ticket is unknown or has expired; try again."))
        return redirect("/flash/")
    if state["state"] == "ordered":
        return redirect(f"/orders/{state['order_id']}/pay/")
    refused = None
    if state["state"] == "refused":
        refused = error_text(QuanziError(state["code"], "")) or _(
            "Your place in the queue did not become an order."
        )
    return render(request, "flash/ticket.html", {"state": state, "refused": refused})


def _when(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@operator_required
@require_http_methods(["GET", "POST"])
def ops(request):
    if request.method == "POST":
        starts, ends = _when(request.POST.get("starts_at")), _when(request.POST.get("ends_at"))
        sku_id, price = _int(request.POST.get("sku_id")), _int(request.POST.get("price"))
        allotment = _int(request.POST.get("allotment"))
        if None in (starts, ends, sku_id, price, allotment):
            messages.error(request, _("Fill in every field."))
        else:
            try:
                services.sale_create(
                    title=request.POST.get("title", ""),
                    starts_at=starts,
                    ends_at=ends,
                    per_user_limit=_int(request.POST.get("per_user_limit"), 1),
                    items=[{"sku_id": sku_id, "price": price, "allotment": allotment}],
                )
                messages.success(request, _("Flash sale created."))
                return redirect("/dashboard/flash/")
            except QuanziError as exc:
                messages.error(request, error_text(exc))
    sales = selectors.sales_out(list(selectors.sales_all().order_by("-id")[:50]))
    return render(request, "flash/ops.html", {"sales": sales, "form": request.POST})


@operator_required
@require_POST
def ops_close(request, sale_id: int):
    try:
        services.sale_close(sale_id=sale_id)
        messages.success(request, _("Flash sale closed."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/flash/")
