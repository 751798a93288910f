#!/usr/bin/env python
"""Group buying: C clients racing to join and pay groups, then the expiry sweep.

    python bench/groups.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench \\
        --seconds 20 --clients 32 --expired 10000

1. **Joins**: a campaign of groups of ``--size`` (default 5) is created through the API;
   ``quanzi serve`` runs; C buyers (made in bulk with a token and an address: 32
   registrations through the API would meet the per-IP limit) start; the first
   ``--preopen`` of them open and pay a group each before the clock starts (not timed);
   then for S seconds every client goes for the *same* group (the oldest forming one the
   driver knows): POST /groups/{id}/join, then pay it (POST /orders/{id}/pay, sandbox
   complete). When no group is forming, a client opens one (POST /groups) and pays.
   Reported: request latency of all requests and of the join requests alone. ``group_full``,
   ``already_joined``, ``own_group``, ``group_closed`` answers are the race being lost,
   not errors. At the end the database says how many groups hold more paying or
   reserved members than their size (``overfilled``, must be 0).
2. **Sweep**: ``--expired`` forming groups whose time ran out (each with its leader's
   paid order), written in bulk in the shape the group-buying code writes them; then
   ``groupbuy.services.groups_expire_due`` runs until nothing is due: every group fails
   and every paid order is refunded along its original path (refunds run in-process
   after each commit, as in the embedded mode). Then ``quanzi ledger check``.

Exit status: 0 unless there were errors, overfilled groups, refunds left undone or a
broken ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _common import (  # noqa: E402
    DEFAULT_URL,
    CpuMeter,
    Server,
    cpu_count,
    db_name,
    django_setup,
    emit,
    percentile,
    quanzi,
    workspace,
)

API = "/api/v1"
RACE_LOST = {"group_full", "already_joined", "own_group", "group_closed", "group_not_open"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--size", type=int, default=5, help="members per group")
    p.add_argument(
        "--preopen",
        type=int,
        default=8,
        help="groups opened and paid (by the first clients, not timed) before the clock starts",
    )
    p.add_argument("--workers", type=int, default=0, help="server processes (default one per core)")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads per server process (`quanzi serve --threads`)",
    )
    p.add_argument("--expired", type=int, default=10_000, help="expired groups for the sweep")
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="Redis for the server (production configuration: cache, token cache, rate"
        " limits; the bench empties this database first; background work still runs in the"
        " server process); 'none' runs without it",
    )
    p.add_argument("--log", action="store_true", help="keep INFO logs of this process")
    p.add_argument("--keep", action="store_true", help="keep the database it created")
    return p.parse_args(argv)


def _groupbuy_installed() -> bool:
    try:
        from quanzi.groupbuy import api, services  # noqa: F401
    except ImportError:
        return False
    return hasattr(services, "groups_expire_due")


def campaign_make(operator, sku_ids: list[int], *, size: int) -> int:
    """A campaign through the operator API (in this process), on one product's SKU."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {operator.token}")
    body = {
        "title": "压测拼团",
        "skus": [{"sku_id": sku_ids[0], "group_price": 990}],
        "group_size": size,
        "group_ttl_seconds": 3600,
        "per_user_limit": 10_000,
        "stock": 10_000_000,
    }
    answer = client.post(
        API + "/admin/group-campaigns", data=json.dumps(body), content_type="application/json"
    )
    if answer.status_code != 201:
        raise SystemExit(f"bench: campaign not created: {answer.status_code} {answer.content!r}")
    return answer.json()["id"]


