"""The storefront's product page counts as a ``view`` for the daily facts, its add-to-cart
as a ``cart``: a product-page
section (``catalog.extensions``) that records the visit and shows nothing. Signed-in
people count once whatever their device; others by their session; a visit that came
through a shop's share link is attributed to that shop."""

from __future__ import annotations

from quanzi.analytics.services import traffic_record
from quanzi.social.views import SESSION_KEY as SHARE_SESSION_KEY


def product_view_section(request, product, user) -> str:
    _record(request, user, kind="view", product_id=product.pk)
    return ""


def cart_record(request, *, product_id: int) -> None:
    """An add-to-cart of the storefront (``storefront.features.cart_added``)."""
    _record(request, getattr(request, "user", None), kind="cart", product_id=product_id)


def _record(request, user, *, kind: str, product_id: int) -> None:
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    session = getattr(request, "session", None)
    visitor = ""
    if session is not None and not signed_in:
        if not session.session_key:
            session.save()
        visitor = session.session_key or ""
    if not signed_in and not visitor:
        return
    traffic_record(
        kind=kind,
        visitor=visitor,
        user_id=user.pk if signed_in else None,
        product_id=product_id,
        share_token=(session.get(SHARE_SESSION_KEY, "") if session is not None else "")[:24],
    )
