"""Browsing: home, categories, search, the product page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from quanzi.catalog import selectors as catalog
from quanzi.catalog.extensions import page_sections, product_extras, product_sections
from quanzi.core.errors import NotFound, QuanziError
from quanzi.core.platform_settings import get_settings
from quanzi.orders.quotes import sku_quote, sku_quotes
from quanzi.storefront import features
from quanzi.storefront.cart import cart_count
from quanzi.storefront.web import int_or_none

PAGE_SIZE = 10


def _product_page(request, *, category_id=None, q=None, order="sales"):
    qs = catalog.product_list(category_id=category_id, q=q)
    qs = qs.order_by("-sales", "-id") if order == "sales" else qs.order_by("-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    cards = [catalog.product_card(p) for p in page.object_list]
    return page, cards


def _more_url(request, page) -> str | None:
    if not page.has_next():
        return None
    params = request.GET.copy()
    params["page"] = page.next_page_number()
    return f"{request.path}?{params.urlencode()}"


def _grid_response(request, template: str, context: dict):
    """Full page normally; only the next cards when htmx asks for more."""
    if request.headers.get("HX-Request"):
        return render(request, "storefront/_product_cards.html", context)
    return render(request, template, context)


@require_GET
def home(request):
    page, cards = _product_page(request)
    shop = get_settings().storefront
    context = {
        "banners": [b for b in shop.banners if b.startswith("/") and not b.startswith("//")],
        "cards": cards,
        "more_url": _more_url(request, page),
        "shop": shop,
        "categories": list(catalog.category_list()[:8]),
        "group_deals": features.group_deals(limit=6),
        "bargain_deals": features.bargain_deals(limit=4),
    }
    if not request.headers.get("HX-Request"):
        context["sections"] = page_sections("home", request)
    return _grid_response(request, "storefront/home.html", context)


@require_GET
def categories(request):
    cats = list(catalog.category_list())
    current = int_or_none(request.GET.get("id")) or (cats[0].pk if cats else None)
    page, cards = _product_page(request, category_id=current) if current else (None, [])
    context = {
        "categories": cats,
        "current": current,
        "cards": cards,
        "more_url": _more_url(request, page) if page else None,
    }
    return _grid_response(request, "storefront/categories.html", context)


@require_GET
def search(request):
    q = (request.GET.get("q") or "").strip()[:60]
    page, cards = _product_page(request, q=q) if q else (None, [])
    context = {"q": q, "cards": cards, "more_url": _more_url(request, page) if page else None}
    return _grid_response(request, "storefront/search.html", context)


@require_GET
def product(request, product_id: int):
    try:
        item = catalog.product_get(product_id=product_id)
    except NotFound as exc:
        raise Http404("no such product") from exc
    if item.is_virtual:
        raise Http404("not sold here")
    user = request.user if request.user.is_authenticated else None
    skus = list(item.skus.all())
    quotes = sku_quotes(user=user, skus=skus)
    for sku in skus:
        sku.quote = quotes[sku.pk]
        sku.my_price = sku.quote.price
    extras = product_extras(item, user)
    prices = [s.price for s in skus]
    member_prices = [s.member_price for s in skus if s.member_price]
    group = features.group_offer(product=item, user=user, extras=extras)
    on_sale = [s for s in skus if s.stock > 0] or skus
    mine = min((s.quote for s in on_sale), key=lambda q: q.price, default=None)
    if group is not None:
        group["start_quote"] = _group_start_quote(group, skus, user)
    context = {
        "product": item,
        "images": list(item.images.all()),
        "skus": skus,
        "min_price": min(prices) if prices else 0,
        "max_price": max(prices) if prices else 0,
        "member_price": min(member_prices) if member_prices else None,
        "my_quote": mine,
        "in_stock": any(s.stock > 0 for s in skus),
        "default_sku": next((s.pk for s in skus if s.stock > 0), None),
        "cart_count": cart_count(request.session),
        "open_groups": features.open_groups(extras),
        "group": group,
        "bargain": features.bargain_offer(product=item),
        "related": [
            catalog.product_card(p)
            for p in catalog.product_list(category_id=item.category_id)
            .exclude(pk=item.pk)
            .order_by("-sales")[:4]
        ]
        if item.category_id
        else [],
        "poster_url": f"/poster/p/{item.pk}.png",
        "has_shop": features.has_shop(user=user),
        "sections": product_sections(request, item, user),
        "has_service": _has_service(),
    }
    return render(request, "storefront/product.html", context)


def _group_start_quote(group: dict, skus: list, user):
    """What opening a group costs this viewer (the leader price when the deal has one)."""
    offered = {o["sku_id"] for o in group.get("skus", []) if isinstance(o, dict) and "sku_id" in o}
    sku = next((s for s in skus if s.pk in offered and s.stock > 0), None)
    if sku is None:
        return None
    try:
        return sku_quote(
            user=user, sku=sku, channel="group", extra={"campaign_id": group["campaign_id"]}
        )
    except QuanziError:
        return None


def _has_service() -> bool:
    shop = get_settings().storefront
    return bool(shop.service_url or shop.service_wechat or shop.service_phone)
