"""``quanzi demo`` shows an open flash sale of two items and one counting down."""

from django.test import Client


def test_demo_has_an_open_sale_and_a_scheduled_one(db, anon, no_gate):
    from quanzi.core.demo import demo_load

    assert demo_load() is True
    sales = anon.get("/flash-sales").json()["items"]
    assert sorted(s["state"] for s in sales) == ["open", "scheduled"]
    open_sale = next(s for s in sales if s["state"] == "open")
    assert len(open_sale["items"]) == 2 and not open_sale["sold_out"]
    page = Client().get("/flash/").content.decode()
    assert "整点秒杀" in page and "距开抢" in page
