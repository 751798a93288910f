"""WeChat Pay v3 against a local stand-in: pay, notify (twice, tampered), query, refund,
payout. Keys and the platform certificate are generated here; nothing leaves 127.0.0.1."""

import json
import socket
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conftest import Api
from quanzi.core.testing import race
from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways import get_gateway, reset_gateways
from quanzi.payments.gateways.wechatpay import BEIJING
from quanzi.payments.models import Payment
from quanzi.payments.services import payments_reconcile, refund_execute, refunds_retry
from quanzi.payments.tests.standin import (
    WechatPayStandIn,
    cert_pem,
    certificate,
    generated_key,
    local_network_only,
    private_pem,
    public_pem,
    rsa_verify,
    write,
)

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
APIV3_KEY = "Qz0123456789abcdefghijklmnopqrs9"  # 32 bytes
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"


@pytest.fixture
def no_internet(monkeypatch):
    with local_network_only(monkeypatch) as refused:
        yield refused
    assert not refused, f"tried to reach {refused}"


def _configure(settings, tmp_path, stand_in, *, certs_dir):
    settings.QUANZI_WECHATPAY_MCHID = MCHID
    settings.QUANZI_WECHATPAY_APPID = APPID
    settings.QUANZI_WECHATPAY_APIV3_KEY = APIV3_KEY
    settings.QUANZI_WECHATPAY_CERT_SERIAL_NO = SERIAL
    settings.QUANZI_WECHATPAY_PRIVATE_KEY = write(
        tmp_path / "apiclient_key.pem", private_pem(generated_key("wechat-merchant"))
    )
    settings.QUANZI_WECHATPAY_PLATFORM_CERTS_DIR = str(certs_dir)
    settings.QUANZI_WECHATPAY_NOTIFY_URL = (
        "https://shop.example.com/api/v1/payments/notify/wechatpay"
    )
    settings.QUANZI_WECHATPAY_GATEWAY_URL = stand_in.url
    reset_gateways()


def _stand_in():
    platform_key = generated_key("wechat-platform")
    return WechatPayStandIn(
        mchid=MCHID,
        appid=APPID,
        apiv3_key=APIV3_KEY,
        merchant_key=generated_key("wechat-merchant"),
        merchant_serial=SERIAL,
        platform_key=platform_key,
        platform_cert=certificate(platform_key, "WeChat Pay platform (test)"),
    )


@pytest.fixture
def wechat(settings, tmp_path, no_internet):
    """The stand-in, running, with the wechatpay gateway configured to use it."""
    stand_in = _stand_in()
    certs = tmp_path / "platform-certs"
    certs.mkdir()
    write(certs / f"{stand_in.platform_serial}.pem", cert_pem(stand_in.platform_cert))
    with stand_in.running():
        _configure(settings, tmp_path, stand_in, certs_dir=certs)
        yield stand_in
    reset_gateways()


def _order(user, sku, make_address, qty=1):
    address = make_address(user)
    response = user.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": qty}], "address_id": address.pk}
    )
    assert response.status_code == 201, response.content
    return response.json()


def _pay(user, order):
    response = user.api.post(f"/orders/{order['id']}/pay", {"gateway": "wechatpay"})
    assert response.status_code == 200, response.content
    payment = response.json()
    return payment, Payment.objects.get(pk=payment["payment_id"])


def _deliver(anon, note):
    return anon.client.post(
        "/api/v1/payments/notify/wechatpay",
        data=note["body"],
        content_type="application/json",
        headers=note["headers"],
    )


def _paid_order(customer, anon, sku, make_address, wechat, qty=1):
    order = _order(customer, sku, make_address, qty)
    _, payment = _pay(customer, order)
    assert _deliver(anon, wechat.notification(payment.out_trade_no)).status_code == 200
    return order, payment


def test_the_sdk_talks_only_to_the_local_stand_in(wechat, no_internet):
    gateway = get_gateway("wechatpay")
    assert wechat.url.startswith("http://127.0.0.1:")
    assert gateway.client()._core._gate_way == wechat.url
    # The guard these tests run under stops any lookup of a real host.
    with pytest.raises(OSError):
        socket.getaddrinfo("api.mch.weixin.qq.com", 443)
    assert no_internet == ["api.mch.weixin.qq.com"]
    no_internet.clear()


