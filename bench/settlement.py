#!/usr/bin/env python
"""Settlement: time to settle N completed orders with two-level commissions, then the
time ``quanzi ledger check`` takes on the result.

    python bench/settlement.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench \\
        --orders 100000

The completed orders are written in bulk (``bulk_create``, batches of 5,000) in the shape
the code writes them when an order is placed, paid through the sandbox and completed:
the order and its line, the captured payment, its journal entry and postings, and the
frozen commissions of both levels computed by the distribution app's own
``line_commissions``. Buyers hang under 1,000 level-1 distributors, which hang under 100
level-2 distributors. Order events (the audit trail) are not written: settlement never
reads them.

Then it runs ``orders.services.orders_settle_due`` (with every observer: distribution
makes the commissions available and re-evaluates ranks) until nothing is due, and times
it; then ``quanzi ledger check``. Logs of this process are at WARNING while it runs
(``--log`` keeps INFO).

Exit status: 0 unless an order was left unsettled or the ledger check failed.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _common import DEFAULT_URL, django_setup, emit, quanzi, workspace  # noqa: E402

BATCH = 5000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--orders", type=int, default=100_000, help="completed orders to settle")
    p.add_argument("--buyers", type=int, default=0, help="buyers (default min(orders, 20000))")
    p.add_argument("--batch", type=int, default=1000, help="orders per orders_settle_due call")
    p.add_argument(
        "--sweep-chunk",
        type=int,
        default=0,
        help="orders per transaction in the sweep (default: the code's SWEEP_CHUNK; 1 = one each)",
    )
    p.add_argument("--log", action="store_true", help="keep INFO logs (to stderr)")
    p.add_argument("--keep", action="store_true", help="keep the database it created")
    p.add_argument("--show-sql", action="store_true", help="print the SQL of one settlement")
    return p.parse_args(argv)


def _referrers_set(pairs: list[tuple[int, int]]) -> None:
    """Bind each (user, referrer) in one statement per batch."""
    from django.db import connection

    with connection.cursor() as cur:
        for start in range(0, len(pairs), 10_000):
            chunk = pairs[start : start + 10_000]
            cur.execute(
                "UPDATE accounts_user AS u SET referrer_id = m.ref, referrer_source = 'invite_code',"
                " referrer_bound_at = now() FROM unnest(%s::bigint[], %s::bigint[]) AS m(uid, ref)"
                " WHERE u.id = m.uid",
                [[u for u, _ in chunk], [r for _, r in chunk]],
            )


def build(n_orders: int, n_buyers: int) -> dict:
    """Users, distributors, catalog and ``n_orders`` completed, unsettled orders."""
    from django.db import transaction
    from django.utils import timezone

    from quanzi.catalog.models import SKU
    from quanzi.core.platform_settings import get_settings
    from quanzi.ledger import accounts as chart
    from quanzi.ledger.models import JournalEntry, Posting
    from quanzi.orders.models import Order, OrderLine
    from quanzi.payments.models import Payment

    try:
        from quanzi.distribution.commission import Earner, line_commissions
        from quanzi.distribution.models import Commission, DistributorProfile, DistributorRank
    except ImportError:  # the distribution app is not there: settle without commissions
        Commission = None  # noqa: N806

    prefix = _data.phone_prefix()
    level2 = _data.users_bulk(100, prefix=prefix + "0")
    level1 = _data.users_bulk(1000, prefix=prefix + "1")
    buyers = _data.users_bulk(n_buyers, prefix=prefix + "2")
    _referrers_set(
        [(u.id, level2[i % len(level2)].id) for i, u in enumerate(level1)]
        + [(u.id, level1[i % len(level1)].id) for i, u in enumerate(buyers)]
    )
    up = {u.id: level2[i % len(level2)].id for i, u in enumerate(level1)}
    up.update({u.id: level1[i % len(level1)].id for i, u in enumerate(buyers)})
    if Commission is not None:
        DistributorProfile.objects.bulk_create(
            [DistributorProfile(user_id=u.id) for u in level1 + level2]
        )
        DistributorRank.objects.bulk_create(
            [
                DistributorRank(name="银牌", level=1, min_sales=500_000, multiplier_bp=11_000),
                DistributorRank(name="金牌", level=2, min_sales=5_000_000, multiplier_bp=12_000),
            ]
        )
    sku_ids = _data.catalog_bulk(200, skus_per_product=1)
    skus = {s.pk: s for s in SKU.objects.select_related("product").filter(pk__in=sku_ids)}
    settings = get_settings().distribution
    acc_gw = chart.account_id(chart.gateway("sandbox"))
    acc_cf = chart.account_id(chart.CUSTOMER_FUNDS)
    rng = random.Random(11)
    now = timezone.now()
    completed_at = now - timedelta(days=8)
    ends = now - timedelta(hours=1)
    commissions = 0
    for start in range(0, n_orders, BATCH):
        size = min(BATCH, n_orders - start)
        with transaction.atomic():
            picks = []
            orders = []
            for _ in range(size):
                buyer = buyers[rng.randrange(len(buyers))]
                sku = skus[sku_ids[rng.randrange(len(sku_ids))]]
                qty = rng.randint(1, 3)
                picks.append((buyer, sku, qty))
                amount = sku.price * qty
                orders.append(
                    Order(
                        user_id=buyer.id,
                        status="completed",
                        channel="normal",
                        commission_enabled=True,
                        total=amount,
                        payable=amount,
                        address=dict(_data.ADDRESS),
                        expires_at=completed_at - timedelta(days=6),
                        paid_at=completed_at - timedelta(days=7),
                        shipped_at=completed_at - timedelta(days=6),
                        completed_at=completed_at,
                        after_sales_ends_at=ends,
                    )
                )
            orders = Order.objects.bulk_create(orders)
            lines = OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        sku=sku,
                        product=sku.product,
                        supplier_id=sku.product.supplier_id,
                        title=sku.product.title,
                        sku_name=sku.name,
                        qty=qty,
                        retail_price=sku.price,
                        unit_price=sku.price,
                        supply_price=sku.supply_price,
                        paid=sku.price * qty,
                        breakdown={
                            "retail": sku.price * qty,
                            "channel": sku.price * qty,
                            "coupon": 0,
                            "points": 0,
                            "paid": sku.price * qty,
                        },
                    )
                    for order, (_, sku, qty) in zip(orders, picks, strict=True)
                ]
            )
            payments = Payment.objects.bulk_create(
                [
                    Payment(
                        order=order,
                        gateway="sandbox",
                        out_trade_no=f"BS{order.pk:016d}",
                        amount=order.payable,
                        status=Payment.SUCCEEDED,
                        applied=True,
                        gateway_txn_id=f"BST{order.pk:016d}",
                        params={},
                        captured_at=order.paid_at,
                    )
                    for order in orders
                ]
            )
            entries = JournalEntry.objects.bulk_create(
                [
                    JournalEntry(
                        key=f"payment:{p.pk}",
                        kind="payment",
                        order_id=p.order_id,
                        payment_id=p.pk,
                    )
                    for p in payments
                ]
            )
            Posting.objects.bulk_create(
                [
                    posting
                    for e, p in zip(entries, payments, strict=True)
                    for posting in (
                        Posting(entry=e, account_id=acc_gw, unit="CNY", amount=p.amount),
                        Posting(entry=e, account_id=acc_cf, unit="CNY", amount=-p.amount),
                    )
                ]
            )
            if Commission is not None:
                rows = []
                for order, line in zip(orders, lines, strict=True):
                    l1 = up[order.user_id]
                    earners = [
                        Earner(level=1, user_id=l1, source="referrer", multiplier_bp=10_000),
                        Earner(level=2, user_id=up[l1], source="referrer", multiplier_bp=10_000),
                    ]
                    for share in line_commissions(line, earners, settings):
                        earner, amount, rate, fixed, capped = (
                            share
                            if isinstance(share, tuple)
                            else (
                                share.earner,
                                share.amount,
                                share.rate_bp,
                                share.fixed,
                                share.capped,
                            )
                        )
                        if amount > 0:
                            rows.append(
                                Commission(
                                    order=order,
                                    line=line,
                                    level=earner.level,
                                    beneficiary_id=earner.user_id,
                                    buyer_id=order.user_id,
                                    source=earner.source,
                                    base=line.paid,
                                    qty=line.qty,
                                    rate_bp=rate,
                                    fixed=fixed,
                                    multiplier_bp=earner.multiplier_bp,
                                    capped=capped,
                                    amount=amount,
                                )
                            )
                Commission.objects.bulk_create(rows)
                commissions += len(rows)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"commissions": commissions, "distribution": Commission is not None}


def settle(batch: int, *, chunk: int = 0, show: bool = False) -> tuple[int, float, float]:
    """(orders settled, seconds, statements per order in the first 50)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from quanzi.orders import services
    from quanzi.orders.services import orders_settle_due

    if chunk and hasattr(services, "SWEEP_CHUNK"):
        services.SWEEP_CHUNK = chunk
    t0 = time.monotonic()
    with CaptureQueriesContext(connection) as ctx:
        first = orders_settle_due(batch=50)
    per_order = len(ctx.captured_queries) / max(first, 1)
    if show:
        shown = ctx.captured_queries[: int(per_order) + 2]
        print("--- statements of the first settled order(s):")
        for q in shown:
            print("   ", q["sql"][:200])
    total = first
    while True:
        done = orders_settle_due(batch=batch)
        total += done
        if done == 0:
            break
    return total, time.monotonic() - t0, per_order


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n_buyers = args.buyers or min(args.orders, 20_000)
    report: list[str] = []
    say = report.append
    load_before = os.getloadavg()[0]
    with workspace(args.database_url, keep=args.keep) as (env, created):
        quanzi(env, "migrate")
        django_setup(env)
        if not args.log:
            logging.getLogger("quanzi").setLevel(logging.WARNING)
        t0 = time.monotonic()
        built = build(args.orders, n_buyers)
        build_s = time.monotonic() - t0
        from quanzi.orders import services as order_services

        chunk_used = args.sweep_chunk or getattr(order_services, "SWEEP_CHUNK", 1)
        settled, settle_s, per_order = settle(
            args.batch, chunk=args.sweep_chunk, show=args.show_sql
        )

        from django.db.models import Count

        from quanzi.orders.models import Order

        left = Order.objects.filter(status="completed", settled_at__isnull=True).count()
        available = 0
        if built["distribution"]:
            from quanzi.distribution.models import Commission

            available = (
                Commission.objects.filter(settled_at__isnull=False)
                .aggregate(n=Count("id"))
                .get("n")
            )
        from django.db import connections

        connections.close_all()
        t1 = time.monotonic()
        check = quanzi(env, "ledger", "check", check=False, capture=True)
        check_s = time.monotonic() - t1
        check_line = ((check.stdout or "") + (check.stderr or "")).strip().splitlines()
    rate = settled / settle_s if settle_s else 0.0
    say("Quanzi settlement benchmark")
    say(f"  load average before the run: {load_before:.2f}")
    say(
        f"  data: {args.orders} completed orders of {n_buyers} buyers under 1,000 level-1 and"
        f" 100 level-2 distributors; {built['commissions']} frozen commissions"
        + ("" if built["distribution"] else " (distribution app not installed)")
        + f"; written in {build_s:.1f} s"
    )
    say(
        f"  orders_settle_due (batch {args.batch}): {settled} orders in {settle_s:.1f} s →"
        f" {rate:.0f} orders/s; {available} commissions made available; {left} left unsettled"
    )
    say(f"  SQL statements per settled order (first 50, Django query log): {per_order:.1f}")
    say(f"  orders per transaction in the sweep: {chunk_used}")
    say(
        f"  quanzi ledger check: {check_s:.1f} s (exit {check.returncode}):"
        f" {check_line[-1] if check_line else ''}"
    )
    if check.returncode != 0:
        say("    " + "\n    ".join(check_line[:10]))
    if created and not args.keep:
        say(f"  database {args.database_url.rsplit('/', 1)[-1]} dropped")
    emit(
        report,
        {
            "orders": settled,
            "settle_seconds": round(settle_s, 2),
            "orders_per_s": round(rate, 1),
            "commissions_made_available": available,
            "sql_per_settled_order": round(per_order, 1),
            "ledger_check_seconds": round(check_s, 2),
            "ledger_ok": check.returncode == 0,
            "unsettled": left,
        },
    )
    return 0 if (check.returncode == 0 and left == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
