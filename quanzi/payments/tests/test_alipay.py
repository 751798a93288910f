"""Alipay against a local stand-in: pay URL, notification (twice, tampered), query,
refund, payout, in public-key and in certificate mode. Keys are generated here."""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.x509.oid import NameOID
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from quanzi.core.money import yuan
from quanzi.ledger.models import JournalEntry
from quanzi.ledger.services import balance
from quanzi.orders.models import Order, Refund
from quanzi.payments.gateways import get_gateway, reset_gateways
from quanzi.payments.gateways.alipay import BEIJING, fen
from quanzi.payments.models import Payment
from quanzi.payments.services import payments_reconcile, refund_execute, refunds_retry
from quanzi.payments.tests.standin import (
    AlipayStandIn,
    cert_pem,
    certificate,
    generated_key,
    local_network_only,
    private_pem,
    public_pem,
    write,
)

APP_ID = "2021000000000001"


@pytest.fixture
def no_internet(monkeypatch):
    with local_network_only(monkeypatch) as refused:
        yield refused
    assert not refused, f"tried to reach {refused}"


def _stand_in():
    return AlipayStandIn(
        app_id=APP_ID,
        app_public_key=generated_key("alipay-app").public_key(),
        alipay_key=generated_key("alipay"),
    )


def _configure(settings, tmp_path, stand_in):
    settings.QUANZI_ALIPAY_APP_ID = APP_ID
    settings.QUANZI_ALIPAY_PRIVATE_KEY = write(
        tmp_path / "app_private.pem", private_pem(generated_key("alipay-app"))
    )
    settings.QUANZI_ALIPAY_PUBLIC_KEY = write(
        tmp_path / "alipay_public.pem", public_pem(generated_key("alipay"))
    )
    settings.QUANZI_ALIPAY_NOTIFY_URL = "https://shop.example.com/api/v1/payments/notify/alipay"
    settings.QUANZI_ALIPAY_GATEWAY_URL = stand_in.url + "/gateway.do"
    reset_gateways()


@pytest.fixture
def alipay(settings, tmp_path, no_internet):
    stand_in = _stand_in()
    with stand_in.running():
        _configure(settings, tmp_path, stand_in)
        yield stand_in
    reset_gateways()


def _order(user, sku, make_address, qty=1):
    address = make_address(user)
    response = user.api.post(
        "/orders", {"items": [{"sku_id": sku.pk, "qty": qty}], "address_id": address.pk}
    )
    assert response.status_code == 201, response.content
    return response.json()


def _pay(user, order, alipay):
    """Ask Quanzi for the pay URL and open it at the stand-in (the customer's browser)."""
    response = user.api.post(f"/orders/{order['id']}/pay", {"gateway": "alipay"})
    assert response.status_code == 200, response.content
    answer = response.json()
    alipay.open_pay_url(answer["params"]["wap_url"])
    return answer, Payment.objects.get(pk=answer["payment_id"])


def _deliver(anon, form):
    return anon.client.post(
        "/api/v1/payments/notify/alipay",
        data=form,
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )


def _paid_order(customer, anon, sku, make_address, alipay, qty=1):
    order = _order(customer, sku, make_address, qty)
    _, payment = _pay(customer, order, alipay)
    assert _deliver(anon, alipay.notification(payment.out_trade_no)).content == b"success"
    return order, payment


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_yuan_strings_become_fen_exactly(amount):
    assert fen(yuan(amount)) == amount


@pytest.mark.parametrize(
    "text", ["19.9.0", "1e3", "-1.00", "19.999", " 19.90", "NaN", "", "１９.90", "19.", "19.90\n"]
)
def test_anything_but_a_plain_yuan_amount_is_refused(text):
    with pytest.raises(ValueError):
        fen(text)


