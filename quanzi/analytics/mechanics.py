"""Group-buy and bargain outcomes per day (``MechanicFact``), built beside the daily facts.

A group counts from the day it was opened, once its leader paid (pending and cancelled
groups never started); it succeeds when it forms (time to fill = formed − opened) and
fails when its time runs out. A bargain counts from the day it was started; it succeeds
when bought or at its floor, fails when it expires; its helpers are summed. Outcomes come
after the day, so ``facts_refresh`` rebuilds the mechanics of the last ``REOPEN_DAYS``.
"""

from __future__ import annotations

from datetime import date, timedelta

from quanzi.analytics.models import MechanicFact

REOPEN_DAYS = 7


def mechanics_build_day(*, day: date) -> None:
    from quanzi.analytics.facts import day_start
    from quanzi.bargain.models import Bargain, BargainStatus
    from quanzi.groupbuy.models import Group, GroupStatus

    start, end = day_start(day), day_start(day + timedelta(days=1))
    group = MechanicFact(day=day, mechanic="group")
    for status, created, formed in Group.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).values_list("status", "created_at", "formed_at"):
        if status in (GroupStatus.PENDING, GroupStatus.CANCELLED):
            continue
        group.started += 1
        if status == GroupStatus.SUCCEEDED:
            group.succeeded += 1
            if formed is not None:
                group.fill_seconds += int((formed - created).total_seconds())
        elif status == GroupStatus.FAILED:
            group.failed += 1
    bargain = MechanicFact(day=day, mechanic="bargain")
    for status, helpers in Bargain.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).values_list("status", "helpers_count"):
        bargain.started += 1
        bargain.helpers += helpers
        if status in (BargainStatus.BOUGHT, BargainStatus.FLOOR_REACHED, BargainStatus.ORDERED):
            bargain.succeeded += 1
        elif status == BargainStatus.EXPIRED:
            bargain.failed += 1
    MechanicFact.objects.filter(day=day).delete()
    MechanicFact.objects.bulk_create([f for f in (group, bargain) if f.started])
