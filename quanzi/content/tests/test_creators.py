"""Creators apply, the operator approves, and the creator centre shows what notes bring."""

from __future__ import annotations


def test_a_customer_cannot_approve_creators(customer, make_user, operator):
    applicant = make_user(nickname="想当达人")
    assert applicant.api.post("/me/creator", {"intro": "穿搭"}).status_code == 201
    assert applicant.api.post("/me/creator", {"intro": "again"}).status_code == 409

    assert customer.api.post(f"/admin/creators/{applicant.pk}/approve").status_code == 403
    assert applicant.api.post(f"/admin/creators/{applicant.pk}/approve").status_code == 403
    assert applicant.api.get("/me/creator").json()["status"] == "applied"

    listed = operator.api.get("/admin/creators?status=applied").json()["items"]
    assert [c["user_id"] for c in listed] == [applicant.pk]
    approved = operator.api.post(f"/admin/creators/{applicant.pk}/approve", {"note": "欢迎"})
    assert approved.json()["status"] == "approved"
    assert "creator" in applicant.api.get("/me").json()["roles"]
    assert customer.api.get(f"/users/{applicant.pk}/profile").json()["is_creator"] is True


def test_a_rejected_applicant_may_apply_again(make_user, operator):
    applicant = make_user()
    applicant.api.post("/me/creator", {})
    operator.api.post(f"/admin/creators/{applicant.pk}/reject", {"note": "内容太少"})
    assert applicant.api.get("/me/creator").json()["status"] == "rejected"
    assert applicant.api.post("/me/creator", {"intro": "多发了几篇"}).json()["status"] == "applied"


def test_the_creator_centre_counts_views_likes_clicks_orders_and_commission(
    make_user, operator, post_note, make_product, pay
):
    creator = make_user(nickname="达人")
    creator.api.post("/me/creator", {})
    operator.api.post(f"/admin/creators/{creator.pk}/approve")
    product = make_product(price=10_000, supply_price=4_000)
    note = post_note(creator, products=[product])
    fans = [make_user() for _ in range(3)]
    for fan in fans:
        fan.api.get(f"/notes/{note['id']}")
        fan.api.post(f"/notes/{note['id']}/like")
    fans[0].api.post(f"/notes/{note['id']}/clicks", {"product_id": product.pk})
    creator.api.get(f"/notes/{note['id']}")  # the author's own views do not count

    pay(fans[0], [(product.skus.get(), 1)])

    centre = creator.api.get("/me/creator/centre").json()
    row = centre["notes"][0]
    assert (row["views"], row["likes"], row["clicks"], row["orders"], row["commission"]) == (
        3,
        3,
        1,
        1,
        500,
    )
    today = centre["days"][0]
    assert (
        today["views"],
        today["likes"],
        today["clicks"],
        today["orders"],
        today["commission"],
    ) == (3, 3, 1, 1, 500)
    assert centre["totals"] == {"orders": 1, "commission": 500, "settled": 0}
    assert centre["orders"][0]["status"] == "frozen"
