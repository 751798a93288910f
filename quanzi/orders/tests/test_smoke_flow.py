def test_buy_pay_ship_confirm_settle_keeps_books(customer, operator, sku, buy):
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.orders.services import orders_settle_due

    order = buy(customer, sku, qty=2)
    assert order["status"] == "to_ship"
    assert order["payable"] == 2 * 1990
    shipped = operator.api.post(
        f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 200, shipped.content
    done = customer.api.post(f"/orders/{order['id']}/confirm-receipt")
    assert done.json()["status"] == "completed"
    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 1
