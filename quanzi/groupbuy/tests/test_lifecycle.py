"""A group's life: open, join, pay, succeed or fail, refunds, stock and notifications."""

from __future__ import annotations

from django.conf import settings

from quanzi.catalog.models import SKU
from quanzi.groupbuy.channel import places_taken
from quanzi.groupbuy.models import Group, GroupCampaign, GroupMember, UserQuota
from quanzi.groupbuy.services import groups_expire_due
from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.notifications.models import Notification
from quanzi.orders.models import Order, Refund
from quanzi.orders.services import orders_expire_unpaid
from quanzi.payments.gateways import get_gateway
from quanzi.payments.models import Payment, SandboxRecord


def kinds(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True)
    )


def ship(operator, order_id):
    return operator.api.post(
        f"/admin/orders/{order_id}/ship", {"carrier": "顺丰", "tracking_no": "SF1001"}
    )


def test_group_fills_up_and_every_order_ships(
    make_user, operator, anon, make_campaign, peach, peach_sku, flow
):
    leader, bea, cai = make_user(nickname="阿丽"), make_user(nickname="小贝"), make_user()
    campaign = make_campaign()

    # Opening: the leader's order is priced at the leader price; the group waits for payment.
    placed = flow.open(leader, campaign, peach_sku, pay=False)
    group_id = placed["group_id"]
    assert placed["payable"] == 3590
    assert placed["share_url"] == f"{settings.PUBLIC_URL}/g/{group_id}"
    assert Group.objects.get(pk=group_id).status == "pending"
    assert anon.get(f"/groups/{group_id}").status_code == 404  # invisible until paid
    assert flow.join(bea, group_id, peach_sku, expect=409)["code"] == "group_not_open"
    assert leader.api.get(f"/groups/{group_id}").json()["status"] == "pending"

    flow.pay(leader, placed["order_id"])
    group = anon.get(f"/groups/{group_id}").json()
    assert group["status"] == "forming" and group["paid_members"] == 1 and group["missing"] == 2
    assert group["expires_at"] and group["seconds_left"] > 86_000
    assert group["leader"]["nickname"] == "阿丽"
    assert group["members"] == [
        {"user_id": leader.pk, "nickname": "阿丽", "avatar": "", "is_leader": True, "paid": True}
    ]
    assert flow.order(leader, placed["order_id"])["status"] == "grouping"

    joined = flow.join(bea, group_id, peach_sku)
    assert joined["payable"] == 3990 and joined["group_id"] == group_id
    assert flow.order(bea, joined["order_id"])["status"] == "grouping"
    # Not shippable before the group succeeds.
    response = ship(operator, joined["order_id"])
    assert response.status_code == 409

    last = flow.join(cai, group_id, peach_sku)
    group = anon.get(f"/groups/{group_id}").json()
    assert group["status"] == "succeeded" and group["paid_members"] == 3 and group["missing"] == 0
    order_ids = [placed["order_id"], joined["order_id"], last["order_id"]]
    assert set(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True)) == {
        "to_ship"
    }
    # Each order's move to shipping is in its history once: the last payer's in its
    # capture, the others' together right after (``group_ship``), which a second run
    # leaves as they are.
    from quanzi.groupbuy.services import group_ship
    from quanzi.orders.models import OrderEvent

    def shipped_events():
        moves = OrderEvent.objects.filter(order_id__in=order_ids, to_status="to_ship")
        return sorted(moves.values_list("order_id", "from_status"))

    assert shipped_events() == sorted(
        [
            (placed["order_id"], "grouping"),
            (joined["order_id"], "grouping"),
            (last["order_id"], "paid"),
        ]
    )
    assert group_ship(group_id=group_id) == 0
    assert len(shipped_events()) == 3
    for order_id in order_ids:
        assert ship(operator, order_id).status_code == 200
    assert SKU.objects.get(pk=peach_sku.pk).stock == 97
    assert GroupCampaign.objects.get(pk=campaign["id"]).stock == 47
    # Group orders earn no commission unless the campaign says so.
    assert not Order.objects.filter(pk__in=order_ids, commission_enabled=True).exists()

    assert kinds(leader) == ["group_opened", "group_member_joined", "group_succeeded"]
    assert kinds(bea) == ["group_joined", "group_succeeded"]
    assert kinds(cai) == ["group_succeeded"]
    inbox = bea.api.get("/me/notifications").json()
    assert inbox["unread"] == 2 and inbox["items"][0]["data"]["group_id"] == group_id