async def race(
    base: str,
    *,
    people: list[_data.BenchUser],
    seconds: float,
    campaign_id: int,
    sku_id: int,
    meter,
    preopen: int,
):
    import aiohttp

    clients = len(people)

    pool: list[int] = []  # forming groups, oldest first
    tally = Counter()
    lost = Counter()
    latency: list[float] = []
    join_latency: list[float] = []
    placed_latency: list[float] = []  # the joins answered 201 (a place and an order)
    errors: Counter = Counter()
    ready = 0
    go = asyncio.Event()
    window: dict[str, float] = {}

    async with aiohttp.ClientSession(
        base_url=base,
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=60),
    ) as session:

        async def post(path, body, token=None, key=False):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if key:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            t0 = time.monotonic()
            async with session.post(API + path, json=body, headers=headers) as answer:
                data = await answer.json(content_type=None)
            took = (time.monotonic() - t0) * 1000
            if "start" not in window:
                return answer.status, data  # setting up: not timed
            latency.append(took)
            if path.endswith("/join"):
                join_latency.append(took)
                if answer.status == 201:
                    placed_latency.append(took)
            return answer.status, data

        async def pay(order_id: int, token: str) -> bool:
            status, body = await post(
                f"/orders/{order_id}/pay", {"gateway": "sandbox"}, token, True
            )
            if status != 200:
                errors[f"pay {status} {body.get('code')}"] += 1
                return False
            status, body = await post(f"/payments/sandbox/{body['payment_id']}/complete", {}, token)
            if status != 200:
                errors[f"complete {status} {body.get('code')}"] += 1
                return False
            return True

        async def client(i: int) -> None:
            nonlocal ready
            rng = random.Random(i)
            # Buyers made in bulk with a token and an address (registering 32 people
            # through the API would meet the per-IP registration limit).
            token, address_id = people[i].token, people[i].address_id
            skip: set[int] = set()
            if i < preopen:
                # Groups to join when the clock starts (not timed): without them every
                # client would open a group of its own first.
                status, body = await post(
                    "/groups",
                    {
                        "campaign_id": campaign_id,
                        "sku_id": sku_id,
                        "qty": 1,
                        "address_id": address_id,
                    },
                    token,
                    True,
                )
                if status != 201 or not await pay(body["order_id"], token):
                    raise SystemExit(f"bench: a group to start with was not opened: {body}")
                pool.append(body["group_id"])
                skip.add(body["group_id"])
            ready += 1
            if ready == clients:
                window["start"] = time.monotonic()
                meter.start()
                go.set()
            await go.wait()
            deadline = window["start"] + seconds
            while time.monotonic() < deadline:
                target = next((g for g in pool if g not in skip), None)
                try:
                    if target is None:
                        status, body = await post(
                            "/groups",
                            {
                                "campaign_id": campaign_id,
                                "sku_id": sku_id,
                                "qty": 1,
                                "address_id": address_id,
                            },
                            token,
                            True,
                        )
                        if status != 201:
                            errors[f"open {status} {body.get('code')}"] += 1
                            continue
                        if await pay(body["order_id"], token):
                            tally["opened"] += 1
                            pool.append(body["group_id"])
                            skip.add(body["group_id"])  # one's own group
                        continue
                    status, body = await post(
                        f"/groups/{target}/join",
                        {"sku_id": sku_id, "qty": 1, "address_id": address_id},
                        token,
                        True,
                    )
                    if status == 201:
                        tally["reserved"] += 1
                        skip.add(target)
                        if await pay(body["order_id"], token):
                            tally["joined"] += 1
                        continue
                    code = body.get("code")
                    if status == 409 and code in RACE_LOST:
                        lost[code] += 1
                        skip.add(target)
                        if code in ("group_full", "group_closed") and target in pool:
                            pool.remove(target)
                        continue
                    errors[f"join {status} {code}"] += 1
                except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                    errors[type(exc).__name__] += 1
                await asyncio.sleep(rng.random() / 1000)

        await asyncio.gather(*(client(i) for i in range(clients)))
    end = time.monotonic()
    return (
        tally,
        lost,
        errors,
        latency,
        (join_latency, placed_latency),
        end - window["start"],
        meter.stop(),
    )


def overfilled() -> dict[str, int]:
    from django.db.models import Count, F, Q

    from quanzi.groupbuy.models import Group

    groups = Group.objects.annotate(
        paid=Count("members", filter=Q(members__status="paid")),
        active=Count("members", filter=Q(members__status__in=["paid", "reserved"])),
    )
    return {
        "groups": Group.objects.count(),
        "succeeded": Group.objects.filter(status="succeeded").count(),
        "overfilled": groups.filter(Q(paid__gt=F("size")) | Q(active__gt=F("size"))).count(),
        "paid_count_off": groups.exclude(paid_count=F("paid")).count(),
    }


