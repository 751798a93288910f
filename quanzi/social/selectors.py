"""Share reads: a link's URL, a sharer's links with their results, the share tree and
its K-factor (used by analytics and the storefront)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from quanzi.accounts.models import User
from quanzi.core.pagination import paginate
from quanzi.social.models import ConversionKind, ShareConversion, ShareLink, ShareVisit
from quanzi.social.targets import target_path


def share_url(link: ShareLink) -> str:
    return f"{settings.PUBLIC_URL}/s/{link.token}"


def share_link_by_token(token: str) -> ShareLink | None:
    if not token:
        return None
    return ShareLink.objects.filter(token=token[:24]).first()


def share_redirect_path(link: ShareLink) -> str:
    return target_path(link.target, link.target_id, link.token)


def _results(link_ids: list[int]) -> dict[int, dict[str, int]]:
    """Visitors (not the sharer), registrations, paid orders and their amount per link."""
    out: dict[int, dict[str, int]] = defaultdict(
        lambda: {"opens": 0, "visitors": 0, "registrations": 0, "orders": 0, "gmv": 0}
    )
    if not link_ids:
        return out
    visits = (
        ShareVisit.objects.filter(link_id__in=link_ids)
        .exclude(visitor_id=F("link__sharer_id"))
        .values("link_id")
        .annotate(n=Count("id"))
    )
    for row in visits:
        out[row["link_id"]]["visitors"] = row["n"]
    conversions = (
        ShareConversion.objects.filter(link_id__in=link_ids)
        .values("link_id", "kind")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    for row in conversions:
        if row["kind"] == ConversionKind.REGISTER:
            out[row["link_id"]]["registrations"] = row["n"]
        else:
            out[row["link_id"]]["orders"] = row["n"]
            out[row["link_id"]]["gmv"] = int(row["amount"] or 0)
    for link_id, opens in ShareLink.objects.filter(pk__in=link_ids).values_list("id", "opens"):
        out[link_id]["opens"] = opens
    return out


def share_out(link: ShareLink, results: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": link.pk,
        "token": link.token,
        "url": share_url(link),
        "target": link.target,
        "target_id": link.target_id,
        "channel": link.channel,
        "parent_id": link.parent_id,
        "depth": link.depth,
        "created_at": link.created_at,
        **(results or _results([link.pk])[link.pk]),
    }


def shares_of(*, user: User, cursor: str | None = None, limit: int | None = None) -> dict:
    page = paginate(
        ShareLink.objects.filter(sharer=user), cursor=cursor, limit=limit, serialize=lambda x: x
    )
    results = _results([link.pk for link in page["items"]])
    page["items"] = [share_out(link, results[link.pk]) for link in page["items"]]
    return page


def _k_factor(brought: int, sharers: int) -> float:
    return round(brought / sharers, 4) if sharers else 0.0


def share_tree(*, link_id: int) -> dict[str, Any]:
    """The tree a link belongs to: every link with its parent and results, the tree's
    depth, and its K-factor (people brought in by registration ÷ people who shared)."""
    link = ShareLink.objects.filter(pk=link_id).first()
    if link is None:
        return {}
    root_id = link.root_id or link.pk
    links = list(
        ShareLink.objects.filter(Q(pk=root_id) | Q(root_id=root_id)).order_by("depth", "id")
    )
    results = _results([item.pk for item in links])
    sharers = {item.sharer_id for item in links}
    brought = (
        ShareConversion.objects.filter(
            link_id__in=[item.pk for item in links], kind=ConversionKind.REGISTER
        )
        .values("user_id")
        .distinct()
        .count()
    )
    return {
        "root_id": root_id,
        "depth": max(item.depth for item in links),
        "links": [
            {
                "id": item.pk,
                "sharer_id": item.sharer_id,
                "parent_id": item.parent_id,
                "depth": item.depth,
                **results[item.pk],
            }
            for item in links
        ],
        "sharers": len(sharers),
        "brought": brought,
        "k_factor": _k_factor(brought, len(sharers)),
    }


def _in_window(qs: QuerySet, since: datetime | None, until: datetime | None) -> QuerySet:
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs


def share_stats(
    *, since: datetime | None = None, until: datetime | None = None, sharer: User | None = None
) -> dict[str, Any]:
    """Sharing over a period (links created in it): how many shared, opened, registered
    and bought, the deepest chain and the K-factor."""
    links = _in_window(ShareLink.objects.all(), since, until)
    if sharer is not None:
        links = links.filter(sharer=sharer)
    agg = links.aggregate(n=Count("id"), sharers=Count("sharer", distinct=True), depth=Max("depth"))
    conversions = ShareConversion.objects.filter(link__in=links)
    brought = conversions.filter(kind=ConversionKind.REGISTER).values("user_id").distinct().count()
    orders = conversions.filter(kind=ConversionKind.ORDER).aggregate(
        n=Count("id"), gmv=Sum("amount"), buyers=Count("user", distinct=True)
    )
    visitors = (
        ShareVisit.objects.filter(link__in=links, visitor__isnull=False)
        .exclude(visitor_id=F("link__sharer_id"))
        .values("visitor_id")
        .distinct()
        .count()
    )
    anonymous = ShareVisit.objects.filter(link__in=links, visitor__isnull=True).count()
    sharers = agg["sharers"] or 0
    return {
        "links": agg["n"] or 0,
        "sharers": sharers,
        "visitors": visitors + anonymous,
        "registrations": brought,
        "orders": orders["n"] or 0,
        "buyers": orders["buyers"] or 0,
        "gmv": int(orders["gmv"] or 0),
        "max_depth": agg["depth"] or 0,
        "k_factor": _k_factor(brought, sharers),
    }


def user_registered_through(*, user: User, target: str, target_id: int) -> bool:
    """True when ``user`` registered through a share link of ``target``/``target_id``."""
    return ShareConversion.objects.filter(
        user=user,
        kind=ConversionKind.REGISTER,
        link__target=target,
        link__target_id=target_id,
    ).exists()


def people_brought_by(*, user: User, kind: str = ConversionKind.REGISTER) -> QuerySet:
    """Users who registered (or paid an order) through ``user``'s links, oldest first."""
    ids = ShareConversion.objects.filter(link__sharer=user, kind=kind).values("user_id")
    return User.objects.filter(pk__in=ids).exclude(pk=user.pk).order_by("id")
