"""A withdrawal paid by WeChat Pay merchant transfer (商家转账), against the local
stand-in of the payments tests: nothing leaves 127.0.0.1."""

from __future__ import annotations

from django.test import Client

from quanzi.distribution.models import Withdrawal
from quanzi.distribution.selectors import earnings_of
from quanzi.distribution.tests.conftest import own_address, settle
from quanzi.ledger.services import balance
from quanzi.orders.models import Order
from quanzi.payments.models import Payment


def test_withdrawal_is_paid_to_the_distributors_wechat(wechat, people, make_product, dist_settings):
    dist_settings(payout_gateway="wechatpay", withdraw_min=100, withdraw_fee_bp=100)
    _, mid, buyer = people(3, chain=True)
    sku = make_product(price=10_000, supply_price=4_000).skus.get()
    placed = buyer.api.post(
        "/orders",
        {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": own_address(buyer).pk},
    ).json()
    paying = buyer.api.post(f"/orders/{placed['id']}/pay", {"gateway": "wechatpay"}).json()
    note = wechat.notification(Payment.objects.get(pk=paying["payment_id"]).out_trade_no)
    delivered = Client().post(
        "/api/v1/payments/notify/wechatpay",
        data=note["body"],
        content_type="application/json",
        headers=note["headers"],
    )
    assert delivered.status_code == 200
    settle(Order.objects.get(pk=placed["id"]))
    assert earnings_of(user=mid)["available"] == 1_000

    missing = mid.api.post("/me/withdrawals", {"amount": 500})
    assert missing.status_code == 422 and missing.json()["code"] == "payout_account_missing"
    account = mid.api.put("/me/distributor/payout-account", {"wechat_openid": "o-mid-0001"})
    assert account.status_code == 200 and account.json()["wechat_openid"] == "o-mid-0001"

    response = mid.api.post("/me/withdrawals", {"amount": 500})

    assert response.status_code == 201
    withdrawal = Withdrawal.objects.get(pk=response.json()["id"])
    assert withdrawal.status == "paid" and withdrawal.payee_ref == "openid:o-mid-0001"
    detail = wechat.batches[withdrawal.payout_no]["details"][withdrawal.payout_no]
    assert detail["openid"] == "o-mid-0001" and detail["transfer_amount"] == 495
    # Paid in and out through WeChat Pay: the customer's payment stays whole (for a
    # refund along the original path); the 495 came from the operator's payout balance.
    assert balance("gateway:wechatpay") == 10_000
    assert balance("payout_funding:wechatpay") == 0 and balance("payout_deposits") == -495
    assert earnings_of(user=mid)["withdrawn"] == 500