def test_native_payment_notified_twice_is_captured_once(customer, anon, sku, make_address, wechat):
    order = _order(customer, sku, make_address, qty=2)
    answer, payment = _pay(customer, order)
    # The customer gets the QR code URL WeChat Pay issued for this trade and amount.
    trade = wechat.trades[payment.out_trade_no]
    assert answer["params"] == {"trade_type": "NATIVE", "code_url": trade["code_url"]}
    assert trade["amount"] == order["payable"] == answer["amount"]
    assert trade["notify_url"] == "https://shop.example.com/api/v1/payments/notify/wechatpay"
    assert get_gateway("wechatpay").query(out_trade_no=payment.out_trade_no).paid is False

    note = wechat.notification(payment.out_trade_no)
    first = _deliver(anon, note)
    assert first.status_code == 200 and first.json()["code"] == "SUCCESS"
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert _deliver(anon, note).status_code == 200  # WeChat Pay retries: still one capture
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.gateway_txn_id == trade["transaction_id"]
    assert JournalEntry.objects.filter(kind="payment", order_id=order["id"]).count() == 1
    assert balance("gateway:wechatpay") == order["payable"]
    queried = get_gateway("wechatpay").query(out_trade_no=payment.out_trade_no)
    assert (queried.paid, queried.txn_id, queried.amount) == (
        True,
        trade["transaction_id"],
        order["payable"],
    )


def test_a_lost_notification_is_made_good_by_querying_wechatpay(
    customer, sku, make_address, wechat
):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order)
    wechat.notification(payment.out_trade_no)  # the customer paid; the notification is lost
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=2)) == 1
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    payment.refresh_from_db()
    assert payment.gateway_txn_id == wechat.trades[payment.out_trade_no]["transaction_id"]
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=3)) == 0


def test_jsapi_payment_for_a_known_openid_returns_signed_client_params(wechat, db):
    gateway = get_gateway("wechatpay")
    params = gateway.create(
        out_trade_no="QZJSAPI0001",
        amount=1990,
        description="圈子订单",
        user_ref="openid:o-buyer-1",
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    trade = wechat.trades["QZJSAPI0001"]
    assert trade["trade_type"] == "JSAPI" and trade["openid"] == "o-buyer-1"
    assert params["package"] == f"prepay_id={trade['prepay_id']}" and params["appId"] == APPID
    message = f"{APPID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    merchant = generated_key("wechat-merchant").public_key()
    assert rsa_verify(merchant, message, params["paySign"])  # wx.requestPayment will accept it


def test_forged_or_tampered_notifications_are_refused(customer, anon, sku, make_address, wechat):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order)
    number = payment.out_trade_no
    changed = wechat.notification(number)
    body = json.loads(changed["body"])
    body["event_type"] = "TRANSACTION.SUCCESS "  # any change breaks the signature
    changed["body"] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    forgeries = {
        "body changed after signing": changed,
        "signed by someone else": wechat.notification(
            number, signing_key=generated_key("intruder")
        ),
        "encrypted with another APIv3 key": wechat.notification(number, apiv3_key="X" * 32),
        "for another merchant": wechat.notification(number, mchid="1900000999"),
        "unsigned": {"headers": {}, "body": wechat.notification(number)["body"]},
        "wrong amount": wechat.notification(number, amount=1),
        "not JSON": {"headers": wechat.signed_headers("nonsense"), "body": "nonsense"},
    }
    for forgery, note in forgeries.items():
        response = _deliver(anon, note)
        assert response.status_code == 400, forgery
        assert response.json()["code"] == "invalid_notification", forgery
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert Payment.objects.get(pk=payment.pk).status == "created"
    assert not JournalEntry.objects.exists()
    assert _deliver(anon, wechat.notification(number)).status_code == 200  # the real one still pays
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_a_notification_that_is_not_a_success_pays_nothing(
    customer, anon, sku, make_address, wechat
):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order)
    response = _deliver(anon, wechat.notification(payment.out_trade_no, trade_state="PAYERROR"))
    assert response.status_code == 200  # acknowledged, so WeChat Pay stops sending it
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert not JournalEntry.objects.exists()


