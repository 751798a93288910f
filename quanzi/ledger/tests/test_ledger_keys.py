"""A ledger key names one movement: replaying it is a no-op, reusing it for another is an error."""

import pytest
from django.db import transaction

from quanzi.ledger.models import JournalEntry, Posting
from quanzi.ledger.services import Entry, KeyReused, Leg, entries_post, entry_post


def test_same_key_with_the_same_legs_is_a_no_op(db):
    with transaction.atomic():
        first = entry_post(key="k", kind="test", legs=[Leg("a", 100), Leg("b", -100)])
        # the same movement, legs in another order: still the same movement
        again = entry_post(key="k", kind="test", legs=[Leg("b", -100), Leg("a", 100)])
    assert again.pk == first.pk and Posting.objects.count() == 2


def test_same_key_with_other_legs_is_refused_and_nothing_is_written(db):
    with transaction.atomic():
        entry_post(key="k", kind="test", legs=[Leg("a", 100), Leg("b", -100)])
    with pytest.raises(KeyReused) as caught, transaction.atomic():
        entry_post(key="k", kind="test", legs=[Leg("a", 90), Leg("b", -90)])
    assert caught.value.code == "ledger_key_reused" and caught.value.detail == {"key": "k"}
    with pytest.raises(KeyReused), transaction.atomic():
        entry_post(key="k", kind="test", legs=[Leg("a", 100), Leg("c", -100)])
    assert JournalEntry.objects.count() == 1
    assert sorted(Posting.objects.values_list("amount", flat=True)) == [-100, 100]


def test_a_batch_reusing_a_key_is_refused_whole(db):
    with transaction.atomic():
        entry_post(key="old", kind="test", legs=[Leg("a", 5), Leg("b", -5)])
    batch = [
        Entry("new", "test", [Leg("a", 1), Leg("b", -1)]),
        Entry("old", "test", [Leg("a", 6), Leg("b", -6)]),
    ]
    with pytest.raises(KeyReused), transaction.atomic():
        entries_post(batch)
    assert not JournalEntry.objects.filter(key="new").exists()
    twice = [
        Entry("twice", "test", [Leg("a", 1), Leg("b", -1)]),
        Entry("twice", "test", [Leg("a", 2), Leg("b", -2)]),
    ]
    with pytest.raises(KeyReused), transaction.atomic():
        entries_post(twice)
    assert not JournalEntry.objects.filter(key="twice").exists()
