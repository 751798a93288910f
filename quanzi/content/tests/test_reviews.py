"""Verified-purchase reviews (买家秀): who may review what, once, with photos, rating and
review points."""

from __future__ import annotations

from quanzi.content.models import Review
from quanzi.distribution.tests.conftest import complete, refund
from quanzi.marketing.models import PointsTxn
from quanzi.marketing.points import points_balance
from quanzi.orders.models import OrderLine


def _line(order):
    return OrderLine.objects.filter(order=order).first()


def _review(user, order, line, **body):
    return user.api.post(
        f"/orders/{order.pk}/lines/{line.pk}/review", {"rating": 5, "body": "好用", **body}
    )


def test_no_review_before_the_goods_are_received(people, pay, make_product):
    (buyer,) = people(1)
    order = pay(buyer, [(make_product().skus.get(), 1)])

    response = _review(buyer, order, _line(order))

    assert response.status_code == 409 and response.json()["code"] == "not_reviewable"


def test_a_received_line_is_reviewed_once_with_photos_and_rating(
    people, pay, make_product, photo, anon, dist_settings
):
    (buyer,) = people(1)
    product = make_product()
    order = complete(pay(buyer, [(product.skus.get(), 1)]))
    line = _line(order)

    first = _review(
        buyer, order, line, rating=4, body="米很香", media_ids=[photo(buyer), photo(buyer)]
    )
    second = _review(buyer, order, line, rating=1)

    assert first.status_code == 201, first.content
    assert first.json()["verified_purchase"] is True and len(first.json()["images"]) == 2
    assert second.status_code == 409 and second.json()["code"] == "already_reviewed"
    page = anon.get(f"/products/{product.pk}/reviews").json()
    assert page["rating"] == {"average": 4.0, "count": 1}
    assert page["items"][0]["body"] == "米很香" and page["items"][0]["author"]["id"] == buyer.pk
    assert anon.get(f"/products/{product.pk}").json()["rating"] == {"average": 4.0, "count": 1}


def test_nobody_reviews_someone_elses_order(people, pay, make_product):
    buyer, stranger = people(2)
    order = complete(pay(buyer, [(make_product().skus.get(), 1)]))

    response = _review(stranger, order, _line(order))

    assert response.status_code == 404
    assert not Review.objects.exists()


def test_the_average_over_several_buyers(people, pay, make_product, anon):
    buyers = people(3)
    product = make_product()
    for buyer, rating in zip(buyers, (5, 4, 2), strict=True):
        order = complete(pay(buyer, [(product.skus.get(), 1)]))
        assert _review(buyer, order, _line(order), rating=rating).status_code == 201

    assert anon.get(f"/products/{product.pk}/reviews").json()["rating"] == {
        "average": 3.7,
        "count": 3,
    }


def test_a_hidden_review_leaves_the_page_and_the_rating(people, pay, make_product, anon, operator):
    a, b = people(2)
    product = make_product()
    ids = []
    for buyer, rating in ((a, 5), (b, 1)):
        order = complete(pay(buyer, [(product.skus.get(), 1)]))
        ids.append(_review(buyer, order, _line(order), rating=rating).json()["id"])

    operator.api.post(f"/admin/moderation/review/{ids[1]}/hide")

    page = anon.get(f"/products/{product.pk}/reviews").json()
    assert [r["id"] for r in page["items"]] == [ids[0]]
    assert page["rating"] == {"average": 5.0, "count": 1}
    operator.api.post(f"/admin/moderation/review/{ids[1]}/restore")
    assert anon.get(f"/products/{product.pk}/reviews").json()["rating"]["count"] == 2


def test_review_points_once_per_line_and_clawed_back_on_a_full_refund(
    people, pay, make_product, operator
):
    (buyer,) = people(1)
    order = complete(pay(buyer, [(make_product().skus.get(), 1)]))
    before = points_balance(user_id=buyer.pk)

    response = _review(buyer, order, _line(order))

    assert response.json()["points"] == 10
    assert points_balance(user_id=buyer.pk) == before + 10
    again = OrderLine.objects.get(pk=_line(order).pk)
    assert _review(buyer, order, again).status_code == 409  # no second grant
    refund(order, operator)
    # The order's own points and the review's are both taken back.
    assert points_balance(user_id=buyer.pk) == 0
    assert PointsTxn.objects.filter(key=f"review:{again.pk}:clawback", amount=-10).exists()


def test_a_partial_refund_keeps_the_review_points(people, pay, make_product, operator):
    (buyer,) = people(1)
    order = complete(pay(buyer, [(make_product().skus.get(), 2)]))
    line = _line(order)
    _review(buyer, order, line)
    kept = points_balance(user_id=buyer.pk)

    assert kept > 10

    refund(order, operator, [(line.pk, 1)])

    assert not PointsTxn.objects.filter(key=f"review:{line.pk}:clawback").exists()
    assert PointsTxn.objects.filter(key=f"review:{line.pk}", amount=10).exists()
