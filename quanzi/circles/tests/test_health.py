"""Health figures and cohort retention computed on a generated history with known
answers: 100 people join in week 1, 50 of them leave by day 3, 20 of the rest like a
post in week 2, 10 more leave in week 3."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from quanzi.circles.health import circle_health_compute
from quanzi.circles.models import Circle, Membership, MembershipEvent, Post


def at(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def third_week_leave(week1):
    """When 10 more of the cohort leave: day 16 at 10:00."""
    return at(week1 + timedelta(days=15))


@pytest.fixture
def history(make_user, make_circle, photo, circle_owner):
    from quanzi.content.models import Like
    from quanzi.content.services import note_create

    today = timezone.localdate()
    week1 = today - timedelta(days=today.weekday()) - timedelta(weeks=2)  # a Monday
    circle = make_circle()
    Circle.objects.filter(pk=circle.pk).update(created_at=at(week1, 8))
    MembershipEvent.objects.filter(circle=circle).update(at=at(week1, 8))  # the owner
    people = [make_user(nickname=f"人{i}") for i in range(100)]
    events = [MembershipEvent(circle=circle, user=p, kind="join", at=at(week1)) for p in people]
    events += [
        MembershipEvent(circle=circle, user=p, kind="leave", at=at(week1 + timedelta(days=2)))
        for p in people[:50]
    ]
    # Only once that moment has passed: early on day 16 (local time) it is still to come.
    events += [
        MembershipEvent(circle=circle, user=p, kind="leave", at=third_week_leave(week1))
        for p in people[50:60]
        if third_week_leave(week1) <= timezone.now()
    ]
    MembershipEvent.objects.bulk_create(events)
    owner = circle.owner
    note = note_create(author=owner, title="置顶", media_ids=[photo(owner)])
    Post.objects.create(circle=circle, note=note, author=owner)
    Post.objects.filter(note=note).update(created_at=at(week1, 9))
    for p in people[60:80]:
        Like.objects.create(user=p, note=note)
    Like.objects.filter(note=note).update(created_at=at(week1 + timedelta(days=8)))
    api = circle_owner.api
    circle.refresh_from_db()
    circle.owner.api = api
    return circle, week1, today, people


def test_cohort_retention_has_the_known_answers(history):
    circle, week1, today, _people = history
    circle_health_compute(circle=circle, today=today)
    health = circle.owner.api.get(f"/circles/{circle.pk}/health").json()
    cohort = next(c for c in health["retention"] if c["week_start"] == week1.isoformat())
    assert cohort["joined"] == 101  # the owner joined that week too
    assert cohort["members"][0] == 51  # 50 of the 100 left by day 3: half retained
    assert cohort["member_share_bp"][0] == 51 * 10_000 // 101
    assert cohort["members"][1] == 51
    assert cohort["active"][0] == 1  # the owner posted in week 1
    assert cohort["active"][1] == 20  # 20 liked the post in week 2
    left_in_week3 = MembershipEvent.objects.filter(
        circle=circle, kind="leave", at=third_week_leave(week1)
    )
    if left_in_week3.exists():
        assert cohort["members"][2] == 41  # 10 more left in week 3
    elif len(cohort["members"]) > 2:
        assert cohort["members"][2] == 51  # their leaving is still to come today


def test_daily_figures_and_the_churn_alert(history):
    circle, week1, today, _people = history
    circle_health_compute(circle=circle, today=week1 + timedelta(days=3))
    health = circle.owner.api.get(f"/circles/{circle.pk}/health").json()
    days = {d["day"]: d for d in health["days"]}
    first = days[week1.isoformat()]
    assert (first["joins"], first["leaves"], first["members"]) == (101, 0, 101)
    third = days[(week1 + timedelta(days=2)).isoformat()]
    assert (third["leaves"], third["members"]) == (50, 51)
    assert health["posts_per_member_x100"] >= 1


def test_health_is_for_the_owner_and_the_operator(history, make_user, operator):
    circle, _week1, today, people = history
    circle_health_compute(circle=circle, today=today)
    assert operator.api.get(f"/circles/{circle.pk}/health").status_code == 200
    assert make_user().api.get(f"/circles/{circle.pk}/health").status_code == 404


def test_churn_alert_when_half_leave_within_days(make_user, make_circle):
    from quanzi.circles.members import circle_join, circle_leave

    circle = make_circle()
    people = [make_user() for _ in range(10)]
    for p in people:
        circle_join(circle_id=circle.pk, user=p)
    MembershipEvent.objects.filter(circle=circle).update(at=timezone.now() - timedelta(days=20))
    for p in people[:4]:
        circle_leave(circle_id=circle.pk, user=p)
    snapshot = circle_health_compute(circle=circle)
    assert snapshot.churn_alert and (snapshot.churn_lost, snapshot.churn_base) == (4, 11)
    assert Membership.objects.filter(circle=circle, status="member").count() == 7


def test_no_churn_alert_below_the_share_or_outside_the_window(make_user, make_circle):
    from quanzi.circles.members import circle_join, circle_leave

    circle = make_circle()
    people = [make_user() for _ in range(10)]
    for p in people:
        circle_join(circle_id=circle.pk, user=p)
    MembershipEvent.objects.filter(circle=circle).update(at=timezone.now() - timedelta(days=20))
    # 4 of 11 left, but 10 days ago: outside the 7-day window.
    for p in people[:4]:
        circle_leave(circle_id=circle.pk, user=p)
    MembershipEvent.objects.filter(circle=circle, kind="leave").update(
        at=timezone.now() - timedelta(days=10)
    )
    snapshot = circle_health_compute(circle=circle)
    assert not snapshot.churn_alert and (snapshot.churn_lost, snapshot.churn_base) == (0, 7)
    # 2 of the 7 (29 %) leave now: under the 30 % line.
    for p in people[4:6]:
        circle_leave(circle_id=circle.pk, user=p)
    snapshot = circle_health_compute(circle=circle)
    assert not snapshot.churn_alert and (snapshot.churn_lost, snapshot.churn_base) == (2, 7)
    # One more (3 of 7, 43 %): the alert is raised.
    circle_leave(circle_id=circle.pk, user=people[6])
    assert circle_health_compute(circle=circle).churn_alert


def test_the_daily_job_is_a_registered_sweep(make_circle):
    from quanzi.core.jobs import discover

    make_circle()
    job = discover()["circles.health"]
    assert job.func() == 1
