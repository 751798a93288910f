"""``quanzi demo`` has three circles with members, posts, a circle deal and weeks of
history, so the health pages show real curves."""

from __future__ import annotations


def test_the_demo_circles_are_alive(db, anon, settings, tmp_path):
    from quanzi.circles.models import Circle, Cohort, Deal, HealthDay, Post
    from quanzi.core.demo import demo_load

    settings.MEDIA_ROOT = tmp_path / "media"
    assert demo_load() is True
    circles = anon.get("/circles").json()["items"]
    assert len(circles) == 3
    for circle in Circle.objects.all():
        assert circle.member_count > 10
        assert Deal.objects.filter(circle=circle).exists()
        assert Post.objects.filter(circle=circle).exists()
        days = HealthDay.objects.filter(circle=circle).order_by("day")
        assert days.count() >= 30
        assert max(d.members for d in days) > days.first().members  # members over time
        cohorts = list(Cohort.objects.filter(circle=circle))
        assert len(cohorts) >= 4  # five weeks of joins
        assert any(c.members[0] < c.joined for c in cohorts)  # people left: a real curve
