"""Helpers the storefront and the dashboard share: domain errors shown to people,
pagination, and the small plumbing around forms.

Views call the domain services; a ``QuanziError`` a service raises is never a server
error page: it becomes a message (or a field error) in the person's language.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from quanzi.core.errors import NotFound, QuanziError

# What a domain error code means to a shopper or an operator. Unknown codes fall back to
# the service's own (English) message, so a new rule still explains itself.
ERROR_TEXT: dict[str, Any] = {
    "invalid_prize": _(
        "Check the prizes: each needs a name, a kind and a weight; a points prize its points, a coupon prize its coupon, a gift its item and stock."
    ),
    "prize_pool_invalid": _("Give the lottery at least one prize with a weight above 0."),
    "invalid_lottery": _(
        "A lottery costs points or gives free draws (or both), and ends after it starts."
    ),
    "lottery_closed": _("This lottery is not running."),
    "prize_pool_empty": _("Every prize of this lottery is gone."),
    "nothing_to_claim": _("This draw won nothing to ship."),
    "invalid_reward": _("A reward gives points, a coupon, or both."),
    "invalid_campaign": _("Check the campaign: the friends needed, the limit and the dates."),
    "campaign_ended": _("An ended deal cannot be edited."),
    "out_of_stock": _("Sorry, not enough stock left."),
    "invalid_quantity": _("Choose a quantity between 1 and 999."),
    "sku_unavailable": _("This item is no longer on sale."),
    "address_required": _("Choose a delivery address."),
    "invalid_address": _("Check the delivery address."),
    "payable_too_low": _("An order must leave something to pay."),
    "empty_order": _("Your order is empty."),
    "too_many_lines": _("Too many different items in one order."),
    "invalid_transition": _("This cannot be done in the order's current state."),
    "payment_expired": _("The payment window of this order has closed."),
    "order_not_found": _("No such order."),
    "refund_in_progress": _("This order already has a refund in progress."),
    "after_sales_closed": _("The after-sales window of this order has ended."),
    "nothing_to_refund": _("Everything on this order is refunded already."),
    "refund_exceeds_purchase": _("You cannot refund more than you bought."),
    "invalid_refund": _("Check the refund request."),
    "invalid_phone": _("Enter an 11-digit mainland mobile number."),
    "weak_password": _("The password needs at least 6 characters."),
    "phone_taken": _("This phone number is already registered."),
    "invalid_invite_code": _("No one has this invite code."),
    "invalid_credentials": _("Wrong phone number or password."),
    "invalid_nickname": _("A nickname has at most 40 characters."),
    "coupon_not_allowed": _("Coupons cannot be used on this kind of order."),
    "coupon_invalid": _("This coupon cannot be used on this order."),
    "points_not_allowed": _("Points cannot be used on this kind of order."),
    "points_unavailable": _("Points are not available."),
    "invalid_points": _("Check the number of points."),
    "insufficient_points": _("You do not have that many points."),
    "invalid_shipment": _("Carrier and tracking number are required."),
    "not_shippable": _("This order may not ship yet."),
    "invalid_title": _("A product needs a title of at most 120 characters."),
    "invalid_sku": _("Check the SKUs."),
    "invalid_price": _("Check the prices."),
    "invalid_stock": _("Stock is a whole number between 0 and 10,000,000."),
    "invalid_commission": _("Check the commission rates."),
    "invalid_category": _("No such category."),
    "invalid_supplier": _("No such supplier."),
    "category_exists": _("A category with this name exists."),
    "invalid_setting": _("Check the settings."),
    "pyramid_forbidden": _("At most two commission levels: more is a pyramid scheme."),
    "gateway_disabled": _("This payment method is switched off."),
    "gateway_not_configured": _("This payment method is not configured."),
    "unknown_gateway": _("Unknown payment method."),
    "payment_not_found": _("No such payment."),
    "refund_not_found": _("No such refund."),
    "group_full": _("This group is full. Open a new one!"),
    "group_closed": _("This group is no longer open."),
    "group_not_open": _("This group opens once its leader has paid."),
    "group_not_found": _("No such group."),
    "own_group": _("You lead this group: share it with friends instead."),
    "already_joined": _("You are already in this group."),
    "limit_exceeded": _("You have reached the purchase limit of this deal."),
    "sku_not_in_campaign": _("This variant is not part of the deal."),
    "invalid_group_order": _("A group order buys one item of its deal."),
    "campaign_not_active": _("This deal is not running now."),
    "campaign_closed": _("This deal is not running now."),
    "campaign_not_found": _("No such deal."),
    "campaign_overlap": _("Another deal on the same item overlaps this time window."),
    "bargain_not_found": _("No such bargain."),
    "bargain_in_progress": _("You already have a bargain running for this item."),
    "attempts_exceeded": _("You have used all your bargains for this item."),
    "bargain_ordered": _("This bargain already has an order waiting for payment."),
    "floor_not_reached": _("This deal unlocks when friends have cut it to the lowest price."),
    "already_helped": _("You have helped this bargain already."),
    "help_limit": _("You have used up today's helps."),
    "helps_exhausted": _("You have used up today's helps."),
    "bargain_closed": _("This bargain has closed."),
    "own_bargain": _("You cannot help your own bargain."),
    "risk_denied": _("This was refused by our risk checks."),
    "risk_held": _("This waits for a review by our team; try again once it is approved."),
    "risk_verify": _("Please confirm it is you before this counts."),
    "withdraw_too_small": _("The amount is below the minimum withdrawal."),
    "below_minimum": _("The amount is below the minimum withdrawal (after the fee)."),
    "insufficient_balance": _("Not enough available balance."),
    "daily_limit": _("This exceeds today's withdrawal limit."),
    "daily_limit_exceeded": _("This exceeds today's withdrawal limit."),
    "payee_required": _("Give the account the money is paid to."),
    "payout_account_missing": _("Give the account the money is paid to."),
    "invalid_payee_account": _("This is not an account the chosen way can pay to."),
    "invalid_openid": _("This is not an account the chosen way can pay to."),
    "payee_name_required": _("Give the account owner's real name."),
    "invalid_payee_name": _("A real name has 2 to 40 letters."),
    "not_a_distributor": _("You are not a distributor yet."),
    "shop_exists": _("You have a shop already."),
    "invalid_shop_name": _("A shop name has 1 to 40 characters."),
    "product_unavailable": _("This item is no longer on sale."),
    "too_many_products": _("Your shop is full."),
    "product_not_in_shop": _("This product is not in your shop."),
    "plan_not_found": _("No such membership plan."),
    "coupon_inactive": _("This coupon is no longer issued."),
    "coupon_ended": _("This coupon's validity has ended."),
    "coupon_template_not_found": _("No such coupon."),
    "coupon_limit": _("You have claimed this coupon already."),
    "rate_limited": _("Too many tries, please wait a moment."),
    "forbidden": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "already_claimed": _("You have claimed this coupon already."),
    "sold_out": _("All gone, sorry."),
    "already_signed_in": _("You have signed in today already."),
    # community group buying
    "wave_closed": _("Ordering for this wave has closed."),
    "point_paused": _("The leader of this point is away on the pickup day; choose another point."),
    "point_unavailable": _("This pickup point is not taking orders."),
    "sku_not_in_wave": _("This item is not sold in this wave."),
    "invalid_pickup_code": _("No order at this point has this code."),
    "pickup_code_used": _("This code was used already."),
    "not_arrived": _("Confirm the arrival of this wave's goods first."),
    "shortage_exceeds_orders": _("More units were reported short than were ordered here."),
}


# Some codes say more with the field they are about.
FIELD_ERROR_TEXT: dict[str, Any] = {
    "invalid_price:price": _("The price must be above 0."),
    "invalid_price:supply_price": _("The supply price cannot exceed the retail price."),
    "invalid_price:member_price": _("The member price is between ¥0.01 and the retail price."),
}


def error_text(exc: QuanziError) -> str:
    field = error_field(exc)
    text = FIELD_ERROR_TEXT.get(f"{exc.code}:{field}") if field else None
    text = text if text is not None else ERROR_TEXT.get(exc.code)
    return str(text) if text is not None else exc.message


def error_field(exc: QuanziError) -> str | None:
    detail = exc.detail or {}
    field = detail.get("field")
    return str(field) if field else None


def form_add_domain_error(form, exc: QuanziError, *, codes: dict[str, str] | None = None) -> None:
    """Attach a domain error next to the field it is about: the field ``codes`` names for
    its code, else the one its ``detail.field`` names, else the form as a whole."""
    field = (codes or {}).get(exc.code) or error_field(exc)
    if field and field in form.fields:
        form.add_error(field, error_text(exc))
    else:
        form.add_error(None, error_text(exc))


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to ``next``, else the page the person came from (same host), else fallback."""
    target = safe_next(request, "")
    if not target:
        referer = request.headers.get("Referer", "")
        if referer and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = referer
    return redirect(target or fallback)


def domain_errors(fallback: str | Callable[..., str] = "/"):
    """Turn a ``QuanziError`` from a POST view into a message and a redirect back.

    ``NotFound`` becomes a 404 page: someone else's object looks like a missing one.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(error_text(exc)) from exc
            except QuanziError as exc:
                messages.error(request, error_text(exc))
                target = fallback(*args, **kwargs) if callable(fallback) else fallback
                return back(request, target)

        return wrapper

    return decorator


class PageOf:
    """A page of a queryset plus the query string that keeps the search and filters."""

    def __init__(self, request: HttpRequest, qs, *, per_page: int = 20):
        paginator = Paginator(qs, per_page)
        self.page = paginator.get_page(request.GET.get("page"))
        self.items = list(self.page.object_list)
        params = {k: v for k, v in request.GET.items() if k != "page" and v}
        self.query = urlencode(params)

    def link(self, number: int) -> str:
        return f"?{self.query}&page={number}" if self.query else f"?page={number}"

    @property
    def prev_link(self) -> str | None:
        return self.link(self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_link(self) -> str | None:
        return self.link(self.page.next_page_number()) if self.page.has_next() else None


def int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