def test_refund_goes_back_through_wechatpay_once_even_if_executed_twice(
    customer, operator, anon, sku, make_address, wechat, monkeypatch
):
    order, payment = _paid_order(customer, anon, sku, make_address, wechat, qty=3)
    line = order["lines"][0]
    refund = customer.api.post(
        f"/orders/{order['id']}/refunds",
        {"lines": [{"line_id": line["id"], "qty": 1}], "reason": "坏了一个"},
    ).json()
    import quanzi.payments.services as payment_services

    def crash(**kwargs):
        raise RuntimeError("worker died")

    # The gateway refunds, then the worker dies before booking it: the booking is lost.
    with monkeypatch.context() as patched:
        patched.setattr(payment_services, "refund_book_success", crash)
        operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Refund.objects.get(pk=refund["id"]).status == "processing"
    refund_execute(refund_id=refund["id"])  # executed again: the gateway finds it, booked once
    row = Refund.objects.get(pk=refund["id"])
    sent = wechat.refunds[row.refund_no]
    assert sent["amount"]["refund"] == refund["amount"] == sku.price
    assert (
        sent["amount"]["total"] == payment.amount and sent["out_trade_no"] == payment.out_trade_no
    )
    assert row.gateway_refund_id == sent["refund_id"]
    # WeChat Pay then posts REFUND.SUCCESS to the same notify URL: acknowledged, no change.
    notified = _deliver(anon, wechat.refund_notification(row.refund_no))
    assert notified.status_code == 200 and notified.json()["code"] == "SUCCESS"

    result = get_gateway("wechatpay").refund(
        out_trade_no=payment.out_trade_no,
        refund_no=row.refund_no,
        amount=row.amount,
        total=payment.amount,
        reason="x",
    )
    assert result.succeeded
    assert len(wechat.refunds) == 1
    assert len(wechat.calls("POST", "/v3/refund/domestic/refunds")) == 1
    assert Refund.objects.get(pk=row.pk).status == "succeeded"
    assert JournalEntry.objects.filter(order_id=order["id"], kind__startswith="refund").count() == 1
    assert balance("gateway:wechatpay") == payment.amount - row.amount


def test_a_refund_still_processing_is_completed_by_the_retry_sweep(
    customer, operator, anon, sku, make_address, wechat
):
    order, payment = _paid_order(customer, anon, sku, make_address, wechat)
    wechat.refund_status = "PROCESSING"
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    row = Refund.objects.get(pk=refund["id"])
    assert row.status == "processing" and row.last_error == "processing"
    assert Order.objects.get(pk=order["id"]).status == "refunding"
    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 0  # WeChat Pay still busy
    wechat.complete_refunds()
    assert refunds_retry(now=timezone.now() + timedelta(hours=2)) == 1
    assert Refund.objects.get(pk=row.pk).status == "succeeded"
    assert Order.objects.get(pk=order["id"]).status == "refunded"
    assert len(wechat.calls("POST", "/v3/refund/domestic/refunds")) == 1
    assert balance("gateway:wechatpay") == 0


def test_a_refund_whose_answer_was_lost_is_found_by_the_sweep_not_sent_twice(
    customer, operator, anon, sku, make_address, wechat
):
    order, payment = _paid_order(customer, anon, sku, make_address, wechat)
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    wechat.lose_next_answer = True
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Refund.objects.get(pk=refund["id"]).status == "processing"
    assert len(wechat.refunds) == 1  # WeChat Pay did refund
    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 1
    assert Refund.objects.get(pk=refund["id"]).status == "succeeded"
    assert len(wechat.calls("POST", "/v3/refund/domestic/refunds")) == 1
    assert balance("gateway:wechatpay") == 0


def test_payout_by_merchant_transfer_is_idempotent_on_its_number(wechat, db):
    gateway = get_gateway("wechatpay")
    first = gateway.payout(
        payout_no="PO20250101A1", user_ref="openid:o-leader-7", amount=5000, description="佣金提现"
    )
    assert first.succeeded and first.gateway_ref
    again = gateway.payout(
        payout_no="PO20250101A1", user_ref="openid:o-leader-7", amount=5000, description="佣金提现"
    )
    assert again.succeeded and again.gateway_ref == first.gateway_ref
    assert len(wechat.batches) == 1 and len(wechat.calls("POST", "/v3/transfer/batches")) == 1
    detail = wechat.batches["PO20250101A1"]["details"]["PO20250101A1"]
    assert detail["transfer_amount"] == 5000 and detail["openid"] == "o-leader-7"

    wechat.transfer_status = "PROCESSING"
    pending = gateway.payout(
        payout_no="PO20250101B2", user_ref="openid:o-leader-7", amount=300, description="提现"
    )
    assert not pending.succeeded and pending.pending
    wechat.batches["PO20250101B2"]["details"]["PO20250101B2"]["detail_status"] = "SUCCESS"
    done = gateway.payout(
        payout_no="PO20250101B2", user_ref="openid:o-leader-7", amount=300, description="提现"
    )
    assert done.succeeded and len(wechat.calls("POST", "/v3/transfer/batches")) == 2

    wechat.transfer_status = "SUCCESS"
    wechat.lose_next_answer = True  # the transfer is made but its answer is lost
    lost = gateway.payout(
        payout_no="PO20250101D4", user_ref="openid:o-leader-7", amount=700, description="提现"
    )
    assert not lost.succeeded and lost.pending  # unknown: not a failure to pay again
    found = gateway.payout(
        payout_no="PO20250101D4", user_ref="openid:o-leader-7", amount=700, description="提现"
    )
    assert found.succeeded and len(wechat.calls("POST", "/v3/transfer/batches")) == 3

    unknown_payee = gateway.payout(
        payout_no="PO20250101C3", user_ref="42", amount=300, description="提现"
    )
    assert not unknown_payee.succeeded and not unknown_payee.pending
    assert "PO20250101C3" not in wechat.batches


