"""Reads for the API and pages: recommendation cards, friends who bought a product."""

from __future__ import annotations

from django.db.models import Min, Q

from quanzi.accounts.models import User
from quanzi.catalog.models import Product
from quanzi.catalog.selectors import product_card
from quanzi.recommend import signals
from quanzi.recommend.blend import Scored
from quanzi.recommend.models import Event


def cards_for(items: list[Scored]) -> list[dict]:
    ids = [s.product_id for s in items]
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=ids)
        .annotate(min_price=Min("skus__price", filter=Q(skus__is_active=True)))
        .prefetch_related("images")
    }
    out = []
    for s in items:
        product = products.get(s.product_id)
        if product is not None:
            out.append({**product_card(product), "score": s.score, "reasons": s.reasons})
    return out


def friends_who_bought(*, user_id: int, product_id: int, limit: int = 8) -> list[dict]:
    """Friends (who allow it) that bought ``product_id``, closest first."""
    ties = signals.sharing_friends(user_id)
    if not ties:
        return []
    buyers = set(
        Event.objects.filter(
            user_id__in=list(ties), product_id=product_id, kind="order"
        ).values_list("user_id", flat=True)
    )
    people = User.objects.filter(pk__in=buyers).values("pk", "nickname", "avatar")
    ranked = sorted(people, key=lambda p: (-ties[p["pk"]], p["pk"]))[:limit]
    return [{"user_id": p["pk"], "nickname": p["nickname"], "avatar": p["avatar"]} for p in ranked]
