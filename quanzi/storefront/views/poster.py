"""Share posters as PNG (分享海报)."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from quanzi.catalog import selectors as catalog
from quanzi.core.errors import NotFound
from quanzi.core.platform_settings import get_settings
from quanzi.storefront import features
from quanzi.storefront.poster import poster_render


def _png(key_parts: list[str], draw) -> HttpResponse:
    key = "poster:" + hashlib.sha256("|".join(key_parts).encode()).hexdigest()
    data = cache.get(key)
    if data is None:
        data = draw()
        cache.set(key, data, 600)
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
def product_poster(request, product_id: int):
    try:
        product = catalog.product_get(product_id=product_id)
    except NotFound as exc:
        raise Http404("no such product") from exc
    skus = list(product.skus.all())
    if not skus:
        raise Http404("nothing to sell")
    user = request.user
    link = features.share_link(
        request,
        user=user,
        target="product",
        target_id=product.pk,
        path=f"/p/{product.pk}",
        channel="poster",
    )
    group = features.group_offer(product=product)
    price = group["group_price"] if group else min(s.price for s in skus)
    original = min(s.price for s in skus) if group else None
    images = list(product.images.all())
    shop = get_settings().storefront.shop_name
    texts = {
        "recommends": _("recommends this to you"),
        "price_label": _("Group price") if group else _("Price"),
        "scan": _("Scan to buy"),
        "scan_hint": _("Press and hold the QR code to open · %(shop)s") % {"shop": shop},
        "shop": shop,
    }

    def draw() -> bytes:
        return poster_render(
            title=product.title,
            price=price,
            original_price=original,
            image_url=images[0].url if images else "",
            sharer_nickname=user.nickname,
            sharer_avatar=user.avatar,
            link=link,
            texts=texts,
            code_image=features.mini_program_code(link=link),
        )

    parts = [str(product.pk), str(product.updated_at), str(user.pk), user.nickname, link]
    return _png(parts + [get_language() or "", str(price)], draw)


@login_required
def group_poster(request, group_id: int):
    try:
        data = features.group_page(group_id=group_id, viewer=request.user)
    except NotFound as exc:
        raise Http404("no such group") from exc
    user = request.user
    link = features.share_link(
        request,
        user=user,
        target="group",
        target_id=group_id,
        path=f"/g/{group_id}",
        channel="poster",
    )
    shop = get_settings().storefront.shop_name
    texts = {
        "recommends": _("invites you to join the group"),
        "price_label": _("Group price"),
        "scan": _("Scan to join"),
        "scan_hint": _("Press and hold the QR code to open · %(shop)s") % {"shop": shop},
        "shop": shop,
    }

    def draw() -> bytes:
        return poster_render(
            title=data["title"] or data["product"]["title"],
            price=data["group_price"],
            original_price=data["price"],
            image_url=data["product"]["cover"],
            sharer_nickname=user.nickname,
            sharer_avatar=user.avatar,
            link=link,
            texts=texts,
            code_image=features.mini_program_code(link=link),
        )

    parts = ["group", str(group_id), str(user.pk), user.nickname, link, get_language() or ""]
    return _png(parts, draw)