def test_pay_urls_are_signed_for_the_stand_in_and_notification_twice_captures_once(
    customer, anon, sku, make_address, alipay
):
    assert get_gateway("alipay").client()._gateway == alipay.url + "/gateway.do"
    order = _order(customer, sku, make_address, qty=2)
    answer, payment = _pay(customer, order, alipay)
    page = alipay.open_pay_url(answer["params"]["pay_url"])  # the desktop URL verifies too
    trade = alipay.trades[payment.out_trade_no]
    assert page is trade
    assert trade["total_amount"] == yuan(order["payable"])  # "39.80": yuan string, exact
    assert trade["notify_url"] == "https://shop.example.com/api/v1/payments/notify/alipay"
    assert get_gateway("alipay").query(out_trade_no=payment.out_trade_no).paid is False

    form = alipay.notification(payment.out_trade_no)
    first = _deliver(anon, form)
    assert first.status_code == 200 and first.content == b"success"
    assert first["Content-Type"].startswith("text/plain")
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert _deliver(anon, form).content == b"success"  # Alipay retries until it reads success
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.gateway_txn_id == trade["trade_no"]
    assert JournalEntry.objects.filter(kind="payment", order_id=order["id"]).count() == 1
    assert balance("gateway:alipay") == order["payable"]
    queried = get_gateway("alipay").query(out_trade_no=payment.out_trade_no)
    assert (queried.paid, queried.txn_id, queried.amount) == (
        True,
        trade["trade_no"],
        order["payable"],
    )


def test_a_lost_notification_is_made_good_by_querying_alipay(customer, sku, make_address, alipay):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order, alipay)
    alipay.notification(payment.out_trade_no)  # the customer paid; the notification is lost
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=2)) == 1
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    payment.refresh_from_db()
    assert payment.gateway_txn_id == alipay.trades[payment.out_trade_no]["trade_no"]


def _tamper(form, **changes):
    fields = dict(parse_qsl(form, keep_blank_values=True))
    fields.update(changes)
    return urlencode(fields)


def test_forged_or_tampered_notifications_are_refused(customer, anon, sku, make_address, alipay):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order, alipay)
    number = payment.out_trade_no
    forgeries = {
        "amount changed after signing": _tamper(alipay.notification(number), total_amount="0.01"),
        "signed by someone else": alipay.notification(
            number, signing_key=generated_key("intruder")
        ),
        "for another app": alipay.notification(number, app_id="2021999999999999"),
        "unsigned": urlencode(
            [(k, v) for k, v in parse_qsl(alipay.notification(number)) if k != "sign"]
        ),
        "wrong amount": alipay.notification(number, total_amount="0.01"),
        "garbage signature": _tamper(alipay.notification(number), sign="!!not-base64!!"),
        "other sign type": _tamper(alipay.notification(number), sign_type="RSA"),
        "not a form": "\xff\xfe=%%%",
    }
    for forgery, form in forgeries.items():
        response = _deliver(anon, form)
        assert response.status_code == 400, forgery
        assert response.json()["code"] == "invalid_notification", forgery
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert not JournalEntry.objects.exists()
    assert _deliver(anon, alipay.notification(number)).content == b"success"  # the real one pays
    assert Order.objects.get(pk=order["id"]).status == "to_ship"


def test_a_closed_trade_notification_pays_nothing(customer, anon, sku, make_address, alipay):
    order = _order(customer, sku, make_address)
    _, payment = _pay(customer, order, alipay)
    response = _deliver(
        anon, alipay.notification(payment.out_trade_no, trade_status="TRADE_CLOSED")
    )
    assert response.content == b"success"
    assert Order.objects.get(pk=order["id"]).status == "pending_payment"
    assert not JournalEntry.objects.exists()


def test_refund_goes_back_through_alipay_once_even_if_executed_twice(
    customer, operator, anon, sku, make_address, alipay, monkeypatch
):
    order, payment = _paid_order(customer, anon, sku, make_address, alipay, qty=3)
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
    assert alipay.refunds == {
        (payment.out_trade_no, row.refund_no): {"amount": yuan(sku.price), "reason": "坏了一个"}
    }

    again = get_gateway("alipay").refund(
        out_trade_no=payment.out_trade_no,
        refund_no=row.refund_no,
        amount=row.amount,
        total=payment.amount,
        reason="x",
    )
    assert again.succeeded
    assert len(alipay.refunds) == 1  # three requests with one out_request_no: one refund
    assert Refund.objects.get(pk=row.pk).status == "succeeded"
    assert balance("gateway:alipay") == payment.amount - row.amount
    too_much = get_gateway("alipay").refund(
        out_trade_no=payment.out_trade_no,
        refund_no="RFTOOMUCH",
        amount=payment.amount,
        total=payment.amount,
        reason="x",
    )
    assert not too_much.succeeded and "ACQ." in too_much.error


