"""The migrations that make stored distribution data lawful: head-count rank thresholds
dropped (and ranks reached by head count alone taken back), a purchase-based
qualification and the any/all rank rule removed from the stored settings."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from quanzi.core.platform_settings import get_settings, settings_cache_clear
from quanzi.distribution.models import DistributorProfile, DistributorRank

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("distribution", "0003_withdrawal_payee")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_stored_ranks_and_settings_become_lawful(make_user):
    seller, recruiter, both = make_user(), make_user(), make_user()
    executor = _migrate(BEFORE)
    try:
        old = executor.loader.project_state([*BEFORE, ("core", "0001_initial")]).apps
        Rank = old.get_model("distribution", "DistributorRank")
        Profile = old.get_model("distribution", "DistributorProfile")
        Settings = old.get_model("core", "PlatformSettings")
        mixed = Rank.objects.create(name="店主", level=1, min_sales=5_000, min_team=3)
        head_only = Rank.objects.create(name="团长", level=2, min_team=10, multiplier_bp=50_000)
        Profile.objects.create(user_id=seller.pk, rank=mixed, sales=6_000)
        Profile.objects.create(user_id=recruiter.pk, rank=mixed, sales=0)
        Profile.objects.create(user_id=both.pk, rank=head_only, sales=9_000)
        Settings.objects.update_or_create(
            id=1,
            defaults={
                "data": {
                    "distribution": {
                        "qualification": "first_purchase",
                        "rank_upgrade": "any",
                        "level1_rate_bp": 1200,
                    }
                }
            },
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert list(DistributorRank.objects.values_list("name", "min_sales")) == [("店主", 5_000)]
    ranks = dict(DistributorProfile.objects.values_list("user_id", "rank__name"))
    assert ranks == {seller.pk: "店主", recruiter.pk: None, both.pk: None}
    settings_cache_clear()
    distribution = get_settings().distribution
    assert distribution.qualification == "everyone"
    assert distribution.level1_rate_bp == 1200  # the rest is kept
