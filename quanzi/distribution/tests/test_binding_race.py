"""Bindings made at the same moment, on PostgreSQL with real parallel clients: two
people binding to each other (or around a longer chain) never form a cycle."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from quanzi.accounts.models import User
from quanzi.accounts.services import referrer_bind
from quanzi.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 25


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


def _bind(user_id: int, referrer_id: int):
    def call() -> bool:
        with transaction.atomic():
            user = User.objects.get(pk=user_id)
            referrer = User.objects.get(pk=referrer_id)
            return referrer_bind(user=user, referrer=referrer, source="test")

    return call


def _has_cycle(user_ids: list[int]) -> bool:
    uplines = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "referrer_id"))
    for start in user_ids:
        seen, cursor = set(), uplines.get(start)
        while cursor is not None and cursor not in seen:
            if cursor == start:
                return True
            seen.add(cursor)
            cursor = uplines.get(cursor)
    return False


def test_two_people_binding_to_each_other_at_once_never_form_a_cycle(make_user):
    for round_no in range(ROUNDS):
        a, b = make_user(), make_user()

        results = race([_bind(a.pk, b.pk), _bind(b.pk, a.pk)])

        assert sorted(results) == [False, True], (round_no, results)
        assert not _has_cycle([a.pk, b.pk]), round_no


def test_closing_a_longer_loop_from_both_ends_at_once_never_forms_a_cycle(make_user):
    """b → c and d → a exist; a binds to b while c binds to d: one of them must lose."""
    for round_no in range(ROUNDS):
        a, b, c, d = (make_user() for _ in range(4))
        with transaction.atomic():
            assert referrer_bind(user=b, referrer=c, source="test")
            assert referrer_bind(user=d, referrer=a, source="test")

        results = race([_bind(a.pk, b.pk), _bind(c.pk, d.pk)])

        assert sorted(results) == [False, True], (round_no, results)
        assert not _has_cycle([a.pk, b.pk, c.pk, d.pk]), round_no
