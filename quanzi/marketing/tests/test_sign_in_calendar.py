"""The sign-in calendar: signed days of the month, the streak, the streak bonus."""

import calendar
from datetime import date, timedelta

import pytest
from django.utils import timezone

from quanzi.core.platform_settings import settings_update
from quanzi.marketing.models import SignIn
from quanzi.marketing.points import points_balance
from quanzi.marketing.services import sign_in
from quanzi.marketing.signin import sign_in_calendar, sign_in_points_for, sign_in_streak

pytestmark = pytest.mark.django_db


def _signed(user, *days: date) -> None:
    for day in days:
        SignIn.objects.create(user=user, day=day, points=10)


def test_the_seventh_day_in_a_row_earns_the_bonus(customer):
    settings_update(
        patch={
            "points": {"sign_in_points": 10, "sign_in_streak_days": 7, "sign_in_streak_bonus": 20}
        }
    )
    today = timezone.localdate()
    _signed(customer, *(today - timedelta(days=n) for n in range(1, 7)))  # six days before
    result = sign_in(user=customer)
    assert result["streak"] == 7 and result["points"] == 30
    assert points_balance(user_id=customer.pk) == 30
    assert [sign_in_points_for(n) for n in (1, 6, 7, 8, 14)] == [10, 10, 30, 10, 30]


def test_a_missed_day_starts_the_streak_again(customer):
    today = timezone.localdate()
    _signed(customer, today - timedelta(days=2), today - timedelta(days=3))
    assert sign_in_streak(user_id=customer.pk, ending=today - timedelta(days=1)) == 0
    assert sign_in(user=customer)["streak"] == 1


def test_a_long_streak_is_counted_whole(customer):
    today = timezone.localdate()
    _signed(customer, *(today - timedelta(days=n) for n in range(0, 150)))
    assert sign_in_streak(user_id=customer.pk, ending=today) == 150


def test_the_calendar_shows_the_month_the_streak_and_the_coming_rewards(customer):
    settings_update(
        patch={
            "points": {"sign_in_points": 5, "sign_in_streak_days": 3, "sign_in_streak_bonus": 50}
        }
    )
    today = timezone.localdate()
    _signed(customer, today - timedelta(days=1))  # yesterday: the streak is alive
    cal = sign_in_calendar(user_id=customer.pk)
    assert cal["streak"] == 1 and not cal["signed_today"]
    # today is the 2nd day in a row, tomorrow the 3rd (bonus), then the cycle restarts
    assert [u["points"] for u in cal["upcoming"][:4]] == [5, 55, 5, 5]
    assert cal["upcoming"][0]["day"] == today
    sign_in(user=customer)
    cal = sign_in_calendar(user_id=customer.pk)
    assert cal["signed_today"] and cal["streak"] == 2
    assert cal["upcoming"][0]["day"] == today + timedelta(days=1)
    assert cal["upcoming"][0]["points"] == 55
    days = [d for week in cal["weeks"] for d in week if d]
    assert len(days) == calendar.monthrange(today.year, today.month)[1]
    assert {d["day"] for d in days if d["signed"]} >= {today}
    assert all(len(week) == 7 for week in cal["weeks"])
