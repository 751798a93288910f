"""Circle health, computed by a daily job (``circles.health``), never per page view.

From the recorded history — joins and leaves (``MembershipEvent``), posts to the circle,
comments and likes on its notes, and paid sales through its deals — the job writes, for
each circle:

* one ``HealthDay`` per day (the last ``HISTORY_DAYS`` days): members at the end of the
  day, joins, leaves (removals count as leaves), active members over the last 7 and 30
  days (members who posted, commented, liked or bought in that window), posts, paid
  orders and GMV that day (net of the refunds those orders had since);
* one ``Cohort`` per join week: of those whose first join fell in week W (weeks start on
  Monday), how many were still members at the end of week W, W+1 … W+8, and how many of
  them were active during each of those weeks (a week still running counts up to now);
* a ``Snapshot``: top contributors over 30 days and the churn alert — raised when the
  circle lost at least ``CHURN_SHARE_BP`` of the members it had ``CHURN_DAYS`` days ago
  within those days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from quanzi.circles.models import (
    Circle,
    Cohort,
    EventKind,
    HealthDay,
    MembershipEvent,
    Post,
    Sale,
    Snapshot,
)
from quanzi.core.logging import get_logger

log = get_logger("quanzi.circles")

HISTORY_DAYS = 90
COHORT_WEEKS = 9  # W+0 … W+8
CHURN_DAYS = 7
CHURN_SHARE_BP = 3000  # losing 30 % of the members within CHURN_DAYS raises the alert
TOP = 5


def _day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _activity(circle: Circle, since: datetime) -> list[tuple[int, date]]:
    """(user id, local day) of every act in the circle since ``since``."""
    from quanzi.content.models import Comment, Like

    note_ids = list(Post.objects.filter(circle=circle).values_list("note_id", flat=True))
    acts: list[tuple[int, datetime]] = []
    acts += Post.objects.filter(circle=circle, created_at__gte=since).values_list(
        "author_id", "created_at"
    )
    if note_ids:
        acts += Comment.objects.filter(
            note_id__in=note_ids, created_at__gte=since, deleted=False
        ).values_list("author_id", "created_at")
        acts += Like.objects.filter(note_id__in=note_ids, created_at__gte=since).values_list(
            "user_id", "created_at"
        )
    acts += Sale.objects.filter(circle=circle, paid_at__gte=since).values_list("user_id", "paid_at")
    return [(uid, timezone.localtime(at).date()) for uid, at in acts]


class _Members:
    """Who was a member when, replayed from the join and leave events."""

    def __init__(self, events: list[tuple[int, str, datetime]]):
        self.events = events  # sorted by time
        self.first_join: dict[int, datetime] = {}
        for uid, kind, at in events:
            if kind == EventKind.JOIN:
                self.first_join.setdefault(uid, at)

    def at(self, moment: datetime) -> set[int]:
        members: set[int] = set()
        for uid, kind, at in self.events:
            if at >= moment:
                break
            if kind == EventKind.JOIN:
                members.add(uid)
            else:
                members.discard(uid)
        return members


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@transaction.atomic
def circle_health_compute(*, circle: Circle, today: date | None = None) -> Snapshot:
    now = timezone.now()
    today = today or timezone.localdate()
    first = max(timezone.localtime(circle.created_at).date(), today - timedelta(HISTORY_DAYS))
    events = sorted(
        MembershipEvent.objects.filter(circle=circle).values_list("user_id", "kind", "at"),
        key=lambda e: (e[2], e[1] != EventKind.JOIN),
    )
    history = _Members(events)
    acts = _activity(circle, _day_end(first - timedelta(days=31)))
    by_day: dict[date, set[int]] = defaultdict(set)
    for uid, day in acts:
        by_day[day].add(uid)
    joins, leaves = Counter(), Counter()
    for _uid, kind, at in events:
        (joins if kind == EventKind.JOIN else leaves)[timezone.localtime(at).date()] += 1
    posts = Counter(
        timezone.localtime(at).date()
        for at in Post.objects.filter(circle=circle).values_list("created_at", flat=True)
    )
    orders, gmv = Counter(), Counter()
    refunded = _refunded(circle)
    for order_id, amount, at in Sale.objects.filter(
        circle=circle, paid_at__isnull=False
    ).values_list("order_id", "amount", "paid_at"):
        day = timezone.localtime(at).date()
        orders[day] += 1
        # Net of what was paid back: a sale's refunds come off the day it was paid.
        gmv[day] += max(0, amount - refunded.get(order_id, 0))

    def active(members: set[int], day: date, days: int) -> int:
        seen: set[int] = set()
        for i in range(days):
            seen |= by_day.get(day - timedelta(days=i), set())
        return len(seen & members)

    rows = []
    day = first
    while day <= today:
        members = history.at(min(_day_end(day), now))
        rows.append(
            HealthDay(
                circle=circle,
                day=day,
                members=len(members),
                joins=joins[day],
                leaves=leaves[day],
                active_7d=active(members, day, 7),
                active_30d=active(members, day, 30),
                posts=posts[day],
                orders=orders[day],
                gmv=gmv[day],
            )
        )
        day += timedelta(days=1)
    HealthDay.objects.filter(circle=circle).delete()
    HealthDay.objects.bulk_create(rows)
    _cohorts(circle, history, by_day, today=today, now=now)
    return _snapshot(circle, history, acts, today=today, now=now)


def _refunded(circle: Circle) -> dict[int, int]:
    """Order id → fen paid back (succeeded refunds) for the circle's sales."""
    from django.db.models import Sum

    from quanzi.orders.models import Refund, RefundStatus

    rows = (
        Refund.objects.filter(
            order_id__in=Sale.objects.filter(circle=circle).values("order_id"),
            status=RefundStatus.SUCCEEDED,
        )
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    return {order_id: total or 0 for order_id, total in rows}


def _cohorts(circle, history: _Members, by_day, *, today: date, now: datetime) -> None:
    weeks: dict[date, list[int]] = defaultdict(list)
    for uid, at in history.first_join.items():
        weeks[_monday(timezone.localtime(at).date())].append(uid)
    rows = []
    for week, users in sorted(weeks.items()):
        members_left, active_left = [], []
        for k in range(COHORT_WEEKS):
            start = week + timedelta(weeks=k)
            if start > today:
                break
            end = start + timedelta(days=6)
            members = history.at(min(_day_end(end), now)) & set(users)
            seen: set[int] = set()
            for i in range(7):
                seen |= by_day.get(start + timedelta(days=i), set())
            members_left.append(len(members))
            active_left.append(len(members & seen))
        rows.append(
            Cohort(
                circle=circle,
                week_start=week,
                joined=len(users),
                members=members_left,
                active=active_left,
            )
        )
    Cohort.objects.filter(circle=circle).delete()
    Cohort.objects.bulk_create(rows)


def _snapshot(circle, history: _Members, acts, *, today: date, now: datetime) -> Snapshot:
    since = today - timedelta(days=29)
    counts = Counter(uid for uid, day in acts if day >= since)
    top = [{"user_id": uid, "acts": n} for uid, n in counts.most_common(TOP)]
    window_start = now - timedelta(days=CHURN_DAYS)
    base = len(history.at(window_start))
    lost = sum(
        1
        for _uid, kind, at in history.events
        if kind != EventKind.JOIN and window_start <= at <= now
    )
    alert = base > 0 and lost * 10_000 >= base * CHURN_SHARE_BP
    snapshot, _ = Snapshot.objects.update_or_create(
        circle=circle,
        defaults={
            "day": today,
            "top_contributors": top,
            "churn_alert": alert,
            "churn_lost": lost,
            "churn_base": base,
        },
    )
    return snapshot


def circles_health_compute_all() -> int:
    """Every circle once; a circle that fails is logged and skipped."""
    done = 0
    for circle in Circle.objects.order_by("id").iterator():
        try:
            circle_health_compute(circle=circle)
        except Exception:  # one bad circle never stalls the others
            log.exception("circle health failed", extra={"circle_id": circle.pk})
            continue
        done += 1
    return done
