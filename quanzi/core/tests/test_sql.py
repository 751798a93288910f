"""The single-statement writes of core/sql.py, on whichever database the suite runs."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from quanzi.core.sql import (
    children_of,
    insert_many,
    insert_many_once,
    models_of,
    rows_of,
    rows_update,
    run,
    take_if_enough,
)
from quanzi.ledger.models import Account, JournalEntry, Posting

# Bare journal rows with no postings: what the helpers write is checked here, not the books.
pytestmark = [pytest.mark.django_db, pytest.mark.ledger_dirty]


def _entry(key: str, **fields) -> JournalEntry:
    return JournalEntry(key=key, kind="test", **fields)


def test_insert_many_once_skips_keys_taken_before_and_within_the_batch():
    JournalEntry.objects.create(key="taken", kind="old")
    batch = [_entry("a"), _entry("taken"), _entry("b"), _entry("a", memo="second a")]
    with CaptureQueriesContext(connection) as ctx:
        inserted = insert_many_once(batch, unique="key")
    assert len(ctx.captured_queries) == 1
    assert sorted(obj.key for obj in inserted) == ["a", "b"]
    stored = dict(JournalEntry.objects.values_list("key", "pk"))
    assert {obj.key: obj.pk for obj in inserted} == {"a": stored["a"], "b": stored["b"]}
    assert JournalEntry.objects.get(key="taken").kind == "old"  # the first one stands
    assert JournalEntry.objects.get(key="a").memo == ""
    assert all(obj.created_at is not None for obj in inserted)


def test_insert_many_once_writes_more_rows_than_one_statement_holds():
    inserted = insert_many_once([_entry(f"k{i}") for i in range(1201)], unique="key")
    assert len(inserted) == JournalEntry.objects.count() == 1201
    assert len({obj.pk for obj in inserted}) == 1201


def test_rows_update_sets_and_adds_each_rows_own_values():
    accounts = [Account.objects.create(code=f"acc{i}", balance=i * 10) for i in range(3)]
    updated = rows_update(
        Account,
        fields=["balance", "no_overdraw"],
        add=["balance"],
        rows=[(accounts[0].pk, 5, True), (accounts[2].pk, -7, False)],
    )
    assert updated == 2
    got = {a.code: (a.balance, a.no_overdraw) for a in Account.objects.all()}
    assert got == {"acc0": (5, True), "acc1": (10, False), "acc2": (13, False)}


def test_rows_update_by_another_key_with_nulls_and_many_rows():
    entries = insert_many_once([_entry(f"e{i}", order_id=i) for i in range(700)], unique="key")
    rows = [(entry.key, None if i % 2 else 99, f"memo {i}") for i, entry in enumerate(entries)]
    with transaction.atomic():
        assert rows_update(JournalEntry, key="key", fields=["order_id", "memo"], rows=rows) == 700
    odd = JournalEntry.objects.filter(order_id__isnull=True)
    assert odd.count() == 350
    assert JournalEntry.objects.filter(order_id=99).count() == 350
    assert JournalEntry.objects.get(key="e5").memo == "memo 5"


def test_rows_update_of_nothing_runs_no_statement():
    with CaptureQueriesContext(connection) as ctx:
        assert rows_update(Account, fields=["balance"], rows=[]) == 0
    assert ctx.captured_queries == []


def test_insert_many_gives_back_ids_in_the_order_of_the_rows_only_when_asked():
    rows = [_entry(f"p{i}", memo=f"row {i}") for i in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        assert insert_many(rows, pks=True) == 3
    assert len(ctx.captured_queries) == 1
    stored = dict(JournalEntry.objects.values_list("memo", "pk"))
    assert [obj.pk for obj in rows] == [stored[f"row {i}"] for i in range(3)]
    assert all(not obj._state.adding and obj.created_at is not None for obj in rows)
    plain = [_entry("q1"), _entry("q2")]
    assert insert_many(plain) == 2
    assert [obj.pk for obj in plain] == [None, None]
    assert JournalEntry.objects.filter(key__in=["q1", "q2"]).count() == 2


def test_insert_many_of_a_taken_key_fails_like_an_insert():
    from django.db import IntegrityError

    JournalEntry.objects.create(key="taken", kind="old")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many([_entry("taken")])


def test_take_if_enough_takes_only_what_leaves_the_row_at_zero_or_more():
    Account.objects.create(code="stock", balance=7)
    Account.objects.create(code="other", balance=7)
    with CaptureQueriesContext(connection) as ctx:
        assert take_if_enough(Account, column="balance", qty=5, where={"code": "stock"})
    assert len(ctx.captured_queries) == 1
    assert not take_if_enough(Account, column="balance", qty=3, where={"code": "stock"})
    key = {"code": "stock", "no_overdraw": False}  # every column of the key must match
    assert take_if_enough(Account, column="balance", qty=2, where=key)
    assert not take_if_enough(Account, column="balance", qty=1, where={**key, "code": "none"})
    assert dict(Account.objects.values_list("code", "balance")) == {"stock": 0, "other": 7}


def test_run_and_rows_of_run_one_written_out_statement():
    JournalEntry.objects.create(key="r", kind="old")
    table = connection.ops.quote_name(JournalEntry._meta.db_table)
    assert run(f"UPDATE {table} SET kind = %s WHERE key = %s", ["new", "r"]) == 1
    assert rows_of(f"SELECT kind FROM {table} WHERE key = %s", ["r"]) == [("new",)]


def test_models_of_makes_the_instances_the_orm_makes(make_user):
    from quanzi.accounts.models import User

    buyer = make_user(nickname="买家", roles=("leader",))
    JournalEntry.objects.create(key="m", kind="test", order_id=7)
    users = connection.ops.quote_name(User._meta.db_table)
    entries = connection.ops.quote_name(JournalEntry._meta.db_table)

    (found,) = models_of(
        User,
        f"SELECT {{columns}}, e.order_id FROM {users} u JOIN {entries} e ON e.key = %s"
        " WHERE u.id = %s",
        ["m", buyer.pk],
        table="u",
        extra=["entry_order"],
    )
    orm = User.objects.get(pk=buyer.pk)
    for field in User._meta.concrete_fields:  # booleans and times converted as the ORM does
        assert getattr(found, field.attname) == getattr(orm, field.attname), field.name
    assert found.is_leader is True and found.is_operator is False
    assert found.entry_order == 7
    assert found == orm and found._state.adding is False and found._state.db == orm._state.db
    found.nickname = "改名"
    found.save(update_fields=["nickname"])  # an instance the ORM can save
    assert User.objects.get(pk=buyer.pk).nickname == "改名"
    assert models_of(User, f"SELECT {{columns}} FROM {users} WHERE id = %s", [0]) == []


def test_models_of_makes_watched_instances_through_init():
    from django.db.models.signals import post_init

    made = []

    def watch(sender, instance, **kwargs):
        made.append(instance.key)

    JournalEntry.objects.create(key="w", kind="test")
    entries = connection.ops.quote_name(JournalEntry._meta.db_table)
    post_init.connect(watch, sender=JournalEntry)
    try:
        (found,) = models_of(
            JournalEntry, f"SELECT {{columns}} FROM {entries} WHERE key = %s", ["w"]
        )
    finally:
        post_init.disconnect(watch, sender=JournalEntry)
    assert made == ["w"] and found.kind == "test" and found._state.adding is False


def test_children_of_reads_once_and_answers_as_a_prefetch():
    account = Account.objects.create(code="test:children")
    entry = JournalEntry.objects.create(key="c", kind="test")
    other = JournalEntry.objects.create(key="d", kind="test")
    for amount in (30, -10, -20):
        Posting.objects.create(entry=entry, account=account, amount=amount)
    Posting.objects.create(entry=other, account=account, amount=5)
    entry = JournalEntry.objects.get(pk=entry.pk)

    with CaptureQueriesContext(connection) as ctx:
        found = children_of(entry, "postings")
        again = list(entry.postings.all())
        back = [posting.entry for posting in again]
    assert len(ctx.captured_queries) == 1
    assert [p.amount for p in found] == [30, -10, -20]  # id order, only this entry's
    assert again == found and all(parent is entry for parent in back)
    # A new query built on the prefetched set still asks for this entry's rows only.
    assert sorted(entry.postings.filter(amount__lt=0).values_list("amount", flat=True)) == [
        -20,
        -10,
    ]


def test_counter_add_capped_creates_adds_and_stops_at_the_cap(make_user, sku):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.core.sql import counter_add_capped
    from quanzi.flash.models import FlashItem, FlashQuota
    from quanzi.flash.services import sale_create

    now = timezone.now()
    sale = sale_create(
        title="秒杀",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        per_user_limit=3,
        items=[{"sku_id": sku.pk, "price": 990, "allotment": 5}],
    )
    item = FlashItem.objects.get(sale=sale)
    buyer, other = make_user(), make_user()

    def add(user, qty, cap=3):
        return counter_add_capped(
            FlashQuota, keys={"item": item.pk, "user": user.pk}, field="units", amount=qty, cap=cap
        )

    def units(user):
        return FlashQuota.objects.filter(item=item, user=user).values_list("units", flat=True)

    assert add(buyer, 4) is False and list(units(buyer)) == []  # past the cap: no row made
    assert add(buyer, 2) is True and list(units(buyer)) == [2]  # first use makes the row
    assert add(buyer, 2) is False and list(units(buyer)) == [2]  # 4 > 3: left as it was
    assert add(buyer, 1) is True and list(units(buyer)) == [3]  # exactly the cap
    assert add(other, 3) is True and list(units(other)) == [3]  # another key, its own row
    assert add(buyer, 5, cap=None) is True and list(units(buyer)) == [8]  # no cap