def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_number(
    customer, operator, anon, sku, make_address, alipay
):
    order, payment = _paid_order(customer, anon, sku, make_address, alipay)
    refund = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    alipay.lose_next_answer = True
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    assert Refund.objects.get(pk=refund["id"]).status == "processing"
    assert refunds_retry(now=timezone.now() + timedelta(hours=1)) == 1
    assert Refund.objects.get(pk=refund["id"]).status == "succeeded"
    assert len(alipay.calls("GET", "/gateway.do")) >= 2 and len(alipay.refunds) == 1
    assert balance("gateway:alipay") == 0


def test_payout_by_transfer_is_idempotent_on_its_number(alipay, db):
    gateway = get_gateway("alipay")
    first = gateway.payout(
        payout_no="PO20250101A1",
        user_ref="alipay_user_id:2088102177846880",
        amount=5000,
        description="佣金提现",
    )
    assert first.succeeded and first.gateway_ref
    again = gateway.payout(
        payout_no="PO20250101A1",
        user_ref="alipay_user_id:2088102177846880",
        amount=5000,
        description="佣金提现",
    )
    assert again.succeeded and again.gateway_ref == first.gateway_ref
    assert list(alipay.transfers) == ["PO20250101A1"]
    assert alipay.transfers["PO20250101A1"]["amount"] == "50.00"
    assert alipay.transfers["PO20250101A1"]["payee"] == {
        "identity": "2088102177846880",
        "identity_type": "ALIPAY_USER_ID",
    }
    alipay.lose_next_answer = True  # the transfer is made but its answer is lost
    lost = gateway.payout(
        payout_no="PO20250101C3",
        user_ref="alipay_user_id:2088102177846880",
        amount=700,
        description="x",
    )
    assert not lost.succeeded and lost.pending  # unknown: not a failure to pay again
    found = gateway.payout(
        payout_no="PO20250101C3",
        user_ref="alipay_user_id:2088102177846880",
        amount=700,
        description="x",
    )
    assert found.succeeded and list(alipay.transfers) == ["PO20250101A1", "PO20250101C3"]
    no_account = gateway.payout(
        payout_no="PO20250101B2", user_ref="42", amount=100, description="x"
    )
    assert not no_account.succeeded and "PO20250101B2" not in alipay.transfers


def _cert_sn(cert):
    issuer = {a.oid: a.value for a in cert.issuer}
    name = f"CN={issuer[NameOID.COMMON_NAME]},OU={issuer[NameOID.ORGANIZATIONAL_UNIT_NAME]},O={issuer[NameOID.ORGANIZATION_NAME]},C={issuer[NameOID.COUNTRY_NAME]}"
    return hashlib.md5((name + str(cert.serial_number)).encode()).hexdigest()


def test_payout_to_a_login_id_carries_the_real_name(alipay, db):
    gateway = get_gateway("alipay")
    nameless = gateway.payout(
        payout_no="PO20250102L1",
        user_ref="alipay_logon_id:13800138000",
        amount=5000,
        description="佣金提现",
    )
    assert not nameless.succeeded and not nameless.pending and not alipay.transfers

    named = gateway.payout(
        payout_no="PO20250102L1",
        user_ref="alipay_logon_id:13800138000",
        amount=5000,
        description="佣金提现",
        payee_name="张三",
    )

    assert named.succeeded
    assert alipay.transfers["PO20250102L1"]["payee"] == {
        "identity": "13800138000",
        "identity_type": "ALIPAY_LOGON_ID",
        "name": "张三",
    }


