"""The statements of a group join, pinned: every join of a crowded group pays them.

A join reads the group and its holders once for the fast refusal and the risk ask
(which reads the accounts it looks at once, whatever the group's size), takes its place
in a short transaction, then places the order, whose per-person limit is one upsert.
The budget holds for a person's first join of a deal (no limit row yet) and a later one.
In tests every transaction is a savepoint inside the test's own.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Api

pytestmark = pytest.mark.django_db

# With every installed app observing the order; PostgreSQL has one more: the place's
# short transaction lets its commit skip the wait for the disk (SET LOCAL). An upper
# bound: on PostgreSQL the same join was counted 35 or 36, depending on what earlier
# tests in the process had left in its caches.
JOIN = {"sqlite": 34, "postgresql": 35}


def _join(person, group_id, sku, flow, key, *, status=201):
    address = flow.address(person)
    client = Api(person.api.token)
    client.get("/me")  # signed in: the token is known
    with CaptureQueriesContext(connection) as ctx:
        answer = client.post(
            f"/groups/{group_id}/join",
            {"sku_id": sku.pk, "qty": 1, "address_id": address},
            headers={"Idempotency-Key": key},
        )
    assert answer.status_code == status, answer.json()
    return len(ctx.captured_queries)


def test_a_join_costs_its_budget_first_time_and_again(make_user, make_campaign, peach_sku, flow):
    campaign = make_campaign(group_size=5, per_user_limit=3)
    first = flow.open(make_user(), campaign, peach_sku)
    person = make_user()
    assert _join(person, first["group_id"], peach_sku, flow, "first") <= JOIN[connection.vendor]
    second = flow.open(make_user(), campaign, peach_sku)
    flow.join(make_user(), second["group_id"], peach_sku)
    flow.join(make_user(), second["group_id"], peach_sku)
    assert _join(person, second["group_id"], peach_sku, flow, "again") <= JOIN[connection.vendor]


def test_a_refused_join_reads_the_group_once_and_records_the_key(
    settings, make_user, make_campaign, peach_sku, flow
):
    """A full group's refusal, asked by every late buyer of a rush: the group with its
    holders in one statement, then the refusal's record under the key (savepoint,
    INSERT, release in a test; BEGIN, INSERT, COMMIT in production). The token comes
    from the token cache, as in production."""
    settings.AUTH_TOKEN_CACHE_SECONDS = 30
    campaign = make_campaign(group_size=2)
    group = flow.open(make_user(), campaign, peach_sku)
    flow.join(make_user(), group["group_id"], peach_sku, pay=False)
    late = make_user()
    assert _join(late, group["group_id"], peach_sku, flow, "late", status=409) == 4
