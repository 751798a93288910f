"""Share links: create, open (recorded, bound, redirected), conversions, the share tree."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.accounts.models import User
from quanzi.social.models import ShareConversion, ShareLink, ShareVisit
from quanzi.social.selectors import share_stats, share_tree, user_registered_through
from quanzi.social.services import share_create, share_register_attribute


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _bearer(user):
    return {"Authorization": f"Bearer {user.api.token}"}


def test_create_a_share_link(customer, sku):
    response = customer.api.post(
        "/shares", {"target": "product", "target_id": sku.product_id, "channel": "moments"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["url"].endswith(f"/s/{body['token']}") and len(body["token"]) >= 12
    again = customer.api.post(
        "/shares", {"target": "product", "target_id": sku.product_id, "channel": "moments"}
    )
    assert again.json()["token"] == body["token"]  # one link per target and channel
    other_channel = customer.api.post(
        "/shares", {"target": "product", "target_id": sku.product_id, "channel": "poster"}
    )
    assert other_channel.json()["token"] != body["token"]


def test_bad_share_requests_are_4xx(customer, anon, sku):
    assert (
        anon.post("/shares", {"target": "product", "target_id": sku.product_id}).status_code == 401
    )
    wrong_kind = customer.api.post("/shares", {"target": "video", "target_id": 1})
    assert wrong_kind.status_code == 422
    missing = customer.api.post("/shares", {"target": "product", "target_id": 999999})
    assert missing.status_code == 404 and missing.json()["code"] == "share_target_not_found"
    channel = customer.api.post(
        "/shares", {"target": "product", "target_id": sku.product_id, "channel": "朋友圈!"}
    )
    assert channel.status_code == 422 and channel.json()["code"] == "invalid_share_channel"
    assert customer.api.post("/shares", {"target": "shop", "target_id": 0}).status_code == 422


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("product", "/p/5"),
        ("group", "/g/5"),
        ("bargain", "/b/5"),
        ("note", "/n/5"),
        ("shop", "/shop/5"),
    ],
)
def test_opening_redirects_to_the_shared_page(customer, target, path):
    link = ShareLink.objects.create(
        token=f"t-{target}", sharer=customer, target=target, target_id=5
    )
    response = Client().get(f"/s/{link.token}")
    assert response.status_code == 302 and response["Location"] == path


def test_anonymous_visit_is_recorded_with_its_session_and_token(customer, sku):
    link = share_create(sharer=customer, target="product", target_id=sku.product_id)
    browser = Client()

    browser.get(f"/s/{link.token}")
    browser.get(f"/s/{link.token}")

    visit = ShareVisit.objects.get(link=link)
    assert visit.visitor is None and visit.session_key and visit.count == 2
    assert browser.session["quanzi_share_token"] == link.token
    assert ShareLink.objects.get(pk=link.pk).opens == 2


def test_logged_in_visit_is_recorded_and_binds(make_user, sku):
    sharer, visitor = make_user(), make_user()
    link = share_create(sharer=sharer, target="product", target_id=sku.product_id)
    browser = Client()
    browser.force_login(visitor)

    browser.get(f"/s/{link.token}")

    assert ShareVisit.objects.get(link=link).visitor_id == visitor.pk
    assert User.objects.get(pk=visitor.pk).referrer_id == sharer.pk


def test_bearer_visit_is_known(make_user, sku):
    sharer, visitor = make_user(), make_user()
    link = share_create(sharer=sharer, target="product", target_id=sku.product_id)
    Client().get(f"/s/{link.token}", headers=_bearer(visitor))
    assert ShareVisit.objects.get(link=link).visitor_id == visitor.pk


def test_unknown_token_is_404_and_stores_nothing(anon):
    browser = Client()
    response = browser.get("/s/nope-nope-nope")
    assert response.status_code == 404
    assert "quanzi_share_token" not in browser.session
    assert not ShareVisit.objects.exists()


def test_registration_through_a_link_is_a_conversion_and_binds(make_user, sku):
    sharer = make_user()
    link = share_create(sharer=sharer, target="product", target_id=sku.product_id)
    browser = Client()
    browser.get(f"/s/{link.token}")
    newcomer = make_user()

    assert share_register_attribute(
        user=newcomer, token=link.token, session_key=browser.session.session_key
    )
    assert not share_register_attribute(user=newcomer, token=link.token)  # once only

    assert ShareVisit.objects.get(link=link).visitor_id == newcomer.pk  # the session's visit
    assert User.objects.get(pk=newcomer.pk).referrer_id == sharer.pk
    assert user_registered_through(user=newcomer, target="product", target_id=sku.product_id)
    assert not user_registered_through(user=newcomer, target="bargain", target_id=sku.product_id)
    assert not share_register_attribute(user=sharer, token=link.token)  # one's own link


def test_share_tree_depth_and_k_factor(make_user, sku):
    """a shares → b and c arrive; b shares → d arrives; d shares (depth 3)."""
    a, b, c, d = (make_user() for _ in range(4))
    root = share_create(sharer=a, target="product", target_id=sku.product_id)
    for person in (b, c):
        Client().get(f"/s/{root.token}", headers=_bearer(person))
        share_register_attribute(user=person, token=root.token)
    child = share_create(sharer=b, target="product", target_id=sku.product_id)
    Client().get(f"/s/{child.token}", headers=_bearer(d))
    share_register_attribute(user=d, token=child.token)
    grandchild = share_create(sharer=d, target="product", target_id=sku.product_id)

    assert (root.depth, child.depth, grandchild.depth) == (1, 2, 3)
    assert child.parent_id == root.pk and grandchild.parent_id == child.pk
    assert grandchild.root_id == root.pk
    tree = share_tree(link_id=grandchild.pk)
    assert tree["root_id"] == root.pk and tree["depth"] == 3
    assert tree["sharers"] == 3 and tree["brought"] == 3
    assert tree["k_factor"] == 1.0
    by_id = {link["id"]: link for link in tree["links"]}
    assert by_id[root.pk]["visitors"] == 2 and by_id[root.pk]["registrations"] == 2
    stats = share_stats()
    assert stats["max_depth"] == 3 and stats["registrations"] == 3 and stats["sharers"] == 3


def test_paid_orders_through_a_link_are_conversions(make_user, sku, buy):
    sharer, buyer = make_user(), make_user()
    link = share_create(sharer=sharer, target="product", target_id=sku.product_id)

    order = buy(buyer, sku, qty=2, share_token=link.token)
    unpaid = buy(buyer, sku, qty=1, pay=False, share_token=link.token)

    conversion = ShareConversion.objects.get(kind="order")
    assert conversion.order_id == order["id"] and conversion.amount == order["payable"]
    assert not ShareConversion.objects.filter(order_id=unpaid["id"]).exists()
    mine = sharer.api.get("/me/shares").json()["items"]
    assert [(s["token"], s["orders"], s["gmv"]) for s in mine] == [
        (link.token, 1, order["payable"])
    ]


def test_operator_share_views(operator, customer, sku):
    link = share_create(sharer=customer, target="product", target_id=sku.product_id)
    assert customer.api.get("/admin/shares/stats").status_code == 403
    assert operator.api.get("/admin/shares/stats").json()["links"] == 1
    assert operator.api.get(f"/admin/shares/{link.pk}/tree").json()["depth"] == 1
    assert operator.api.get("/admin/shares/999999/tree").status_code == 404


def test_an_app_signs_up_through_a_share_link(make_user, sku, anon):
    """``POST /auth/register`` with ``share_token``: the same conversion and binding as
    the storefront's sign-up; a link that no longer exists does not stop the sign-up."""
    sharer = make_user()
    token = sharer.api.post("/shares", {"target": "product", "target_id": sku.product_id})
    token = token.json()["token"]

    joined = anon.post(
        "/auth/register", {"phone": "13612340001", "password": "secret123", "share_token": token}
    )
    assert joined.status_code == 201, joined.content
    newcomer = User.objects.get(pk=joined.json()["user_id"])
    assert newcomer.referrer_id == sharer.pk
    assert ShareConversion.objects.filter(
        link__token=token, user=newcomer, kind="register"
    ).exists()

    stale = anon.post(
        "/auth/register",
        {"phone": "13612340002", "password": "secret123", "share_token": "gone-gone-gone"},
    )
    assert stale.status_code == 201
    assert User.objects.get(pk=stale.json()["user_id"]).referrer_id is None
    too_long = anon.post(
        "/auth/register", {"phone": "13612340003", "password": "secret123", "share_token": "x" * 25}
    )
    assert too_long.status_code == 422
    assert not User.objects.filter(phone="13612340003").exists()
