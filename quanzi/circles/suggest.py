"""Which circles to suggest to a person, from what they and the people around them do.

Three signals, each divided by its largest value so that none drowns the others, then
added with ``WEIGHTS``:

* ``people`` — circles the person's friends belong to, each friend counted with the
  strength of the tie: mutual follow 1.0, bound referrer or downline 0.8, one-way follow
  0.6 (the recommendation app's ties);
* ``purchases`` — circles whose members bought what the person bought (paid orders, not
  refunded): each member counts the number of distinct products they share with the
  person;
* ``labels`` — circles sharing a label with the person's own circles (1 each).

Circles the person is in or asked to join, and suspended ones, are never suggested.
"""

from __future__ import annotations

from collections import defaultdict

from django.apps import apps
from django.db.models import Count

from quanzi.accounts.models import User
from quanzi.circles.models import Circle, CircleStatus, Membership, MemberStatus

WEIGHTS = {"people": 1.0, "purchases": 1.0, "labels": 0.5}
TIES = {"mutual_follow": 1.0, "referrer": 0.8, "downline": 0.8, "follow": 0.6}
MAX_BUYERS = 500  # the people sharing most purchases with the person, at most


def ties_of(user_id: int) -> dict[int, float]:
    """People ``user_id`` is tied to, with the strongest tie's strength."""
    ties: dict[int, float] = {}
    if apps.is_installed("quanzi.content"):
        from quanzi.content.models import Follow

        following = set(
            Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)
        )
        followers = set(
            Follow.objects.filter(followee_id=user_id).values_list("follower_id", flat=True)
        )
        for other in following:
            ties[other] = TIES["mutual_follow"] if other in followers else TIES["follow"]
    referrer = User.objects.filter(pk=user_id).values_list("referrer_id", flat=True).first()
    if referrer:
        ties[referrer] = max(ties.get(referrer, 0.0), TIES["referrer"])
    for other in User.objects.filter(referrer_id=user_id).values_list("pk", flat=True):
        ties[other] = max(ties.get(other, 0.0), TIES["downline"])
    ties.pop(user_id, None)
    return ties


def co_buyers(user_id: int) -> dict[int, int]:
    """Other people → how many distinct products they bought that ``user_id`` bought."""
    from quanzi.orders.models import OrderLine, Status

    bought = (
        OrderLine.objects.filter(order__user_id=user_id, order__paid_at__isnull=False)
        .exclude(order__status=Status.REFUNDED)
        .values("product_id")
    )
    rows = (
        OrderLine.objects.filter(product_id__in=bought, order__paid_at__isnull=False)
        .exclude(order__status=Status.REFUNDED)
        .exclude(order__user_id=user_id)
        .values("order__user_id")
        .annotate(shared=Count("product_id", distinct=True))
        .order_by("-shared", "order__user_id")[:MAX_BUYERS]
    )
    return {row["order__user_id"]: row["shared"] for row in rows}


def _normalised(scores: dict[int, float]) -> dict[int, float]:
    top = max(scores.values(), default=0.0)
    return {key: value / top for key, value in scores.items()} if top > 0 else {}


def circle_scores(*, user_id: int) -> dict[int, float]:
    """Candidate circle id → score (only circles with some signal)."""
    excluded = set(
        Membership.objects.filter(
            user_id=user_id, status__in=[MemberStatus.MEMBER, MemberStatus.PENDING]
        ).values_list("circle_id", flat=True)
    )
    mine = set(
        Membership.objects.filter(user_id=user_id, status=MemberStatus.MEMBER).values_list(
            "circle_id", flat=True
        )
    )
    weights_by_person: dict[str, dict[int, float]] = {
        "people": dict(ties_of(user_id)),
        "purchases": {uid: float(n) for uid, n in co_buyers(user_id).items()},
    }
    signals: dict[str, dict[int, float]] = {}
    for name, people in weights_by_person.items():
        per_circle: dict[int, float] = defaultdict(float)
        if people:
            members = Membership.objects.filter(
                user_id__in=list(people), status=MemberStatus.MEMBER
            ).values_list("circle_id", "user_id")
            for circle_id, member_id in members:
                per_circle[circle_id] += people[member_id]
        signals[name] = _normalised(dict(per_circle))
    labels = Circle.labels.through.objects.filter(circle_id__in=mine).values("label_id")
    shared = Circle.labels.through.objects.filter(label_id__in=labels).values_list(
        "circle_id", flat=True
    )
    signals["labels"] = {circle_id: 1.0 for circle_id in set(shared)}

    total: dict[int, float] = defaultdict(float)
    for name, scores in signals.items():
        for circle_id, score in scores.items():
            total[circle_id] += WEIGHTS[name] * score
    candidates = set(total) - excluded
    active = set(
        Circle.objects.filter(pk__in=candidates, status=CircleStatus.ACTIVE).values_list(
            "pk", flat=True
        )
    )
    return {circle_id: total[circle_id] for circle_id in active}