def expired_bulk(n: int, *, sku_id: int, campaign_id: int, leaders: list[_data.BenchUser]) -> None:
    """``n`` forming groups past their time, each with its leader's paid order."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from quanzi.catalog.models import SKU
    from quanzi.groupbuy.models import Group, GroupCampaign, GroupMember, UserQuota
    from quanzi.ledger import accounts as chart
    from quanzi.ledger.models import JournalEntry, Posting
    from quanzi.orders.models import Order, OrderLine
    from quanzi.payments.models import Payment

    sku = SKU.objects.select_related("product").get(pk=sku_id)
    campaign = GroupCampaign.objects.get(pk=campaign_id)
    price = min(campaign.skus.get(sku=sku).group_price, sku.price)
    acc_gw = chart.account_id(chart.gateway("sandbox"))
    acc_cf = chart.account_id(chart.CUSTOMER_FUNDS)
    now = timezone.now()
    formed = now - timedelta(hours=2)
    expired = now - timedelta(minutes=5)
    units: Counter = Counter()
    for start in range(0, n, 2000):
        size = min(2000, n - start)
        chosen = [leaders[(start + i) % len(leaders)] for i in range(size)]
        with transaction.atomic():
            groups = Group.objects.bulk_create(
                [
                    Group(
                        campaign=campaign,
                        leader_id=u.id,
                        size=campaign.group_size,
                        status="forming",
                        paid_count=1,
                        formed_at=formed,
                        expires_at=expired,
                    )
                    for u in chosen
                ]
            )
            orders = Order.objects.bulk_create(
                [
                    Order(
                        user_id=u.id,
                        status="grouping",
                        channel="group",
                        channel_ref=str(g.pk),
                        commission_enabled=False,
                        total=sku.price,
                        discount=sku.price - price,
                        payable=price,
                        address=dict(_data.ADDRESS),
                        expires_at=formed,
                        paid_at=formed,
                    )
                    for u, g in zip(chosen, groups, strict=True)
                ]
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=o,
                        sku=sku,
                        product=sku.product,
                        supplier_id=sku.product.supplier_id,
                        title=sku.product.title,
                        sku_name=sku.name,
                        qty=1,
                        retail_price=sku.price,
                        unit_price=price,
                        supply_price=sku.supply_price,
                        paid=price,
                        breakdown={
                            "retail": sku.price,
                            "channel": price,
                            "coupon": 0,
                            "points": 0,
                            "paid": price,
                        },
                    )
                    for o in orders
                ]
            )
            payments = Payment.objects.bulk_create(
                [
                    Payment(
                        order=o,
                        gateway="sandbox",
                        out_trade_no=f"BG{o.pk:016d}",
                        amount=price,
                        status=Payment.SUCCEEDED,
                        applied=True,
                        gateway_txn_id=f"BGT{o.pk:016d}",
                        params={},
                        captured_at=formed,
                    )
                    for o in orders
                ]
            )
            from quanzi.payments.models import SandboxRecord

            SandboxRecord.objects.bulk_create(
                [
                    SandboxRecord(
                        kind="charge",
                        number=p.out_trade_no,
                        amount=p.amount,
                        reference=p.gateway_txn_id,
                    )
                    for p in payments
                ]
            )
            entries = JournalEntry.objects.bulk_create(
                [
                    JournalEntry(
                        key=f"payment:{p.pk}", kind="payment", order_id=p.order_id, payment_id=p.pk
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
            GroupMember.objects.bulk_create(
                [
                    GroupMember(
                        group=g,
                        user_id=u.id,
                        order=o,
                        sku=sku,
                        qty=1,
                        is_leader=True,
                        status="paid",
                        paid_at=formed,
                    )
                    for u, g, o in zip(chosen, groups, orders, strict=True)
                ]
            )
            units.update(u.id for u in chosen)
    existing = dict(
        UserQuota.objects.filter(campaign=campaign, user_id__in=list(units)).values_list(
            "user_id", "pk"
        )
    )
    UserQuota.objects.bulk_create(
        [
            UserQuota(campaign=campaign, user_id=uid, units=k)
            for uid, k in units.items()
            if uid not in existing
        ]
    )
    for uid, k in units.items():
        if uid in existing:
            UserQuota.objects.filter(pk=existing[uid]).update(units=F("units") + k)
    GroupCampaign.objects.filter(pk=campaign.pk).update(stock=F("stock") - n)
    SKU.objects.filter(pk=sku.pk).update(stock=F("stock") - n)


def sweep(n: int) -> dict[str, float]:
    from django.db import connection

    from quanzi.groupbuy.services import groups_expire_due, groups_refund_stragglers
    from quanzi.orders.models import Refund
    from quanzi.payments.services import refunds_retry

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    t0 = time.monotonic()
    closed = 0
    while True:
        done = groups_expire_due()
        closed += done
        if done == 0:
            break
    swept_s = time.monotonic() - t0
    groups_refund_stragglers()
    refunds_retry()
    total_s = time.monotonic() - t0
    return {
        "closed": closed,
        "seconds": swept_s,
        "with_stragglers_s": total_s,
        "refunds_succeeded": Refund.objects.filter(kind="auto", status="succeeded").count(),
        "refunds_open": Refund.objects.exclude(status__in=["succeeded", "rejected"]).count(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workers = args.workers or cpu_count()
    report: list[str] = []
    say = report.append
    load_before = os.getloadavg()[0]
    figures: dict = {}
    bad = False
    redis_url = "" if args.redis_url == "none" else args.redis_url
    with workspace(args.database_url, keep=args.keep) as (env, created):
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()  # cached rows of an earlier run's database
            env.extra["QUANZI_REDIS_URL"] = redis_url
            # No Celery worker runs here: background work (shipping a succeeded group's
            # orders) runs in the server after each commit, so its CPU is measured.
            env.extra["QUANZI_TASKS_EAGER"] = "1"
        quanzi(env, "migrate")
        django_setup(env)
        if not args.log:
            logging.getLogger("quanzi").setLevel(logging.WARNING)
        if not _groupbuy_installed():
            say(
                "Quanzi group-buying benchmark: the group-buying app (quanzi.groupbuy) is not there"
            )
            emit(report, {"groupbuy": False})
            return 0
        from django.contrib.auth import get_user_model

        prefix = _data.phone_prefix()
        users = _data.users_bulk(max(200, min(args.expired, 2000)) + args.clients, prefix=prefix)
        buyers, users = users[-args.clients :], users[: -args.clients]
        get_user_model().objects.filter(pk=users[0].id).update(is_operator=True, is_staff=True)
        sku_ids = _data.catalog_bulk(20, skus_per_product=1)
        campaign_id = campaign_make(users[0], sku_ids, size=args.size)

        from django.db import connections

        connections.close_all()
        server = Server(env, workers=workers, threads=args.threads)
        server.start()
        try:
            meter = CpuMeter(server, dbname=db_name(args.database_url))
            tally, lost, errors, latency, (join_latency, placed_latency), elapsed, cpu = (
                asyncio.run(
                    race(
                        server.base,
                        people=buyers,
                        preopen=min(args.preopen, args.clients),
                        seconds=args.seconds,
                        campaign_id=campaign_id,
                        sku_id=sku_ids[0],
                        meter=meter,
                    )
                )
            )
        except BaseException:
            print(f"--- server log (last lines):\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
        load_after = os.getloadavg()[0]
        fill = overfilled()
        joins_s = tally["joined"] / elapsed if elapsed else 0.0
        say("Quanzi group-buying benchmark")
        say(f"  load average before the run: {load_before:.2f}, after the race: {load_after:.2f}")
        say(
            f"  race: {args.clients} clients, groups of {args.size}, {args.seconds:g} s, "
            f"quanzi serve --workers {workers} --threads {args.threads} ({'Redis ' + redis_url if redis_url else 'no Redis'})"
        )
        say(
            f"  paid joins: {tally['joined']} ({joins_s:.1f}/s); slots reserved {tally['reserved']};"
            f" groups opened and paid by clients {tally['opened']} (+{min(args.preopen, args.clients)} before the clock); groups {fill['groups']},"
            f" succeeded {fill['succeeded']}"
        )
        say(f"  races lost (expected answers): {dict(lost)}")
        say(f"  errors: {sum(errors.values())} {dict(errors) if errors else ''}")
        say(
            f"  request latency p50 {percentile(latency, 50):.1f} ms, p99 {percentile(latency, 99):.1f} ms;"
            f" CPU: server {cpu['server_share']:.0%}, PostgreSQL {cpu['postgres_share']:.0%},"
            f" driver {cpu['driver_share']:.0%}"
        )
        say(
            f"  join requests ({len(join_latency)}): p50 {percentile(join_latency, 50):.1f} ms,"
            f" p99 {percentile(join_latency, 99):.1f} ms; of them the {len(placed_latency)} that"
            f" got a place: p50 {percentile(placed_latency, 50):.1f} ms,"
            f" p99 {percentile(placed_latency, 99):.1f} ms"
        )
        say(
            f"  overfilled groups: {fill['overfilled']}; groups whose paid_count disagrees with"
            f" their paid members: {fill['paid_count_off']}"
        )
        figures.update(
            {
                "redis": bool(redis_url),
                "workers": workers,
                "threads": args.threads,
                "joins_per_s": round(joins_s, 1),
                "joined": tally["joined"],
                "overfilled": fill["overfilled"],
                "errors": sum(errors.values()),
                "p99_ms": round(percentile(latency, 99), 1),
                "p50_ms": round(percentile(latency, 50), 1),
                "join_p50_ms": round(percentile(join_latency, 50), 1),
                "join_p99_ms": round(percentile(join_latency, 99), 1),
                "placed_join_p50_ms": round(percentile(placed_latency, 50), 1),
                "placed_join_p99_ms": round(percentile(placed_latency, 99), 1),
                "group_full": lost["group_full"],
                "driver_cpu_share": round(cpu["driver_share"], 3),
            }
        )
        bad = bool(errors or fill["overfilled"] or fill["paid_count_off"])

        if args.expired:
            t0 = time.monotonic()
            expired_bulk(
                args.expired, sku_id=sku_ids[0], campaign_id=campaign_id, leaders=users[1:]
            )
            build_s = time.monotonic() - t0
            swept = sweep(args.expired)
            connections.close_all()
            t1 = time.monotonic()
            check = quanzi(env, "ledger", "check", check=False, capture=True)
            check_s = time.monotonic() - t1
            lines = ((check.stdout or "") + (check.stderr or "")).strip().splitlines()
            rate = swept["closed"] / swept["seconds"] if swept["seconds"] else 0.0
            say(
                f"  sweep: {args.expired} expired groups (leader paid; written in {build_s:.1f} s):"
                f" groups_expire_due closed {swept['closed']} in {swept['seconds']:.1f} s"
                f" ({rate:.0f} groups/s) and refunded {swept['refunds_succeeded']} orders"
                f" in-process; refunds still open {swept['refunds_open']}"
            )
            say(
                f"  quanzi ledger check: {check_s:.1f} s (exit {check.returncode}): {lines[-1] if lines else ''}"
            )
            figures.update(
                {
                    "expired_groups": args.expired,
                    "sweep_seconds": round(swept["seconds"], 2),
                    "groups_failed_per_s": round(rate, 1),
                    "refunds_succeeded": swept["refunds_succeeded"],
                    "refunds_open": swept["refunds_open"],
                    "ledger_check_seconds": round(check_s, 2),
                    "ledger_ok": check.returncode == 0,
                }
            )
            bad = (
                bad
                or swept["refunds_open"] > 0
                or check.returncode != 0
                or swept["closed"] != args.expired
            )
        if created and not args.keep:
            say(f"  database {args.database_url.rsplit('/', 1)[-1]} dropped")
    emit(report, figures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
