"""已售: units paid and kept (paid minus refunded), per product, kept exactly."""

from quanzi.catalog.models import Product


def test_sold_counts_paid_units_and_drops_refunded_ones(customer, operator, make_product, buy):
    product = make_product(price=1000, stock=50)
    sku = product.skus.get()
    assert Product.objects.get(pk=product.pk).sales == 0
    order = buy(customer, sku, qty=3)
    assert Product.objects.get(pk=product.pk).sales == 3
    line = order["lines"][0]
    refund = customer.api.post(
        f"/orders/{order['id']}/refunds",
        {"lines": [{"line_id": line["id"], "qty": 1}], "reason": "坏了一个"},
    ).json()
    # Asked for, not yet paid back: still sold.
    assert Product.objects.get(pk=product.pk).sales == 3
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")  # twice: counted once
    assert Product.objects.get(pk=product.pk).sales == 2
    rest = customer.api.post(f"/orders/{order['id']}/refunds", {"reason": "不要了"}).json()
    operator.api.post(f"/admin/refunds/{rest['id']}/approve")
    assert Product.objects.get(pk=product.pk).sales == 0


def test_an_unpaid_order_is_not_sold(customer, make_product, buy):
    product = make_product(price=1000, stock=5)
    buy(customer, product.skus.get(), qty=2, pay=False)
    assert Product.objects.get(pk=product.pk).sales == 0


def test_a_recount_rebuilds_the_figure_from_the_lines(customer, operator, make_product, buy):
    from quanzi.orders.sales import sales_recount

    product = make_product(price=1000, stock=50)
    order = buy(customer, product.skus.get(), qty=4)
    refund = customer.api.post(
        f"/orders/{order['id']}/refunds",
        {"lines": [{"line_id": order["lines"][0]["id"], "qty": 1}], "reason": "少了一个"},
    ).json()
    operator.api.post(f"/admin/refunds/{refund['id']}/approve")
    buy(customer, product.skus.get(), qty=2, pay=False)  # placed, never paid
    Product.objects.filter(pk=product.pk).update(sales=99)  # a figure gone wrong
    assert sales_recount() == 1
    assert Product.objects.get(pk=product.pk).sales == 3
    assert sales_recount() == 0  # nothing left to fix
