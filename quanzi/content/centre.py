"""The creator centre (达人中心): what each note brought, and the totals per day.

Read from the facts themselves (views and touches, likes, clicks, creator commissions),
a handful of grouped queries whatever the number of notes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import CreatorCommission, Like, Note, NoteClick, NoteStatus, NoteTouch


def creator_centre(*, user, days: int = 30) -> dict[str, Any]:
    notes = list(
        Note.objects.filter(author=user).exclude(status=NoteStatus.DELETED).order_by("-id")
    )
    ids = [n.pk for n in notes]
    commissions = CreatorCommission.objects.filter(creator=user)
    per_note_orders = {
        row["note_id"]: row
        for row in commissions.values("note_id").annotate(
            orders=Count("order_id", distinct=True),
            commission=Sum(F("amount") - F("reversed_amount")),
        )
    }
    items = [
        {
            "note_id": n.pk,
            "title": n.title,
            "status": n.status,
            "visibility": n.visibility,
            "views": n.view_count,
            "likes": n.like_count,
            "favourites": n.favourite_count,
            "comments": n.comment_count,
            "clicks": n.click_count,
            "orders": per_note_orders.get(n.pk, {}).get("orders", 0),
            "commission": int(per_note_orders.get(n.pk, {}).get("commission") or 0),
        }
        for n in notes
    ]
    since = timezone.now() - timedelta(days=days)
    day_rows: dict[str, dict[str, int]] = defaultdict(
        lambda: {"views": 0, "likes": 0, "clicks": 0, "orders": 0, "commission": 0}
    )

    def fold(qs, field: str, value="n") -> None:
        for row in qs:
            day_rows[row["day"].isoformat()][field] += int(row[value] or 0)

    tz = timezone.get_current_timezone()
    fold(
        NoteTouch.objects.filter(note_id__in=ids, at__gte=since, source="open")
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id")),
        "views",
    )
    fold(
        Like.objects.filter(note_id__in=ids, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id")),
        "likes",
    )
    fold(
        NoteClick.objects.filter(note_id__in=ids, at__gte=since)
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id")),
        "clicks",
    )
    fold(
        commissions.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("order_id", distinct=True), c=Sum(F("amount") - F("reversed_amount"))),
        "orders",
    )
    fold(
        commissions.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(c=Sum(F("amount") - F("reversed_amount"))),
        "commission",
        "c",
    )
    totals = commissions.aggregate(
        orders=Count("order_id", distinct=True), commission=Sum(F("amount") - F("reversed_amount"))
    )
    settled = commissions.filter(settled_at__isnull=False).aggregate(
        c=Sum(F("amount") - F("reversed_amount"))
    )["c"]
    recent = list(commissions.select_related("line").order_by("-id")[:20])
    from quanzi.distribution.models import Commission

    # On a line the creator also earns as the buyer's distributor, show both.
    as_distributor = dict(
        Commission.objects.filter(beneficiary=user, line_id__in=[c.line_id for c in recent])
        .values_list("line_id")
        .annotate(net=Sum(F("amount") - F("reversed_amount")))
        .values_list("line_id", "net")
    )
    recent_orders = [
        {
            "order_id": c.order_id,
            "note_id": c.note_id,
            "product": c.line.title,
            "amount": c.net,
            "distribution": int(as_distributor.get(c.line_id) or 0),
            "earned": c.net + int(as_distributor.get(c.line_id) or 0),
            "status": c.status,
            "created_at": c.created_at,
        }
        for c in recent
    ]
    return {
        "notes": items,
        "days": [{"day": day} | values for day, values in sorted(day_rows.items(), reverse=True)],
        "totals": {
            "orders": totals["orders"] or 0,
            "commission": int(totals["commission"] or 0),
            "settled": int(settled or 0),
        },
        "orders": recent_orders,
    }
