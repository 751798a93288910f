"""``quanzi ledger check`` exits 0 on a clean ledger and names each violation otherwise."""

import pytest
from django.db import transaction

from quanzi.cli import main
from quanzi.ledger.models import Account, JournalEntry, Posting
from quanzi.ledger.services import Leg, Unbalanced, entry_post


def test_green_after_a_real_flow(customer, sku, buy, capsys):
    buy(customer, sku, qty=2)
    assert main(["ledger", "check"]) == 0
    assert capsys.readouterr().out.startswith("ledger ok:")


def test_unbalanced_entries_are_refused_before_they_are_written(db):
    with pytest.raises(Unbalanced), transaction.atomic():
        entry_post(key="x", kind="test", legs=[Leg("a", 100), Leg("b", -99)])
    with pytest.raises(Unbalanced), transaction.atomic():
        entry_post(key="y", kind="test", legs=[Leg("a", 1.5), Leg("b", -1.5)])
    assert not JournalEntry.objects.exists()


def test_same_key_posts_once(db):
    with transaction.atomic():
        first = entry_post(key="k1", kind="test", legs=[Leg("a", 100), Leg("b", -100)])
        second = entry_post(key="k1", kind="test", legs=[Leg("a", 100), Leg("b", -100)])
    assert first.pk == second.pk and Posting.objects.count() == 2


def test_entries_outside_a_transaction_are_refused(transactional_db):
    with pytest.raises(RuntimeError):
        entry_post(key="k2", kind="test", legs=[Leg("a", 1), Leg("b", -1)])


@pytest.mark.ledger_dirty
def test_violations_are_reported_with_a_nonzero_exit(customer, sku, buy, capsys):
    buy(customer, sku)
    posting = Posting.objects.filter(account__code="customer_funds").first()
    Posting.objects.filter(pk=posting.pk).update(amount=posting.amount + 1)  # tamper
    user_account = Account.objects.create(code="user:999:test", cached=True, balance=5)
    assert main(["ledger", "check"]) == 1
    out = capsys.readouterr().out
    assert "does not balance" in out or "sums to" in out
    assert f"{user_account.code} caches 5" in out


def test_no_overdraw_accounts_refuse_to_go_below_zero(customer):
    from quanzi.ledger.services import Overdrawn

    wallet = Leg(f"user:{customer.pk}:wallet", -500, user_id=customer.pk, no_overdraw=True)
    with transaction.atomic():
        entry_post(key="fund", kind="test", legs=[Leg("platform_revenue", 500), wallet])
    with pytest.raises(Overdrawn), transaction.atomic():
        entry_post(
            key="spend",
            kind="test",
            legs=[
                Leg(f"user:{customer.pk}:wallet", 600, user_id=customer.pk, no_overdraw=True),
                Leg("platform_revenue", -600),
            ],
        )
    assert Account.objects.get(code=f"user:{customer.pk}:wallet").balance == -500
