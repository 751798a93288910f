"""Where payout money comes from: the operator's payout balance at the paying gateway
(``payout_funding:<gw>``), never the takings of customers' payments (``gateway:<gw>``),
which stay whole for refunds along the original path."""

from __future__ import annotations

import importlib

from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from quanzi.distribution import books
from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import refund, settle
from quanzi.distribution.withdrawals import _allocate
from quanzi.ledger.checks import run_checks
from quanzi.ledger.services import Leg, balance, entry_post
from quanzi.payments.gateways.sandbox import SandboxGateway
from quanzi.payments.models import Payout


def _earner(people, pay, make_product, dist_settings, **rules):
    """A distributor with 3000 fen available (10 % of a 30000 sale paid with the sandbox)."""
    dist_settings(withdraw_min=100, withdraw_fee_bp=100, withdraw_audit_above=100_000, **rules)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=30_000, supply_price=10_000).skus.get()
    settle(pay(buyer, [(sku, 1)]))
    assert earnings_of(user=mid)["available"] == 3000
    return mid


def test_paid_in_by_sandbox_paid_out_by_wechat_keeps_the_books_right(
    wechat, people, pay, make_product, dist_settings
):
    mid = _earner(people, pay, make_product, dist_settings, payout_gateway="wechatpay")
    account = mid.api.put("/me/distributor/payout-account", {"wechat_openid": "o-mid-0001"})
    assert account.status_code == 200

    response = mid.api.post("/me/withdrawals", {"amount": 2000})

    assert response.status_code == 201
    assert Withdrawal.objects.get(pk=response.json()["id"]).status == "paid"
    problems, _ = run_checks()
    assert problems == []
    # The customer's 30000 are still where they were paid; WeChat Pay took nothing in.
    assert balance("gateway:sandbox") == 30_000
    assert balance("gateway:wechatpay") == 0
    # The 1980 that left came from the operator's own money put in for payouts.
    assert balance("payout_funding:wechatpay") == 0
    assert balance("payout_deposits") == -1980


def test_same_gateway_payout_leaves_the_takings_for_refunds(
    people, pay, make_product, dist_settings
):
    mid = _earner(people, pay, make_product, dist_settings)

    assert mid.api.post("/me/withdrawals", {"amount": 1000}).status_code == 201

    assert balance("gateway:sandbox") == 30_000
    assert balance("payout_funding:sandbox") == 0
    assert balance("payout_deposits") == -990
    assert run_checks()[0] == []


def test_refund_after_a_payout_through_the_same_gateway_keeps_the_books_right(
    people, pay, make_product, dist_settings, operator
):
    # The payout and the customer's refund both go through the sandbox: the refund must
    # find the customer's whole payment there, the payout having come from elsewhere.
    dist_settings(withdraw_min=100, withdraw_fee_bp=100, withdraw_audit_above=100_000)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=30_000, supply_price=10_000).skus.get()
    order = settle(pay(buyer, [(sku, 1)]))
    assert mid.api.post("/me/withdrawals", {"amount": 3000}).status_code == 201

    refund(order, operator)

    assert balance("gateway:sandbox") == 0
    assert balance("payout_funding:sandbox") == 0
    assert balance("payout_deposits") == -2970
    assert earnings_of(user=mid)["available"] == -3000  # the clawback is a debt
    assert run_checks()[0] == []


def test_deposits_recorded_ahead_fund_payouts_first(
    people, pay, make_product, dist_settings, operator
):
    mid = _earner(people, pay, make_product, dist_settings)
    response = operator.api.post(
        "/admin/payout-funding", {"gateway": "sandbox", "amount": 1500, "reference": "BK-0001"}
    )
    assert response.status_code == 201
    assert response.json() == {
        "gateway": "sandbox",
        "balance": 1500,
        "deposited": 1500,
        "paid_out": 0,
    }

    assert mid.api.post("/me/withdrawals", {"amount": 1000}).status_code == 201  # 990 out
    assert balance("payout_funding:sandbox") == 510
    assert mid.api.post("/me/withdrawals", {"amount": 1000}).status_code == 201  # 990 more

    # 510 were left; the other 480 are booked as put in when the payout went out.
    listed = operator.api.get("/admin/payout-funding").json()["items"]
    assert listed == [{"gateway": "sandbox", "balance": 0, "deposited": 1980, "paid_out": 1980}]
    assert run_checks()[0] == []


def test_a_deposit_is_recorded_once_per_reference(operator, make_user, db):
    body = {"gateway": "wechatpay", "amount": 50_000, "reference": "BK-0002"}
    assert operator.api.post("/admin/payout-funding", body).status_code == 201
    again = operator.api.post("/admin/payout-funding", body)
    assert again.status_code == 201 and again.json()["deposited"] == 50_000
    other = operator.api.post("/admin/payout-funding", {**body, "amount": 60_000})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert balance("payout_funding:wechatpay") == 50_000

    bad = [
        ({**body, "gateway": "paypal"}, "unknown_gateway"),
        ({**body, "amount": 0}, "validation_error"),
        ({**body, "reference": "no spaces"}, "invalid_reference"),
    ]
    for payload, code in bad:
        answer = operator.api.post("/admin/payout-funding", payload)
        assert answer.status_code == 422 and answer.json()["code"] == code, answer.content
    customer = make_user()
    assert customer.api.post("/admin/payout-funding", body).status_code == 403


def _book_paid_as_before(withdrawal: Withdrawal) -> None:
    """What a paid withdrawal was booked as before payout funding: out of customers'
    payments at the paying gateway."""
    net = withdrawal.amount - withdrawal.fee
    with transaction.atomic():
        entry_post(
            key=f"withdrawal:{withdrawal.pk}:paid",
            kind="withdrawal_paid",
            legs=[
                Leg(books.PENDING, withdrawal.amount),
                Leg(f"gateway:{withdrawal.gateway}", -net),
                Leg("platform_revenue", -withdrawal.fee),
            ],
        )
        Payout.objects.filter(pk=withdrawal.payout_id).update(status="succeeded")
        Withdrawal.objects.filter(pk=withdrawal.pk).update(status="paid", paid_at=timezone.now())
        _allocate(user_id=withdrawal.user_id, amount=withdrawal.amount)


def test_payouts_booked_before_funding_existed_are_rebooked(
    people, pay, make_product, dist_settings, monkeypatch
):
    mid = _earner(people, pay, make_product, dist_settings)
    monkeypatch.setattr(SandboxGateway, "fail_payouts", True)
    created = mid.api.post("/me/withdrawals", {"amount": 2000}).json()
    _book_paid_as_before(Withdrawal.objects.get(pk=created["id"]))
    problems = run_checks()[0]
    assert any("out of gateway:sandbox" in p for p in problems), problems

    migration = importlib.import_module("quanzi.distribution.migrations.0002_payout_funding")
    migration.rebook_payouts(django_apps, None)
    migration.rebook_payouts(django_apps, None)  # a second run books nothing more

    assert run_checks()[0] == []
    assert balance("gateway:sandbox") == 30_000
    assert balance("payout_funding:sandbox") == 0
    assert balance("payout_deposits") == -1980
