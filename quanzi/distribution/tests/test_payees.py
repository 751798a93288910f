"""Who a withdrawal pays: the payout gateway and its payee come with the request, are
checked with clear codes, kept on the withdrawal and used by the gateway's transfer
(WeChat Pay with the real name encrypted from 2,000 yuan, Alipay with payee_info)."""

from __future__ import annotations

import json
import logging

import pytest

from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import settle
from quanzi.ledger.checks import run_checks
from quanzi.ledger.services import balance


@pytest.fixture
def earner(people, pay, make_product, dist_settings):
    """A distributor with 250000 fen available (10 % of a 2500000 sale paid with the
    sandbox); no fee, no audit, so a request is paid at once."""
    dist_settings(withdraw_min=100, withdraw_fee_bp=0, withdraw_audit_above=10**9)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=2_500_000, supply_price=1_000_000).skus.get()
    settle(pay(buyer, [(sku, 1)]))
    assert earnings_of(user=mid)["available"] == 250_000
    return mid


def _refused(response, code):
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code, response.json()


def test_alipay_withdrawal_pays_the_account_and_name_given(alipay, earner, dist_settings):
    dist_settings(payout_gateway="alipay")

    response = earner.api.post(
        "/me/withdrawals", {"amount": 5000, "payee_account": "13800138000", "payee_name": "张三"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gateway"] == "alipay" and body["status"] == "paid"
    assert body["payee_name"] == "*三" and body["payee_account"] == "138****8000"
    withdrawal = Withdrawal.objects.get(pk=body["id"])
    transfer = alipay.transfers[withdrawal.payout_no]
    assert transfer["amount"] == "50.00"
    assert transfer["payee"] == {
        "identity": "13800138000",
        "identity_type": "ALIPAY_LOGON_ID",
        "name": "张三",
    }
    # Paid in through the sandbox, out through Alipay: the books still hold.
    assert balance("gateway:alipay") == 0 and balance("gateway:sandbox") == 2_500_000
    assert run_checks()[0] == []


def test_alipay_user_id_is_paid_as_such(alipay, earner):
    response = earner.api.post(
        "/me/withdrawals",
        {
            "amount": 800,
            "gateway": "alipay",  # the person chooses it; the operator's default is sandbox
            "payee_account": "2088102177846880",
            "payee_name": "Alice Wang",
        },
    )

    assert response.status_code == 201, response.content
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.gateway == "alipay" and withdrawal.status == "paid"
    assert alipay.transfers[withdrawal.payout_no]["payee"]["identity_type"] == "ALIPAY_USER_ID"


def test_alipay_withdrawal_without_a_payee_is_refused_and_keeps_the_money(alipay, earner):
    ask = {"amount": 5000, "gateway": "alipay"}
    _refused(earner.api.post("/me/withdrawals", ask), "payee_required")
    _refused(
        earner.api.post("/me/withdrawals", {**ask, "payee_account": "13800138000"}),
        "payee_name_required",
    )
    _refused(
        earner.api.post(
            "/me/withdrawals", {**ask, "payee_account": "not an account", "payee_name": "张三"}
        ),
        "invalid_payee_account",
    )
    _refused(
        earner.api.post(
            "/me/withdrawals", {**ask, "payee_account": "13800138000", "payee_name": "张3"}
        ),
        "invalid_payee_name",
    )
    assert earnings_of(user=earner)["available"] == 250_000
    assert not Withdrawal.objects.exists() and not alipay.transfers


def test_wechat_transfer_of_2000_yuan_carries_the_encrypted_real_name(
    wechat, earner, dist_settings
):
    dist_settings(payout_gateway="wechatpay")
    ask = {"amount": 200_000, "payee_account": "o-mid-0001"}  # no saved openid needed
    _refused(earner.api.post("/me/withdrawals", ask), "payee_name_required")

    response = earner.api.post("/me/withdrawals", {**ask, "payee_name": "李四"})

    assert response.status_code == 201, response.content
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.status == "paid" and withdrawal.payee_ref == "openid:o-mid-0001"
    detail = wechat.batches[withdrawal.payout_no]["details"][withdrawal.payout_no]
    assert detail["transfer_amount"] == 200_000 and detail["received_user_name"] == "李四"
    sent = wechat.calls("POST", "/v3/transfer/batches")[0]["body"]["transfer_detail_list"][0]
    assert sent["user_name"] != "李四"  # only the platform key can read it
    assert earnings_of(user=earner)["withdrawn"] == 200_000


def test_wechat_transfer_below_2000_yuan_needs_no_name(wechat, earner, dist_settings):
    dist_settings(payout_gateway="wechatpay")

    response = earner.api.post("/me/withdrawals", {"amount": 199_999, "payee_account": "o-mid-1"})

    assert response.status_code == 201, response.content
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.status == "paid"
    sent = wechat.calls("POST", "/v3/transfer/batches")[0]["body"]["transfer_detail_list"][0]
    assert "user_name" not in sent


def test_unknown_or_unset_gateways_are_refused(earner):
    _refused(
        earner.api.post("/me/withdrawals", {"amount": 500, "gateway": "paypal"}), "unknown_gateway"
    )
    # WeChat Pay is not set up in this test.
    _refused(
        earner.api.post(
            "/me/withdrawals",
            {"amount": 500, "gateway": "wechatpay", "payee_account": "o-mid-0001"},
        ),
        "gateway_not_configured",
    )
    too_long = earner.api.post("/me/withdrawals", {"amount": 500, "payee_name": "名" * 41})
    _refused(too_long, "validation_error")
    assert earnings_of(user=earner)["available"] == 250_000


def test_the_real_name_is_never_logged(alipay, earner, caplog):
    caplog.set_level(logging.DEBUG)

    response = earner.api.post(
        "/me/withdrawals",
        {
            "amount": 700,
            "gateway": "alipay",
            "payee_account": "a@example.com",
            "payee_name": "王小明",
        },
    )

    assert response.status_code == 201, response.content
    assert Withdrawal.objects.get(pk=response.json()["id"]).status == "paid"
    assert caplog.records
    for record in caplog.records:
        assert "王小明" not in json.dumps(record.__dict__, default=str, ensure_ascii=False)
