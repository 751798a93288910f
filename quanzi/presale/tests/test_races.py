"""Votes under 32 real parallel clients on PostgreSQL (each thread its own connection)."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.core.testing import race
from quanzi.presale.models import Proposal, Vote
from quanzi.presale.services import proposals

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 32


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL (SQLite runs one writer at a time)")


def test_32_clients_voting_count_exactly(make_user):
    author = make_user(nickname="提议人")
    idea = proposals.proposal_create(user=author, kind="product", title="出一款无糖酸梅汤")
    voters = [make_user(nickname=f"v{i}") for i in range(CLIENTS // 2)]
    # Each voter votes twice at once: 32 clients, 16 distinct voters.
    calls = [
        (lambda v=v: proposals.vote_cast(user=v, proposal_id=idea.pk))
        for v in voters
        for _ in (0, 1)
    ]
    results = race(calls)
    assert all(isinstance(r, int) for r in results), results
    distinct = Vote.objects.filter(proposal=idea).values("user").distinct().count()
    assert distinct == len(voters)
    assert Proposal.objects.get(pk=idea.pk).votes == distinct


def test_votes_and_withdrawals_racing_stay_exact(make_user):
    author = make_user(nickname="提议人")
    idea = proposals.proposal_create(user=author, kind="product", title="出一款桂花味")
    stayers = [make_user(nickname=f"s{i}") for i in range(CLIENTS // 2)]
    leavers = [make_user(nickname=f"l{i}") for i in range(CLIENTS // 2)]
    for leaver in leavers:
        proposals.vote_cast(user=leaver, proposal_id=idea.pk)
    calls = [(lambda v=v: proposals.vote_cast(user=v, proposal_id=idea.pk)) for v in stayers]
    calls += [(lambda v=v: proposals.vote_withdraw(user=v, proposal_id=idea.pk)) for v in leavers]
    results = race(calls)
    assert all(isinstance(r, int) for r in results), results
    distinct = Vote.objects.filter(proposal=idea).values("user").distinct().count()
    assert distinct == len(stayers)
    assert Proposal.objects.get(pk=idea.pk).votes == distinct
