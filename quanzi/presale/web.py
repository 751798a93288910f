"""Pages of co-creation and pre-sales: the storefront's ideas (vote, propose) and pre-sale
page (countdown, deposit, balance, buy), and the dashboard's (proposals, create a
pre-sale, paid units against the threshold)."""

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
from quanzi.presale import selectors
from quanzi.presale.channel import opens_for
from quanzi.presale.models import Booking
from quanzi.presale.services import proposals, sales
from quanzi.storefront.web import error_text as _error_text


def error_text(exc: QuanziError) -> str:
    """The storefront's words for a refusal, with the pre-sale's own codes."""
    own = {
        "presale_not_started": _("This pre-sale has not started yet."),
        "presale_ended": _("Ordering for this pre-sale has ended."),
        "presale_closed": _("This pre-sale is closed."),
        "balance_not_open": _("The balance is paid in its window."),
        "deposit_not_paid": _("Pay the deposit first."),
        "balance_in_progress": _("A balance order for this deposit already exists."),
        "voting_closed": _("Voting on this idea has closed."),
        "limit_exceeded": _("You have reached the limit per person."),
        "out_of_stock": _("Sold out."),
        "address_required": _("Add a delivery address first."),
        "invalid_presale": _("Check the pre-sale's fields."),
    }
    return str(own.get(exc.code) or _error_text(exc))


def _address_id(user):
    from quanzi.accounts.models import Address

    address = (
        Address.objects.filter(user=user, is_deleted=False).order_by("-is_default", "id").first()
    )
    return address.pk if address else None


# --- storefront -------------------------------------------------------------------------


def ideas(request):
    user = request.user if request.user.is_authenticated else None
    rows = list(selectors.proposals_public().order_by("-votes", "-id")[:50])
    voted = selectors.voted_ids(
        user_id=user.pk if user else None, proposal_ids=[p.pk for p in rows]
    )
    presales = [
        selectors.presale_out(s)
        for s in selectors.presales_visible().filter(status="open").order_by("-id")[:20]
    ]
    return render(
        request,
        "presale/ideas.html",
        {
            "ideas": [selectors.proposal_out(p, voted=p.pk in voted) for p in rows],
            "presales": presales,
        },
    )


@login_required
@require_POST
def propose(request):
    try:
        proposal = proposals.proposal_create(
            user=request.user,
            kind="product",
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
        )
        if proposal.status == "held":
            messages.info(request, _("Thanks! Your idea will show once it is reviewed."))
        else:
            messages.success(request, _("Thanks! Your idea is up for votes."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/presale/")


@login_required
@require_POST
def vote(request, proposal_id: int):
    try:
        if request.POST.get("withdraw"):
            proposals.vote_withdraw(user=request.user, proposal_id=proposal_id)
        else:
            proposals.vote_cast(user=request.user, proposal_id=proposal_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/presale/#idea-{proposal_id}")


def sale_page(request, presale_id: int):
    try:
        presale = selectors.presale_get(presale_id=presale_id, public=True)
    except QuanziError:
        return render(request, "presale/missing.html", status=404)
    user = request.user if request.user.is_authenticated else None
    now = timezone.now()
    opens = opens_for(presale, user.pk) if user else presale.starts_at
    bookings = (
        [
            selectors.booking_out(b)
            for b in selectors.bookings_of(presale_id=presale.pk, user_id=user.pk).order_by("id")
        ]
        if user
        else []
    )
    info = selectors.presale_out(presale)
    return render(
        request,
        "presale/sale.html",
        {
            "sale": info,
            "opens": opens,
            "can_order": presale.status == "open" and opens <= now < presale.sales_end,
            "early": user is not None and opens < presale.starts_at,
            "bookings": bookings,
            "balance_open": info["state"] == "balance",
        },
    )


@login_required
@require_POST
def sale_order(request, presale_id: int, phase: str):
    booking_id = request.POST.get("booking_id")
    try:
        order, _payment = sales.presale_order(
            user=request.user,
            presale_id=presale_id,
            phase=phase,
            qty=max(1, int(request.POST.get("qty") or 1)),
            booking_id=int(booking_id) if booking_id else None,
            address_id=_address_id(request.user),
        )
    except (QuanziError, ValueError) as exc:
        if isinstance(exc, QuanziError):
            messages.error(request, error_text(exc))
        return redirect(f"/presale/{presale_id}/")
    return redirect(f"/orders/{order.pk}/pay/")


# --- dashboard --------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@operator_required
def ops(request):
    rows = [selectors.proposal_out(p) for p in selectors.proposals_all().order_by("-id")[:100]]
    presales = selectors.presales_admin_out(list(selectors.presales_all().order_by("-id")[:50]))
    return render(request, "presale/ops.html", {"ideas": rows, "presales": presales})


@operator_required
@require_POST
def ops_decide(request, proposal_id: int, decision: str):
    try:
        proposals.proposal_decide(proposal_id=proposal_id, decision=decision)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/presale/")


@operator_required
@require_http_methods(["GET", "POST"])
def ops_create(request):
    form = request.POST if request.method == "POST" else request.GET
    if request.method == "POST":
        mode = form.get("mode", "deposit")
        try:
            presale = sales.presale_create(
                mode=mode,
                sku_id=_int(form.get("sku_id")),
                proposal_id=_int(form.get("proposal_id")),
                title=form.get("title", ""),
                price=_int(form.get("price"), 0),
                per_user_limit=_int(form.get("per_user_limit"), 0),
                starts_at=_when(form.get("starts_at")) or timezone.now(),
                early_starts_at=_when(form.get("early_starts_at")),
                voter_coupon_template_id=_int(form.get("voter_coupon_template_id")),
                deposit=_int(form.get("deposit"), 0),
                deposit_value=_int(form.get("deposit_value")),
                balance_starts_at=_when(form.get("balance_starts_at")),
                balance_ends_at=_when(form.get("balance_ends_at")),
                unpaid_rule=form.get("unpaid_rule", "forfeit"),
                threshold_units=_int(form.get("threshold_units"), 0),
                deadline=_when(form.get("deadline")),
            )
            messages.success(request, _("Pre-sale created."))
            return redirect(f"/dashboard/presale/{presale.pk}/")
        except QuanziError as exc:
            messages.error(request, error_text(exc))
    return render(request, "presale/ops_create.html", {"form": form})


@operator_required
def ops_sale(request, presale_id: int):
    try:
        presale = selectors.presale_get(presale_id=presale_id)
    except QuanziError:
        return redirect("/dashboard/presale/")
    bookings = Booking.objects.filter(presale=presale).select_related("user").order_by("-id")[:200]
    return render(
        request,
        "presale/ops_sale.html",
        {"sale": selectors.presale_out(presale, admin=True), "bookings": bookings},
    )


@operator_required
@require_POST
def ops_cancel(request, presale_id: int):
    try:
        sales.presale_cancel(presale_id=presale_id)
        messages.success(request, _("Pre-sale cancelled; payments are being refunded."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/dashboard/presale/{presale_id}/")