def test_group_that_runs_out_of_time_fails_and_refunds_everyone(
    make_user, anon, make_campaign, peach_sku, flow, later
):
    leader, bea, cai = make_user(), make_user(), make_user()
    campaign = make_campaign()
    placed = flow.open(leader, campaign, peach_sku, qty=2)
    group_id = placed["group_id"]
    joined = flow.join(bea, group_id, peach_sku)
    unpaid = flow.join(cai, group_id, peach_sku, pay=False)
    assert SKU.objects.get(pk=peach_sku.pk).stock == 96

    assert groups_expire_due(now=later()) == 1
    # The unpaid reservation's payment window ended with the group: the orders sweep
    # cancels it.
    assert orders_expire_unpaid(now=later()) == 1

    group = Group.objects.get(pk=group_id)
    assert group.status == "failed"
    for user, order_id, paid in (
        (leader, placed["order_id"], 2 * 3590),
        (bea, joined["order_id"], 3990),
    ):
        order = flow.order(user, order_id)
        assert order["status"] == "refunded" and order["refunded_amount"] == paid
        refund = Refund.objects.get(order_id=order_id)
        assert refund.status == "succeeded" and refund.kind == "auto" and refund.amount == paid
        assert SandboxRecord.objects.filter(kind="refund", number=refund.refund_no).exists()
    assert flow.order(cai, unpaid["order_id"])["status"] == "cancelled"
    # Stock, the campaign's allotment and everyone's limit come back.
    assert SKU.objects.get(pk=peach_sku.pk).stock == 100
    assert GroupCampaign.objects.get(pk=campaign["id"]).stock == 50
    assert set(UserQuota.objects.values_list("units", flat=True)) == {0}
    assert kinds(leader) == [
        "group_opened",
        "group_member_joined",
        "group_failed",
        "group_refunded",
    ]
    assert kinds(bea)[-2:] == ["group_failed", "group_refunded"]
    assert kinds(cai) == ["group_failed"]
    assert anon.get(f"/groups/{group_id}").json()["status"] == "failed"
    # The gateway got exactly what it took, back.
    assert balance("gateway:sandbox") == 0


def test_refunds_of_a_failed_group_survive_a_gateway_outage(
    make_user, make_campaign, peach_sku, flow, later
):
    from quanzi.payments.gateways import get_gateway
    from quanzi.payments.services import refunds_retry

    leader, bea = make_user(), make_user()
    campaign = make_campaign()
    placed = flow.open(leader, campaign, peach_sku)
    joined = flow.join(bea, placed["group_id"], peach_sku)
    gateway = get_gateway("sandbox")
    gateway.fail_refunds = True
    try:
        groups_expire_due(now=later())
    finally:
        gateway.fail_refunds = False
    # Marked failed, refunds recorded and owed, money not sent yet.
    assert Group.objects.get(pk=placed["group_id"]).status == "failed"
    assert set(Order.objects.values_list("status", flat=True)) == {"refunding"}
    assert set(Refund.objects.values_list("status", flat=True)) == {"processing"}
    assert not SandboxRecord.objects.filter(kind="refund").exists()
    # Running the sweep again changes nothing and creates no second refund.
    assert groups_expire_due(now=later()) == 0
    assert Refund.objects.count() == 2

    assert refunds_retry(now=later()) == 2
    assert {
        flow.order(leader, placed["order_id"])["status"],
        flow.order(bea, joined["order_id"])["status"],
    } == {"refunded"}
    assert SandboxRecord.objects.filter(kind="refund").count() == 2
    assert SKU.objects.get(pk=peach_sku.pk).stock == 100


def test_simulated_fill_completes_a_group_missing_few_and_books_the_subsidy(
    make_user, operator, make_campaign, peach, peach_sku, flow, later
):
    leader, bea = make_user(), make_user()
    campaign = make_campaign(simulated_fill_max_missing=1)
    placed = flow.open(leader, campaign, peach_sku)
    joined = flow.join(bea, placed["group_id"], peach_sku)

    assert groups_expire_due(now=later()) == 1
    group = Group.objects.get(pk=placed["group_id"])
    assert group.status == "succeeded" and group.simulated and group.simulated_members == 1
    assert group.subsidy == peach_sku.supply_price
    entry = JournalEntry.objects.get(key=f"groupfill:{group.pk}")
    assert entry.kind == "group_fill"
    assert balance("marketing_subsidy") == peach_sku.supply_price
    assert balance("supplier_payable:0") == -peach_sku.supply_price
    for order_id in (placed["order_id"], joined["order_id"]):
        assert Order.objects.get(pk=order_id).status == "to_ship"
        assert ship(operator, order_id).status_code == 200
    # Idempotent: a second run books nothing more.
    assert groups_expire_due(now=later()) == 0
    assert JournalEntry.objects.filter(kind="group_fill").count() == 1
    assert kinds(bea)[-1] == "group_succeeded"