def test_payout_of_2000_yuan_sends_the_real_name_encrypted(wechat, db):
    gateway = get_gateway("wechatpay")
    nameless = gateway.payout(
        payout_no="PO20250102A1", user_ref="openid:o-leader-7", amount=200_000, description="提现"
    )
    assert not nameless.succeeded and not nameless.pending  # refused here, nothing sent
    assert not wechat.calls("POST", "/v3/transfer/batches")

    named = gateway.payout(
        payout_no="PO20250102A1",
        user_ref="openid:o-leader-7",
        amount=200_000,
        description="提现",
        payee_name="王小明",
    )

    assert named.succeeded
    (call,) = wechat.calls("POST", "/v3/transfer/batches")
    assert call["body"]["transfer_detail_list"][0]["user_name"] != "王小明"
    detail = wechat.batches["PO20250102A1"]["details"]["PO20250102A1"]
    assert detail["received_user_name"] == "王小明"
    tiny = gateway.payout(
        payout_no="PO20250102B2",
        user_ref="openid:o-leader-7",
        amount=29,
        description="提现",
        payee_name="王小明",
    )
    assert tiny.succeeded  # below 0.30 yuan WeChat Pay takes no name: none is sent
    assert (
        "user_name"
        not in wechat.calls("POST", "/v3/transfer/batches")[1]["body"]["transfer_detail_list"][0]
    )


def test_a_merchant_key_wechatpay_does_not_know_gets_no_order(
    settings, tmp_path, customer, sku, make_address, wechat
):
    settings.QUANZI_WECHATPAY_PRIVATE_KEY = write(
        tmp_path / "other_key.pem", private_pem(generated_key("intruder"))
    )
    reset_gateways()
    order = _order(customer, sku, make_address)
    response = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "wechatpay"})
    assert response.status_code == 502 and response.json()["code"] == "gateway_error"
    assert "SIGN_ERROR" in response.json()["message"]
    assert len(wechat.requests) == 1 and not wechat.trades
    # The record is kept (a trade whose creation had an unknown outcome must stay
    # traceable), with nothing a client could pay with.
    assert [p.params for p in Payment.objects.all()] == [{}]


def test_wechatpay_public_key_mode_verifies_without_platform_certificates(
    settings, tmp_path, customer, anon, sku, make_address, no_internet
):
    stand_in = _stand_in()
    stand_in.platform_serial = "PUB_KEY_ID_0119000001202506180012345678901234"
    with stand_in.running():
        _configure(settings, tmp_path, stand_in, certs_dir="")
        settings.QUANZI_WECHATPAY_PUBLIC_KEY = write(
            tmp_path / "pub_key.pem", public_pem(generated_key("wechat-platform"))
        )
        settings.QUANZI_WECHATPAY_PUBLIC_KEY_ID = stand_in.platform_serial
        reset_gateways()
        order, _ = _paid_order(customer, anon, sku, make_address, stand_in)
        forged = stand_in.notification(
            stand_in.trades[next(iter(stand_in.trades))]["out_trade_no"],
            signing_key=generated_key("intruder"),
        )
        assert _deliver(anon, forged).status_code == 400
    assert not stand_in.calls("GET", "/v3/certificates")
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_platform_certificates_are_fetched_from_the_configured_gateway(
    settings, tmp_path, customer, anon, sku, make_address, no_internet
):
    stand_in = _stand_in()
    certs = tmp_path / "empty-certs"
    with stand_in.running():
        _configure(settings, tmp_path, stand_in, certs_dir=certs)
        order, _ = _paid_order(customer, anon, sku, make_address, stand_in)
    assert len(stand_in.calls("GET", "/v3/certificates")) == 1
    assert (certs / f"{stand_in.platform_serial}.pem").read_text() == cert_pem(
        stand_in.platform_cert
    )
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_unconfigured_or_unreachable_wechatpay_is_a_clear_error(
    settings, tmp_path, customer, sku, make_address, no_internet
):
    order = _order(customer, sku, make_address)
    refused = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "wechatpay"})
    assert refused.status_code == 422 and refused.json()["code"] == "gateway_not_configured"

    stand_in = _stand_in()
    certs = tmp_path / "certs"
    certs.mkdir()
    write(certs / f"{stand_in.platform_serial}.pem", cert_pem(stand_in.platform_cert))
    with stand_in.running():
        _configure(settings, tmp_path, stand_in, certs_dir=certs)
    # The stand-in is gone now: WeChat Pay is down.
    down = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "wechatpay"})
    assert down.status_code == 502 and down.json()["code"] == "gateway_error"
    assert [p.params for p in Payment.objects.all()] == [{}]
    settings.QUANZI_WECHATPAY_APIV3_KEY = "too-short"
    reset_gateways()
    assert (
        customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "wechatpay"}).status_code == 422
    )


