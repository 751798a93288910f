"""Session login, registration, the personal centre and addresses."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quanzi.accounts import services as accounts
from quanzi.accounts.models import Address
from quanzi.core.errors import NotFound, QuanziError
from quanzi.core.platform_settings import get_settings
from quanzi.orders.models import Order
from quanzi.storefront import features
from quanzi.storefront.forms import AddressForm, LoginForm, ProfileForm, RegisterForm
from quanzi.storefront.web import form_add_domain_error, safe_next

DEVICE_COOKIE = "qz_device"
SHARE_SESSION_KEY = "quanzi_share_token"  # set by /s/<token> (quanzi.social.views)
_REGISTER_FIELDS = {
    "invalid_phone": "phone",
    "phone_taken": "phone",
    "weak_password": "password",
    "invalid_nickname": "nickname",
    "invalid_invite_code": "invite_code",
}


def _device_id(request) -> str:
    return (request.COOKIES.get(DEVICE_COOKIE) or "")[:64]


def _with_device(request, response):
    if not request.COOKIES.get(DEVICE_COOKIE):
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_hex(16),
            max_age=5 * 365 * 86_400,
            httponly=True,
            samesite="Lax",
        )
    return response


@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = safe_next(request, "/me/")
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["phone"], password=form.cleaned_data["password"]
        )
        if user is None:
            form.add_error("password", _("Wrong phone number or password."))
        else:
            login(request, user)
            return redirect(next_url)
    response = render(request, "storefront/login.html", {"form": form, "next": next_url})
    return _with_device(request, response)


@require_http_methods(["GET", "POST"])
def register_view(request):
    next_url = safe_next(request, "/")
    initial = {"invite_code": (request.GET.get("invite") or "")[:12]}
    form = RegisterForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, token = accounts.user_register(
                phone=data["phone"],
                password=data["password"],
                nickname=data["nickname"],
                invite_code=data["invite_code"],
                device_id=_device_id(request),
                share_token=request.session.get(SHARE_SESSION_KEY, ""),
                session_key=request.session.session_key or "",
            )
        except QuanziError as exc:
            form_add_domain_error(form, exc, codes=_REGISTER_FIELDS)
        else:
            accounts.token_revoke(raw=token)  # the web keeps a session, not a bearer token
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Quanzi!"))
            gifts = features.new_user_gifts(user=user)
            if gifts:
                # Shown once, in a sheet on the next page (storefront/_welcome_sheet.html).
                request.session[features.WELCOME_GIFT_KEY] = [g["id"] for g in gifts]
            return redirect(next_url)
    response = render(request, "storefront/register.html", {"form": form, "next": next_url})
    return _with_device(request, response)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("/")


@login_required
def me(request):
    user = request.user
    counts = {}
    for status in ("pending_payment", "grouping", "to_ship", "shipped", "refunding"):
        counts[status] = Order.objects.filter(user=user, status=status).count()
    context = {
        "counts": counts,
        "points": features.points_balance(user=user),
        "membership": features.membership_of(user=user),
        "earnings": features.earnings_of(user=user),
        "coupon_count": features.coupon_count(user=user),
        "prize_count": features.prizes_to_claim(user=user),
    }
    return render(request, "storefront/me.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        initial={"nickname": request.user.nickname},
    )
    if request.method == "POST" and form.is_valid():
        try:
            accounts.user_nickname_set(user=request.user, nickname=form.cleaned_data["nickname"])
        except QuanziError as exc:
            if exc.code == "content_refused":
                form.add_error("nickname", _("This nickname cannot be used."))
            else:
                form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("/me/")
    return render(request, "storefront/profile.html", {"form": form})


@login_required
def addresses(request):
    items = Address.objects.filter(user=request.user, is_deleted=False).order_by(
        "-is_default", "-id"
    )
    return render(
        request,
        "storefront/addresses.html",
        {"addresses": items, "next": safe_next(request, "")},
    )


@login_required
@require_POST
def address_parse_view(request):
    """Paste-to-fill (智能填写): the pasted text split into the address fields (JSON)."""
    from quanzi.storefront.regions import address_parse

    return JsonResponse(address_parse(request.POST.get("text", "")))


@require_GET
@cache_control(public=True, max_age=86400)
def regions_view(request):
    """The 省/市/区 list the address picker cascades through."""
    from quanzi.storefront.regions import regions_json

    return HttpResponse(regions_json(), content_type="application/json; charset=utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, address_id: int | None = None):
    address = None
    if address_id is not None:
        try:
            address = accounts.address_get(user=request.user, address_id=address_id)
        except NotFound as exc:
            raise Http404("no such address") from exc
    initial = {}
    if address is not None:
        initial = {**address.snapshot(), "is_default": address.is_default}
    form = AddressForm(request.POST if request.method == "POST" else None, initial=initial)
    if address is not None:
        del form.fields["is_default"]  # the default is chosen when an address is added
    next_url = safe_next(request, "/me/addresses/")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        is_default = data.pop("is_default", False)
        try:
            if address is None:
                accounts.address_create(user=request.user, data=data, is_default=is_default)
            else:
                accounts.address_update(user=request.user, address_id=address.pk, data=data)
        except QuanziError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect(next_url)
    return render(
        request,
        "storefront/address_form.html",
        {"form": form, "address": address, "next": next_url},
    )


@login_required
@require_POST
def address_delete(request, address_id: int):
    try:
        accounts.address_delete(user=request.user, address_id=address_id)
    except NotFound as exc:
        raise Http404("no such address") from exc
    messages.success(request, _("Address deleted."))
    return redirect(safe_next(request, "/me/addresses/"))


@require_GET
def service(request):
    """客服: the ways to reach customer service that the operator configured."""
    return render(request, "storefront/service.html", {"service": get_settings().storefront})


@require_GET
def legal(request, doc: str):
    titles = {
        "terms": pgettext("document", "User agreement"),
        "privacy": pgettext("document", "Privacy policy"),
    }
    context = {"doc": doc, "title": titles[doc], "shop_name": get_settings().storefront.shop_name}
    return render(request, "storefront/legal.html", context)
