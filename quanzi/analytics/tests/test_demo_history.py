"""``quanzi demo`` opens on days of history: facts for each day, holds in the risk queue."""

from __future__ import annotations


def test_the_demo_step_lives_days_in_the_shop_and_builds_the_facts(db, monkeypatch):
    from quanzi.analytics.demo import demo_step
    from quanzi.analytics.models import DailyFact
    from quanzi.risk.models import RiskEvent

    monkeypatch.setenv("QUANZI_DEMO_DAYS", "2")
    monkeypatch.setenv("QUANZI_DEMO_USERS", "10")
    demo_step({})
    days = set(DailyFact.objects.filter(gmv__gt=0).values_list("day", flat=True))
    assert len(days) >= 2
    assert RiskEvent.objects.filter(review="open").exists()