def test_checkout_cannot_start_a_wechatpay_payment_in_the_same_request(
    customer, sku, make_address, wechat
):
    """WeChat Pay answers a prepay over the network: never while the SKU rows are held."""
    address = make_address(customer)
    body = {
        "items": [{"sku_id": sku.pk, "qty": 1}],
        "address_id": address.pk,
        "pay": {"gateway": "wechatpay"},
    }
    refused = customer.api.post("/orders", body)
    assert refused.status_code == 422 and refused.json()["code"] == "pay_separately"
    assert not Order.objects.exists() and not wechat.requests  # WeChat was never asked


def test_the_prepay_carries_the_orders_deadline_and_cancelling_closes_it(
    customer, sku, make_address, wechat
):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order)
    deadline = Order.objects.get(pk=order["id"]).expires_at
    trade = wechat.trades[payment.out_trade_no]
    assert trade["time_expire"] == deadline.astimezone(BEIJING).isoformat(timespec="seconds")
    assert trade["time_expire"].endswith("+08:00")

    assert customer.api.post(f"/orders/{order['id']}/cancel").status_code == 200

    assert trade["trade_state"] == "CLOSED"
    assert (
        len(wechat.calls("POST", f"/v3/pay/transactions/out-trade-no/{payment.out_trade_no}/close"))
        == 1
    )
    assert Payment.objects.get(pk=payment.pk).status == "closed"


def test_a_paid_trade_that_cannot_be_closed_is_captured_and_refunded(
    customer, sku, make_address, wechat
):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order)
    wechat.notification(payment.out_trade_no)  # paid; the notification is lost
    Order.objects.filter(pk=order["id"]).update(expires_at=timezone.now())

    assert customer.api.post(f"/orders/{order['id']}/cancel").status_code == 200

    refund = Refund.objects.get(payment=payment)
    assert refund.kind == "unapplied" and refund.status == "succeeded"
    assert Order.objects.get(pk=order["id"]).status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_the_prepay_call_runs_with_no_transaction_and_no_row_locked(
    monkeypatch, customer, sku, make_address, wechat
):
    gateway = get_gateway("wechatpay")
    original, seen = gateway.create, []

    def watched(**kwargs):
        seen.append(connection.in_atomic_block)
        return original(**kwargs)

    monkeypatch.setattr(gateway, "create", watched)
    order = _order(customer, sku, make_address)

    answer, payment = _pay(customer, order)
    keyed = _order(customer, sku, make_address)
    path, body, key = (
        f"/orders/{keyed['id']}/pay",
        {"gateway": "wechatpay"},
        {"Idempotency-Key": "k1"},
    )
    first = customer.api.post(path, body, headers=key)
    again = customer.api.post(path, body, headers=key)

    assert seen == [False, False]  # the 25-second call never holds the order row
    assert answer["params"]["code_url"] == wechat.trades[payment.out_trade_no]["code_url"]
    assert payment.params == answer["params"]
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["params"]["code_url"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_pay_requests_racing_share_one_payment_and_one_trade(
    customer, sku, make_address, wechat
):
    if connection.vendor != "postgresql":
        pytest.skip("real parallel clients need PostgreSQL")
    order = _order(customer, sku, make_address)

    def pay():
        response = Api(customer.api.token).post(
            f"/orders/{order['id']}/pay", {"gateway": "wechatpay"}
        )
        return response.status_code, response.json().get("payment_id")

    outcomes = race([pay, pay, pay])

    assert {status for status, _ in outcomes} == {200}
    assert len({payment_id for _, payment_id in outcomes}) == 1
    assert Payment.objects.count() == 1 and len(wechat.trades) == 1