def test_simulated_fill_does_not_rescue_a_group_missing_more_than_k(
    make_user, make_campaign, peach_sku, flow, later
):
    campaign = make_campaign(group_size=4, simulated_fill_max_missing=1)
    placed = flow.open(make_user(), campaign, peach_sku)
    flow.join(make_user(), placed["group_id"], peach_sku)
    groups_expire_due(now=later())
    group = Group.objects.get(pk=placed["group_id"])
    assert group.status == "failed" and not group.simulated
    assert not JournalEntry.objects.filter(kind="group_fill").exists()
    assert set(Order.objects.values_list("status", flat=True)) == {"refunded"}


def test_an_expired_reservation_frees_its_slot(make_user, make_campaign, peach_sku, flow, later):

    campaign = make_campaign(group_size=2)
    placed = flow.open(make_user(), campaign, peach_sku)
    dawdler, eager = make_user(), make_user()
    held = flow.join(dawdler, placed["group_id"], peach_sku, pay=False)
    # The unpaid reservation counts toward the size.
    assert flow.join(eager, placed["group_id"], peach_sku, expect=409)["code"] == "group_full"
    # Its payment window never outlives the group.
    group = Group.objects.get(pk=placed["group_id"])
    assert Order.objects.get(pk=held["order_id"]).expires_at <= group.expires_at

    assert orders_expire_unpaid(now=later()) == 1
    assert GroupMember.objects.get(order_id=held["order_id"]).status == "released"
    flow.join(eager, placed["group_id"], peach_sku)
    assert Group.objects.get(pk=placed["group_id"]).status == "succeeded"
    assert GroupCampaign.objects.get(pk=campaign["id"]).stock == 48


def test_leader_who_never_pays_leaves_no_group(make_user, make_campaign, peach_sku, flow, later):

    leader = make_user()
    campaign = make_campaign()
    placed = flow.open(leader, campaign, peach_sku, pay=False)
    orders_expire_unpaid(now=later())
    assert Group.objects.get(pk=placed["group_id"]).status == "cancelled"
    assert GroupCampaign.objects.get(pk=campaign["id"]).stock == 50
    assert SKU.objects.get(pk=peach_sku.pk).stock == 100
    assert UserQuota.objects.get(user=leader).units == 0


def test_payment_for_a_reservation_that_expired_is_refunded(
    make_user, make_campaign, peach_sku, flow, later
):

    campaign = make_campaign(group_size=2)
    placed = flow.open(make_user(), campaign, peach_sku)
    late = make_user()
    held = flow.join(late, placed["group_id"], peach_sku, pay=False)
    payment_id = flow.start_payment(late, held["order_id"])
    # The customer pays at the gateway, but every notification is late: the sweep frees
    # the slot first, and closing the trade at the gateway finds the money.
    payment = Payment.objects.get(pk=payment_id)
    get_gateway("sandbox").record_charge(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="SBXLATE1"
    )
    orders_expire_unpaid(now=later())

    assert flow.order(late, held["order_id"])["status"] == "cancelled"
    refund = Refund.objects.get(order_id=held["order_id"])
    assert refund.kind == "unapplied" and refund.status == "succeeded" and refund.amount == 3990
    group = Group.objects.get(pk=placed["group_id"])
    assert group.status == "forming" and group.paid_count == 1 and places_taken(group) == 1
    assert balance("gateway:sandbox") == 3590  # only the leader's money stays


def test_payment_arriving_after_the_group_closed_is_refunded(
    make_user, make_campaign, peach_sku, flow, later
):
    """The group failed while a member's order was still pending (the payment-timeout
    sweep had not cancelled it yet): the payment that comes in finds no place and is
    returned in full."""
    campaign = make_campaign()
    placed = flow.open(make_user(), campaign, peach_sku)
    late = make_user()
    held = flow.join(late, placed["group_id"], peach_sku, pay=False)
    payment_id = flow.start_payment(late, held["order_id"])
    groups_expire_due(now=later())
    assert Order.objects.get(pk=held["order_id"]).status == "pending_payment"

    flow.complete(late, payment_id)
    order = flow.order(late, held["order_id"])
    assert order["status"] == "refunded" and order["refunded_amount"] == 3990
    member = GroupMember.objects.get(order_id=held["order_id"])
    assert member.status == "lost"
    assert "group_slot_lost" in kinds(late) and "group_refunded" in kinds(late)
    assert SKU.objects.get(pk=peach_sku.pk).stock == 100
    assert GroupCampaign.objects.get(pk=campaign["id"]).stock == 50
    assert balance("gateway:sandbox") == 0


