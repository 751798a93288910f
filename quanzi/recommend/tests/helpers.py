from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.recommend import als, blend, signals
from quanzi.recommend.models import Event, Preference


def events(user, product, kind="order", n=1, days_ago=1):
    weight = {"order": 5.0, "like": 2.0, "view": 1.0}[kind]
    at = timezone.now() - timedelta(days=days_ago)
    Event.objects.bulk_create(
        [
            Event(user_id=user.pk, product_id=product.pk, kind=kind, weight=weight, created_at=at)
            for _ in range(n)
        ]
    )


def friends(a, b, *, shares=True):
    from quanzi.content.models import Follow

    Follow.objects.create(follower=a, followee=b)
    Follow.objects.create(follower=b, followee=a)
    Preference.objects.update_or_create(user=b, defaults={"show_purchases": shares})


def forget():
    signals.popular_clear()
    blend.catalog_forget()
    als.forget()
