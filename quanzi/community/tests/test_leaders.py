"""Leaders apply with a point, the operator decides; points listed nearest first."""

from __future__ import annotations

from quanzi.community.tests.conftest import BINJIANG, CUIYUAN, XIHU


def test_approved_applicant_becomes_leader_with_point(leader):
    me = leader.api.get("/me").json()
    assert "leader" in me["roles"]
    mine = leader.api.get("/community/leader/me").json()
    assert [p["id"] for p in mine["points"]] == [leader.point_id]
    assert mine["share_url"].startswith("/community/l/")


def test_application_needs_coordinates_and_is_not_duplicated(customer):
    bad = customer.api.post(
        "/community/leader-applications",
        {"point": {"name": "x", "address": "y", "lat": 91, "lng": 0}},
    )
    assert bad.status_code == 422
    body = {"point": {"name": "小区门口", "address": "翠苑路 1 号", "lat": 30.1, "lng": 120.1}}
    assert customer.api.post("/community/leader-applications", body).status_code == 201
    again = customer.api.post("/community/leader-applications", body)
    assert again.status_code == 409
    assert again.json()["code"] == "application_pending"


def test_customer_cannot_approve_applications(customer):
    body = {"point": {"name": "小区门口", "address": "翠苑路 1 号", "lat": 30.1, "lng": 120.1}}
    app = customer.api.post("/community/leader-applications", body).json()
    refused = customer.api.post(f"/admin/community/leader-applications/{app['id']}/approve")
    assert refused.status_code == 403


def test_points_listed_nearest_first_with_distance(make_leader, anon):
    far = make_leader(name="滨江驿站", at=BINJIANG, area="滨江区")
    near = make_leader(name="幸福里", at=XIHU)
    middle = make_leader(name="翠苑", at=CUIYUAN)
    listed = anon.get(f"/community/points?lat={XIHU[0]}&lng={XIHU[1] + 0.001}").json()["items"]
    assert [p["id"] for p in listed] == [near.point_id, middle.point_id, far.point_id]
    assert listed[0]["distance_m"] < 200
    assert 1_000 < listed[1]["distance_m"] < 2_000
    assert 10_000 < listed[2]["distance_m"] < 14_000


def test_distance_across_the_180th_meridian_is_short():
    from quanzi.community.leaders import distance_m

    assert distance_m(0, 179.99, 0, -179.99) < 3_000
    # Hangzhou to Shanghai, across cities: about 165 km.
    assert 150_000 < distance_m(30.274, 120.155, 31.230, 121.474) < 180_000


def test_suspended_point_is_not_listed_and_refuses_orders(
    leader, operator, customer, wave, veg, shop
):
    r = operator.api.post(f"/admin/community/leaders/{leader.leader_id}/suspend")
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert customer.api.get("/community/points").json()["items"] == []
    refused = shop.order(customer, wave, leader.point_id, [(veg, 1)], expect=409)
    assert refused["code"] == "point_unavailable"
    operator.api.post(f"/admin/community/leaders/{leader.leader_id}/reinstate")
    shop.order(customer, wave, leader.point_id, [(veg, 1)])


def test_paused_point_refuses_orders_for_its_pickup_day(leader, customer, wave, veg, shop):
    paused = leader.api.post(
        f"/community/points/{leader.point_id}/pauses", {"dates": [wave["pickup_date"]]}
    )
    assert paused.status_code == 200, paused.content
    refused = shop.order(customer, wave, leader.point_id, [(veg, 1)], expect=409)
    assert refused["code"] == "point_paused"
    leader.api.post(
        f"/community/points/{leader.point_id}/pauses",
        {"dates": [wave["pickup_date"]], "paused": False},
    )
    shop.order(customer, wave, leader.point_id, [(veg, 1)])


def test_other_leader_cannot_pause_my_point(leader, make_leader, wave):
    other = make_leader(name="翠苑", at=CUIYUAN)
    r = other.api.post(
        f"/community/points/{leader.point_id}/pauses", {"dates": [wave["pickup_date"]]}
    )
    assert r.status_code == 404


def test_chosen_point_is_remembered_and_share_link_binds_leader(leader, customer):
    assert customer.api.get("/community/me/point").status_code == 404
    code = leader.api.get("/community/leader/me").json()["leader"]["share_code"]
    bound = customer.api.post(f"/community/leaders/{code}/bind", {})
    assert bound.status_code == 200, bound.content
    mine = customer.api.get("/community/me/point").json()
    assert mine["point"]["id"] == leader.point_id
    assert mine["bound_leader_id"] == leader.leader_id
