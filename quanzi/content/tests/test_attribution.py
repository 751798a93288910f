"""Creator attribution (CPS): window, last touch, who earns, settlement and claw-back,
and never a third level."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quanzi.content import services
from quanzi.content.models import CreatorCommission, NoteTouch
from quanzi.distribution.models import Commission
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import refund, settle
from quanzi.distribution.withdrawals import withdrawal_request
from quanzi.ledger.checks import run_checks
from quanzi.ledger.models import JournalEntry, Posting
from quanzi.orders.models import Order, OrderLine
from quanzi.social.services import share_create, share_open


@pytest.fixture
def make_creator(make_user, operator):
    def make(nickname="达人"):
        user = make_user(nickname=nickname)
        services.creator_apply(user=user, intro="美妆博主")
        services.creator_decide(user_id=user.pk, operator=operator, approve=True)
        return user

    return make


@pytest.fixture
def goods(make_product):
    return make_product(price=10_000, supply_price=4_000, title="面霜")


def _open(user, note):
    assert user.api.get(f"/notes/{note['id']}").status_code == 200


def _commission(order):
    return CreatorCommission.objects.filter(order=order).first()


def test_opening_a_note_then_buying_credits_the_creator_at_settlement(
    make_creator, people, pay, post_note, goods
):
    creator = make_creator()
    (buyer,) = people(1)
    note = post_note(creator, products=[goods])
    _open(buyer, note)

    order = pay(buyer, [(goods.skus.get(), 2)])

    commission = _commission(order)
    assert (commission.creator_id, commission.note_id, commission.amount) == (
        creator.pk,
        note["id"],
        1_000,
    )
    assert earnings_of(user=creator)["available"] == 0  # frozen until settlement
    settle(order)
    assert earnings_of(user=creator)["available"] == 1_000
    legs = dict(
        Posting.objects.filter(entry__key=f"settle:{order.pk}").values_list(
            "account__code", "amount"
        )
    )
    assert legs[f"user:{creator.pk}:commission_available"] == -1_000
    assert run_checks()[0] == []  # quanzi ledger check is green


def test_the_window_is_inclusive_at_seven_days_and_closed_after(
    make_creator, people, pay, post_note, goods
):
    creator = make_creator()
    inside, outside = people(2)
    note = post_note(creator, products=[goods])
    for buyer in (inside, outside):
        _open(buyer, note)
    # Touches moved back in time: exactly the window, and one second more.
    from django.utils import timezone

    now = timezone.now()
    NoteTouch.objects.filter(user=inside).update(at=now - timedelta(days=7) + timedelta(seconds=5))
    NoteTouch.objects.filter(user=outside).update(at=now - timedelta(days=7) - timedelta(seconds=5))
    kept = pay(inside, [(goods.skus.get(), 1)])
    lost = pay(outside, [(goods.skus.get(), 1)])

    assert _commission(kept) is not None
    assert _commission(lost) is None


def test_the_last_touch_wins(make_creator, people, pay, post_note, goods):
    first, last = make_creator("先"), make_creator("后")
    (buyer,) = people(1)
    note_a = post_note(first, products=[goods])
    note_b = post_note(last, products=[goods])
    _open(buyer, note_a)
    _open(buyer, note_b)

    order = pay(buyer, [(goods.skus.get(), 1)])

    assert _commission(order).creator_id == last.pk
    # Opening the first note again makes it the last touch.
    _open(buyer, note_a)
    assert _commission(pay(buyer, [(goods.skus.get(), 1)])).creator_id == first.pk


def test_who_never_earns(make_user, make_creator, people, pay, post_note, goods, make_product):
    creator = make_creator()
    plain = make_user(nickname="普通用户")  # posts, but is no approved creator
    (buyer,) = people(1)
    other_goods = make_product(title="别的东西")
    _open(buyer, post_note(plain, products=[goods]))
    assert _commission(pay(buyer, [(goods.skus.get(), 1)])) is None

    note = post_note(creator, products=[goods])
    _open(buyer, note)
    assert _commission(pay(buyer, [(other_goods.skus.get(), 1)])) is None  # not tagged
    assert _commission(pay(creator, [(goods.skus.get(), 1)])) is None  # own purchase


def test_a_share_link_of_the_note_counts_as_a_touch(make_creator, people, pay, post_note, goods):
    creator = make_creator()
    (friend,) = people(1)
    note = post_note(creator, products=[goods])
    link = share_create(sharer=creator, target="note", target_id=note["id"])
    share_open(token=link.token, visitor=friend)

    order = pay(friend, [(goods.skus.get(), 1)])

    # The friend is now bound to the creator, who earns level 1 (10 %) as a distributor,
    # which is more than the creator rate: the sale is the note's, with nothing on top.
    commission = _commission(order)
    assert commission.note_id == note["id"] and commission.amount == 0
    assert Commission.objects.get(order=order, level=1).beneficiary_id == creator.pk


def test_a_refund_after_settlement_claws_the_commission_back(
    make_creator, people, pay, post_note, goods, operator
):
    creator = make_creator()
    (buyer,) = people(1)
    _open(buyer, post_note(creator, products=[goods]))
    order = settle(pay(buyer, [(goods.skus.get(), 2)]))
    assert earnings_of(user=creator)["available"] == 1_000
    line = OrderLine.objects.get(order=order)

    first = refund(order, operator, [(line.pk, 1)])

    assert earnings_of(user=creator)["available"] == 500
    entry = JournalEntry.objects.get(key=f"creator_clawback:{first.pk}")
    assert entry.kind == "creator_commission_clawback"
    refund(order, operator)
    assert earnings_of(user=creator)["available"] == 0
    assert _commission(order).reversed_amount == 1_000
    assert run_checks()[0] == []


def test_a_refund_before_settlement_leaves_nothing_to_pay(
    make_creator, people, pay, post_note, goods, operator
):
    creator = make_creator()
    (buyer,) = people(1)
    _open(buyer, post_note(creator, products=[goods]))
    order = pay(buyer, [(goods.skus.get(), 1)])

    refund(order, operator)

    assert _commission(order).net == 0
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert earnings_of(user=creator)["available"] == 0


def test_creator_commission_is_withdrawn_like_any_commission(
    make_creator, people, pay, post_note, goods, dist_settings
):
    dist_settings(withdraw_min=100, withdraw_audit_above=10_000_000)
    creator = make_creator()
    (buyer,) = people(1)
    _open(buyer, post_note(creator, products=[goods]))
    settle(pay(buyer, [(goods.skus.get(), 2)]))

    withdrawal = withdrawal_request(user=creator, amount=1_000)

    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert earnings_of(user=creator)["available"] == 0
    assert run_checks()[0] == []


def test_never_a_third_level_and_never_above_the_cap(
    make_creator, people, pay, post_note, goods, dist_settings
):
    dist_settings(max_commission_share_bp=2_000)  # levels take 10 % + 5 %
    creator = make_creator()
    (creators_upline,) = people(1)
    from django.db import transaction

    from quanzi.accounts.services import referrer_bind

    with transaction.atomic():
        referrer_bind(user=creator, referrer=creators_upline, source="test")
    top, mid, buyer = people(3, chain=True)
    _open(buyer, post_note(creator, products=[goods]))

    order = settle(pay(buyer, [(goods.skus.get(), 1)]))

    levels = sorted(Commission.objects.filter(order=order).values_list("level", "beneficiary_id"))
    assert levels == [(1, mid.pk), (2, top.pk)]
    # The creator gets what the cap leaves (20 % − 15 % = 5 %); its own upline nothing.
    assert _commission(order).amount == 500
    assert earnings_of(user=creators_upline)["available"] == 0
    paid = sum(
        -a
        for a in Posting.objects.filter(
            entry__key=f"settle:{order.pk}", account__code__endswith=":commission_available"
        ).values_list("amount", flat=True)
    )
    assert paid == 2_000  # never above the cap of the line

    dist_settings(max_commission_share_bp=1_600)
    _open(buyer, post_note(creator, products=[goods]))
    capped = pay(buyer, [(goods.skus.get(), 1)])
    assert _commission(capped).amount == 100 and _commission(capped).capped
