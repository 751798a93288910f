"""Binding a referrer: invite code, first visit or first order; never self, never a
cycle, never re-bound while valid; N-day bindings expire."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.distribution.models import Commission
from quanzi.distribution.tests.conftest import own_address
from quanzi.social.services import share_create


def _link(user, sku):
    return share_create(sharer=user, target="product", target_id=sku.product_id).token


def _open(user, token):
    """``user`` opens the link in an app that sends its bearer token."""
    response = Client().get(f"/s/{token}", headers={"Authorization": f"Bearer {user.api.token}"})
    assert response.status_code == 302
    return response


def _referrer(user):
    return User.objects.get(pk=user.pk).referrer_id


def test_first_visit_binds_the_sharer(people, sku):
    sharer, visitor = people(2)
    _open(visitor, _link(sharer, sku))
    assert _referrer(visitor) == sharer.pk
    assert visitor.api.get("/me").json()["referrer_id"] == sharer.pk


def test_opening_ones_own_link_binds_nothing(people, sku):
    (sharer,) = people(1)
    _open(sharer, _link(sharer, sku))
    assert _referrer(sharer) is None


def test_no_rebinding_while_valid(people, sku):
    first, second, visitor = people(3)
    _open(visitor, _link(first, sku))
    _open(visitor, _link(second, sku))
    assert _referrer(visitor) == first.pk


def test_no_cycles(people, sku):
    a, b, c = people(3, chain=True)  # a ← b ← c
    _open(a, _link(c, sku))  # a binding to c would close the loop a ← b ← c ← a
    _open(a, _link(b, sku))
    assert _referrer(a) is None


def test_binding_for_n_days_expires_and_then_may_change(people, pay, sku, dist_settings):
    dist_settings(bind_days=7)
    first, second, visitor = people(3)
    _open(visitor, _link(first, sku))
    bound = User.objects.get(pk=visitor.pk)
    assert bound.referrer_expires_at - bound.referrer_bound_at == timedelta(days=7)

    # Seven days later (the recorded expiry is in the past):
    User.objects.filter(pk=visitor.pk).update(
        referrer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    order = pay(visitor, [(sku, 1)])
    assert not Commission.objects.filter(order=order).exists()  # an expired upline earns nothing
    assert visitor.api.get("/me").json()["referrer_id"] is None

    _open(visitor, _link(second, sku))
    assert _referrer(visitor) == second.pk


def test_first_order_mode_binds_on_payment_not_on_visit(people, pay, sku, dist_settings):
    dist_settings(bind_on="first_order")
    sharer, buyer = people(2)
    token = _link(sharer, sku)
    _open(buyer, token)
    assert _referrer(buyer) is None

    unpaid = buyer.api.post(
        "/orders",
        {
            "items": [{"sku_id": sku.pk, "qty": 1}],
            "address_id": own_address(buyer).pk,
            "share_token": token,
        },
    )
    assert unpaid.status_code == 201
    assert _referrer(buyer) is None  # placing is not paying

    order = pay(buyer, [(sku, 2)], share_token=token)
    assert _referrer(buyer) == sharer.pk
    assert User.objects.get(pk=buyer.pk).referrer_source == "share_order"
    assert Commission.objects.get(order=order).beneficiary_id == sharer.pk


def test_first_order_mode_does_not_bind_to_the_buyers_own_link(people, pay, sku, dist_settings):
    dist_settings(bind_on="first_order")
    (buyer,) = people(1)
    order = pay(buyer, [(sku, 1)], share_token=_link(buyer, sku))
    assert _referrer(buyer) is None
    assert not Commission.objects.filter(order=order).exists()


def test_invite_code_binds_at_sign_up(anon, people, dist_settings):
    dist_settings(bind_days=30)
    (inviter,) = people(1)
    response = anon.post(
        "/auth/register",
        {"phone": "13912345678", "password": "secret123", "invite_code": inviter.invite_code},
    )
    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["user_id"])
    assert user.referrer_id == inviter.pk and user.referrer_source == "invite_code"
    assert user.referrer_expires_at - user.referrer_bound_at == timedelta(days=30)


def test_unknown_invite_code_is_refused(anon):
    response = anon.post(
        "/auth/register",
        {"phone": "13912345679", "password": "secret123", "invite_code": "NOPE2345"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_invite_code"
    assert not User.objects.filter(phone="13912345679").exists()


def test_team_shows_both_levels_in_real_time(people, pay, make_product):
    top, mid, buyer = people(3, chain=True)
    sku = make_product(price=1000, supply_price=400).skus.get()
    pay(buyer, [(sku, 3)])

    team = top.api.get("/me/team").json()

    assert [m["user_id"] for m in team["level1"]] == [mid.pk]
    assert team["level1"][0]["orders"] == 0
    assert [(m["user_id"], m["orders"], m["gmv"]) for m in team["level2"]] == [(buyer.pk, 1, 3000)]
    assert mid.api.get("/me/team").json()["level1"][0]["gmv"] == 3000
    assert buyer.api.get("/me/team").json() == {
        "level1": [],
        "level2": [],
        "level1_count": 0,
        "level2_count": 0,
    }


def test_an_order_without_commission_still_binds_but_pays_nothing(people, pay, sku, dist_settings):
    from quanzi.distribution.tests.conftest import NoCommissionChannel
    from quanzi.orders.channels import register_channel

    register_channel(NoCommissionChannel())
    dist_settings(bind_on="first_order")
    sharer, buyer = people(2)

    order = pay(buyer, [(sku, 1)], share_token=_link(sharer, sku), channel="test_nocomm")

    assert _referrer(buyer) == sharer.pk
    assert not Commission.objects.filter(order=order).exists()
