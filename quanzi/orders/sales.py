"""已售: recount every product's ``sales`` from its order lines.

The figure is kept up to date as orders are paid and refunded (see
``docs/storefront-habits.md``); this recount rebuilds it from the lines of every paid
order (units bought minus units refunded), for figures written before refunds were
subtracted or after a repair. Run it from ``quanzi manage shell`` or a job.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Sum

from quanzi.catalog.models import Product
from quanzi.orders.models import OrderLine


@transaction.atomic
def sales_recount() -> int:
    """Set each product's sales to what its paid lines kept; returns products changed."""
    kept = dict(
        OrderLine.objects.filter(order__paid_at__isnull=False)
        .values("product_id")
        .annotate(n=Sum(F("qty") - F("refunded_qty")))
        .values_list("product_id", "n")
    )
    changed = 0
    for product_id, sales in Product.objects.select_for_update().values_list("id", "sales"):
        want = int(kept.get(product_id) or 0)
        if want != sales:
            Product.objects.filter(pk=product_id).update(sales=want)
            changed += 1
    return changed