def test_certificate_mode_sends_the_certificate_numbers_and_pays_out(
    settings, tmp_path, customer, anon, sku, make_address, no_internet
):
    root_key = generated_key("alipay-root")
    root = certificate(root_key, "Alipay Root Test CA")
    alipay_cert = certificate(
        generated_key("alipay"),
        "Alipay Public Test",
        issuer_key=root_key,
        issuer_name="Alipay Root Test CA",
    )
    app_cert = certificate(
        generated_key("alipay-app"), APP_ID, issuer_key=root_key, issuer_name="Alipay Root Test CA"
    )
    stand_in = _stand_in()
    stand_in.cert_sns = (_cert_sn(app_cert), _cert_sn(root))
    with stand_in.running():
        _configure(settings, tmp_path, stand_in)
        settings.QUANZI_ALIPAY_PUBLIC_KEY = ""
        settings.QUANZI_ALIPAY_APP_CERT = write(
            tmp_path / "appCertPublicKey.crt", cert_pem(app_cert)
        )
        settings.QUANZI_ALIPAY_PUBLIC_CERT = write(
            tmp_path / "alipayCertPublicKey_RSA2.crt", cert_pem(alipay_cert)
        )
        settings.QUANZI_ALIPAY_ROOT_CERT = write(tmp_path / "alipayRootCert.crt", cert_pem(root))
        reset_gateways()
        order, payment = _paid_order(customer, anon, sku, make_address, stand_in)
        result = get_gateway("alipay").payout(
            payout_no="PO20250102A1",
            user_ref="alipay_open_id:074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
            amount=1234,
            description="提现",
        )
    assert result.succeeded and stand_in.transfers["PO20250102A1"]["amount"] == "12.34"
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert payment.out_trade_no in stand_in.trades


def test_unconfigured_alipay_is_refused(
    customer, sku, make_address, settings, tmp_path, no_internet
):
    order = _order(customer, sku, make_address)
    response = customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "alipay"})
    assert response.status_code == 422 and response.json()["code"] == "gateway_not_configured"
    settings.QUANZI_ALIPAY_APP_ID = APP_ID
    settings.QUANZI_ALIPAY_PRIVATE_KEY = str(tmp_path / "missing.pem")
    settings.QUANZI_ALIPAY_PUBLIC_KEY = str(tmp_path / "missing.pem")
    reset_gateways()
    assert customer.api.post(f"/orders/{order['id']}/pay", {"gateway": "alipay"}).status_code == 422


def test_checkout_starts_an_alipay_payment_in_the_same_request(
    customer, anon, sku, make_address, alipay
):
    """Alipay's pay URL is signed locally: the order and its payment come in one answer."""
    address = make_address(customer)
    body = {
        "items": [{"sku_id": sku.pk, "qty": 2}],
        "address_id": address.pk,
        "pay": {"gateway": "alipay"},
    }
    placed = customer.api.post("/orders", body)
    assert placed.status_code == 201, placed.content
    order, answer = placed.json(), placed.json()["payment"]
    trade = alipay.open_pay_url(answer["params"]["wap_url"])
    assert trade["total_amount"] == yuan(order["payable"])
    payment = Payment.objects.get(pk=answer["payment_id"])
    assert _deliver(anon, alipay.notification(payment.out_trade_no)).content == b"success"
    assert Order.objects.get(pk=order["id"]).status == "to_ship"
    assert balance("gateway:alipay") == order["payable"]


def test_the_pay_url_carries_the_orders_deadline_and_cancelling_closes_the_trade(
    customer, sku, make_address, alipay
):
    order = _order(customer, sku, make_address)
    answer, payment = _pay(customer, order, alipay)
    trade = alipay.open_pay_url(answer["params"]["wap_url"])
    deadline = Order.objects.get(pk=order["id"]).expires_at
    assert trade["time_expire"] == deadline.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")

    assert customer.api.post(f"/orders/{order['id']}/cancel").status_code == 200

    assert trade["trade_status"] == "TRADE_CLOSED"
    assert Payment.objects.get(pk=payment.pk).status == "closed"
