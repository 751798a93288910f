"""The sign-in calendar (签到日历): which days of a month were signed, the current
streak (连续签到) and what the coming days will earn.

A streak is the run of consecutive days ending today (or yesterday, when today is not
signed yet: it is still alive until midnight). Each day of a streak earns
``points.sign_in_points``; the last day of every ``sign_in_streak_days`` days in a row
earns ``sign_in_streak_bonus`` more, so a 7-day cycle pays its bonus on days 7, 14, 21…
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from quanzi.core.platform_settings import get_settings
from quanzi.marketing.models import SignIn

# Days read per query while walking a streak back (a streak of years costs a few reads).
_CHUNK = 62


def sign_in_points_for(streak_day: int, points_settings=None) -> int:
    """What the ``streak_day``-th day in a row earns (1 = the first day)."""
    s = points_settings or get_settings().points
    bonus = s.sign_in_streak_bonus if s.sign_in_streak_days and streak_day > 0 else 0
    if bonus and streak_day % s.sign_in_streak_days == 0:
        return s.sign_in_points + bonus
    return s.sign_in_points


def sign_in_streak(*, user_id: int, ending: date) -> int:
    """Days in a row signed, ending on ``ending`` (0 if ``ending`` is not signed)."""
    streak, expected = 0, ending
    while True:
        days = list(
            SignIn.objects.filter(user_id=user_id, day__lte=expected)
            .order_by("-day")
            .values_list("day", flat=True)[:_CHUNK]
        )
        for day in days:
            if day != expected:
                return streak
            streak += 1
            expected -= timedelta(days=1)
        if len(days) < _CHUNK:
            return streak


def sign_in_calendar(*, user_id: int, year: int | None = None, month: int | None = None):
    """The month as the 签到 page shows it, with the streak and the coming rewards."""
    today = timezone.localdate()
    year, month = year or today.year, month or today.month
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    signed = set(
        SignIn.objects.filter(user_id=user_id, day__gte=first, day__lte=last).values_list(
            "day", flat=True
        )
    )
    signed_today = today in signed or (
        not (first <= today <= last) and SignIn.objects.filter(user_id=user_id, day=today).exists()
    )
    alive_until = today if signed_today else today - timedelta(days=1)
    streak = sign_in_streak(user_id=user_id, ending=alive_until)
    settings = get_settings().points
    # The next seven days to sign (today first when it is not signed yet).
    start = 1 if signed_today else 0
    upcoming = []
    for offset in range(start, start + 7):
        day_n = streak + (offset if signed_today else offset + 1)
        upcoming.append(
            {
                "day": today + timedelta(days=offset),
                "streak_day": day_n,
                "points": sign_in_points_for(day_n, settings),
                "bonus": sign_in_points_for(day_n, settings) > settings.sign_in_points,
            }
        )
    weeks: list[list[dict[str, Any] | None]] = []
    week: list[dict[str, Any] | None] = [None] * first.weekday()  # Monday first
    for n in range(1, last.day + 1):
        day = date(year, month, n)
        week.append({"day": day, "signed": day in signed, "today": day == today})
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    return {
        "year": year,
        "month": month,
        "weeks": weeks,
        "signed_days": sorted(signed),
        "signed_count": len(signed),
        "signed_today": signed_today,
        "streak": streak,
        "upcoming": upcoming,
        "streak_days": settings.sign_in_streak_days,
        "streak_bonus": settings.sign_in_streak_bonus,
    }