def test_stragglers_sweep_refunds_what_a_failed_group_still_owes(
    make_user, make_campaign, peach_sku, flow, later, monkeypatch
):
    """A lost slot whose after-commit refund never ran is refunded by the sweep, once."""
    from quanzi.groupbuy.services import groups_refund_stragglers

    campaign = make_campaign()
    placed = flow.open(make_user(), campaign, peach_sku)
    late = make_user()
    held = flow.join(late, placed["group_id"], peach_sku, pay=False)
    payment_id = flow.start_payment(late, held["order_id"])
    groups_expire_due(now=later())
    with monkeypatch.context() as patch:
        patch.setattr("quanzi.groupbuy.channel.enqueue", lambda *a, **kw: None)  # crash
        flow.complete(late, payment_id)
    assert Order.objects.get(pk=held["order_id"]).status == "paid"

    assert groups_refund_stragglers() == 1
    assert groups_refund_stragglers() == 0
    assert Order.objects.get(pk=held["order_id"]).status == "refunded"
    assert Refund.objects.filter(order_id=held["order_id"]).count() == 1


def test_sweep_run_twice_changes_nothing_the_second_time(
    make_user, make_campaign, peach_sku, flow, later
):
    campaign = make_campaign()
    for _ in range(3):
        placed = flow.open(make_user(), campaign, peach_sku)
        flow.join(make_user(), placed["group_id"], peach_sku)
    assert groups_expire_due(now=later()) == 3
    snapshot = (
        list(Order.objects.order_by("id").values_list("status", "refunded_amount")),
        Refund.objects.count(),
        JournalEntry.objects.count(),
        Notification.objects.count(),
    )
    assert groups_expire_due(now=later()) == 0
    assert (
        list(Order.objects.order_by("id").values_list("status", "refunded_amount")),
        Refund.objects.count(),
        JournalEntry.objects.count(),
        Notification.objects.count(),
    ) == snapshot
    assert snapshot[1] == 6


class Killed(BaseException):
    """Stands for the process dying: nothing catches it."""


def test_sweep_killed_halfway_then_rerun_leaves_the_same_result(
    make_user, make_campaign, peach_sku, flow, later, monkeypatch
):
    from quanzi.groupbuy import notices

    campaign = make_campaign()
    groups = []
    for _ in range(3):
        placed = flow.open(make_user(), campaign, peach_sku)
        flow.join(make_user(), placed["group_id"], peach_sku)
        groups.append(placed["group_id"])
    real_failed = notices.failed
    calls = []

    def dies_on_second(**kwargs):
        calls.append(kwargs["group"].pk)
        if len(calls) == 2:
            raise Killed
        real_failed(**kwargs)

    monkeypatch.setattr(notices, "failed", dies_on_second)
    try:
        groups_expire_due(now=later())
    except Killed:
        pass
    statuses = dict(Group.objects.values_list("id", "status"))
    assert statuses[groups[0]] == "failed"
    assert statuses[groups[1]] == "forming" and statuses[groups[2]] == "forming"  # rolled back
    monkeypatch.setattr(notices, "failed", real_failed)

    assert groups_expire_due(now=later()) == 2
    assert set(Group.objects.values_list("status", flat=True)) == {"failed"}
    assert set(Order.objects.values_list("status", flat=True)) == {"refunded"}
    for order in Order.objects.all():
        assert Refund.objects.filter(order=order).count() == 1
    assert SKU.objects.get(pk=peach_sku.pk).stock == 100
    assert balance("gateway:sandbox") == 0


def test_group_price_below_cost_is_booked_as_subsidy_at_settlement(
    make_user, operator, make_campaign, peach_sku, flow, later
):
    from quanzi.orders.services import orders_settle_due

    campaign = make_campaign(group_size=2, skus=[{"sku_id": peach_sku.pk, "group_price": 2500}])
    buyers = [make_user(), make_user()]
    placed = flow.open(buyers[0], campaign, peach_sku)
    joined = flow.join(buyers[1], placed["group_id"], peach_sku)
    for user, order_id in zip(buyers, (placed["order_id"], joined["order_id"]), strict=True):
        assert ship(operator, order_id).status_code == 200
        assert user.api.post(f"/orders/{order_id}/confirm-receipt").status_code == 200
    assert orders_settle_due(now=later()) == 2
    # Sold at 25.00 what costs 30.00: the platform's subsidy, not a hole in its revenue.
    assert balance("marketing_subsidy") == 2 * 500
    assert balance("platform_revenue") == 0
    assert balance("supplier_payable:0") == -2 * 3000


def test_share_page_reads_a_fixed_number_of_queries(
    make_user, make_campaign, peach_sku, flow, anon, django_assert_max_num_queries
):
    campaign = make_campaign(group_size=8)
    placed = flow.open(make_user(), campaign, peach_sku)
    for _ in range(6):
        flow.join(make_user(), placed["group_id"], peach_sku)
    with django_assert_max_num_queries(8):
        answer = anon.get(f"/groups/{placed['group_id']}")
    assert len(answer.json()["members"]) == 7
