"""The community pages render what the services decide (server-side, no browser)."""

from __future__ import annotations

from datetime import datetime

from django.test import Client

from quanzi.community import sweeps


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_home_shows_wave_items_and_asks_for_a_point(customer, wave, veg):
    page = _client(customer).get("/community/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="choose-point"' in html
    assert f'name="qty_{veg.pk}"' in html
    assert "<small>¥</small>3<small>.90</small>" in html


def test_points_page_lists_nearest_first_with_distance(make_leader, customer):
    from quanzi.community.tests.conftest import BINJIANG, XIHU

    make_leader(name="滨江驿站", at=BINJIANG)
    make_leader(name="幸福里", at=XIHU)
    html = _client(customer).get(f"/community/points/?lat={XIHU[0]}&lng={XIHU[1]}").content.decode()
    assert html.index("幸福里") < html.index("滨江驿站")
    assert " m</span>" in html and " km</span>" in html


def test_order_from_the_home_page_goes_to_the_cashier(leader, customer, wave, veg):
    client = _client(customer)
    client.post(f"/community/points/{leader.point_id}/choose/")
    response = client.post("/community/order/", {"wave_id": wave["id"], f"qty_{veg.pk}": "2"})
    assert response.status_code == 302
    assert response["Location"].endswith("/pay/")


def test_dashboard_pages_and_csv_exports(operator, leader, customer, wave, veg, shop, clock):
    order = shop.order(customer, wave, leader.point_id, [(veg, 2)])
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    sweeps.waves_close_due()
    sweeps.waves_aggregate_due()
    client = _client(operator)
    assert "幸福里便利店" in client.get("/dashboard/community/").content.decode()
    assert client.get("/dashboard/community/waves/").status_code == 200
    page = client.get(f"/dashboard/community/waves/{wave['id']}/").content.decode()
    assert "purchase-order" in page and "sorting-list" in page
    po_csv = client.get(f"/dashboard/community/waves/{wave['id']}/purchase-orders.csv")
    assert po_csv["Content-Type"].startswith("text/csv")
    rows = po_csv.content.decode("utf-8-sig").splitlines()
    assert rows[1].split(",")[2:5] == [str(veg.pk), "本地小青菜 500g 默认", "2"]
    sorting = client.get(f"/dashboard/community/waves/{wave['id']}/sorting.csv").content.decode(
        "utf-8-sig"
    )
    assert order["pickup"]["code"] in sorting
    printed = client.get(f"/dashboard/community/waves/{wave['id']}/print/{leader.point_id}/")
    assert order["pickup"]["code"] in printed.content.decode()


def test_customer_cannot_open_community_dashboard(customer):
    assert _client(customer).get("/dashboard/community/").status_code == 403


def test_dashboard_approves_an_application(operator, customer):
    body = {"point": {"name": "翠苑驿站", "address": "翠苑路 1 号", "lat": 30.2, "lng": 120.1}}
    app = customer.api.post("/community/leader-applications", body).json()
    response = _client(operator).post(f"/dashboard/community/applications/{app['id']}/approve/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_leader


def test_leader_desk_confirms_arrival_and_verifies_code(leader, customer, wave, veg, shop, clock):
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    clock.at = datetime.fromisoformat(wave["cutoff_at"])
    sweeps.waves_close_due()
    client = _client(leader)
    assert "confirm-arrival" in client.get("/community/leader/").content.decode()
    client.post(f"/community/leader/points/{leader.point_id}/arrival/", {"wave_id": wave["id"]})
    client.post(
        f"/community/leader/points/{leader.point_id}/pickup/", {"code": order["pickup"]["code"]}
    )
    assert customer.api.get(f"/orders/{order['id']}").json()["status"] == "completed"


def test_my_codes_page_shows_code_and_qr(leader, customer, wave, veg, shop):
    order = shop.order(customer, wave, leader.point_id, [(veg, 1)])
    client = _client(customer)
    assert order["pickup"]["code"] in client.get("/community/codes/").content.decode()
    qr = client.get(f"/community/codes/{order['id']}/qr.png")
    assert qr["Content-Type"] == "image/png"
    other = client.get("/community/codes/999999/qr.png")
    assert other.status_code == 404
