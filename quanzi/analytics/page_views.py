"""The storefront's product page counts as a ``view`` for the daily facts: a product-page
section (``catalog.extensions``) that records the visit and shows nothing. Signed-in
people count once whatever their device; others by their session; a visit that came
through a shop's share link is attributed to that shop."""

from __future__ import annotations

from quanzi.analytics.services import traffic_record
from quanzi.social.views import SESSION_KEY as SHARE_SESSION_KEY


def product_view_section(request, product, user) -> str:
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    session = getattr(request, "session", None)
    visitor = ""
    if session is not None and not signed_in:
        if not session.session_key:
            session.save()
        visitor = session.session_key or ""
    if not signed_in and not visitor:
        return ""
    traffic_record(
        kind="view",
        visitor=visitor,
        user_id=user.pk if signed_in else None,
        product_id=product.pk,
        share_token=(session.get(SHARE_SESSION_KEY, "") if session is not None else "")[:24],
    )
    return ""
