"""The migration that closes reward campaigns paying for sign-ups alone."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from quanzi.rewards.models import RewardCampaign

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("rewards", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_sign_up_campaigns_are_closed_and_cannot_be_reopened():
    executor = _migrate(BEFORE)
    try:
        Campaign = executor.loader.project_state(BEFORE).apps.get_model("rewards", "RewardCampaign")
        now = timezone.now()
        signup = Campaign.objects.create(
            kind="invite", trigger="register", reward_points=30, starts_at=now
        )
        order = Campaign.objects.create(
            kind="share", trigger="first_order", reward_points=30, starts_at=now
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert RewardCampaign.objects.get(pk=signup.pk).is_active is False
    assert RewardCampaign.objects.get(pk=order.pk).is_active is True
    with pytest.raises(IntegrityError), transaction.atomic():
        RewardCampaign.objects.filter(pk=signup.pk).update(is_active=True)
