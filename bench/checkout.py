#!/usr/bin/env python
"""Checkout throughput: C clients place and pay orders through the public API for S seconds.

    python bench/checkout.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench \\
        --seconds 20 --clients 32 [--hot]

What it does, in order:

1. creates the database if it is missing and migrates it (``quanzi migrate``);
2. bulk-creates thousands of users (bearer tokens issued directly) and SKUs;
3. counts the SQL statements the application runs to place and pay one order
   (pg_stat_statements when the server preloads it, else Django's query log of one
   order in this process, through the same views);
4. runs the raw-SQL baseline (``_baseline.py``) with C connections for S seconds;
5. starts ``quanzi serve --workers N`` and drives C asyncio HTTP clients (aiohttp,
   keep-alive where the server allows it): each registers once (POST /auth/register)
   and adds an address, then, for S seconds, POST /orders with ``pay`` (the order and
   its payment in one request) → POST /payments/sandbox/{payment_id}/complete (the
   sandbox pays and notifies), with an Idempotency-Key as the API asks of real
   clients; ``--separate-pay`` uses three requests instead (POST /orders/{id}/pay
   between them), the flow of clients that pay later;
6. computes ``oversold`` from the database (units sold vs. initial stock per SKU);
7. prints a report and, last, one JSON line of figures.

``--hot`` makes every client buy one flash-deal SKU with limited stock: it sells out,
and the ``out_of_stock`` answers after that are expected, not errors.

Exit status: 0 unless there were errors, overselling or a broken ledger; timing never
fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _baseline  # noqa: E402
import _data  # noqa: E402
from _common import (  # noqa: E402
    DEFAULT_URL,
    CommandServer,
    CpuMeter,
    Server,
    cpu_count,
    db_name,
    django_setup,
    emit,
    percentile,
    pg_connect,
    quanzi,
    server_setting,
    workspace,
)

API = "/api/v1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL database to use")
    p.add_argument("--seconds", type=float, default=20, help="length of the timed window")
    p.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    p.add_argument("--hot", action="store_true", help="every client buys one flash-deal SKU")
    p.add_argument(
        "--hot-stock", type=int, default=0, help="units of the flash deal (default 150/s of run)"
    )
    p.add_argument("--workers", type=int, default=0, help="server processes (default one per core)")
    p.add_argument("--threads", type=int, default=2, help="threads per server process")
    p.add_argument("--users", type=int, default=5000, help="users created up front")
    p.add_argument("--products", type=int, default=1500, help="products created (2 SKUs each)")
    p.add_argument("--baseline", choices=["auto", "pgbench", "psycopg", "none"], default="auto")
    p.add_argument("--no-idempotency-key", action="store_true", help="POST without Idempotency-Key")
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="Redis for the server (production configuration: cache, token cache, rate"
        " limits); 'none' runs without it",
    )
    p.add_argument(
        "--separate-pay",
        action="store_true",
        help="place, then POST /orders/{id}/pay, then complete (three requests, not two)",
    )
    p.add_argument(
        "--server-command",
        default="",
        help="serve with this command instead of quanzi serve ({port} is replaced), e.g."
        " another WSGI server of quanzi.wsgi:application",
    )
    p.add_argument(
        "--ledger-check", action="store_true", help="run `quanzi ledger check` at the end"
    )
    p.add_argument("--keep", action="store_true", help="keep the database it created")
    p.add_argument("--show-sql", action="store_true", help="print the SQL of one order")
    return p.parse_args(argv)


# --- SQL per order ----------------------------------------------------------------------


CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _one_order_in_process(
    user: _data.BenchUser, sku_id: int, *, idem: bool, separate: bool, show: bool = False
) -> tuple[list[int], int]:
    """Place and pay one order through the API views in this process.

    Returns the statements of each request and how many of all were transaction
    control (BEGIN, COMMIT, savepoints).
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {user.token}")
    control = 0

    def post(path: str, body: dict) -> tuple[int, dict, int]:
        nonlocal control
        headers = {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if idem else {}
        with CaptureQueriesContext(connection) as ctx:
            answer = client.post(
                API + path, data=json.dumps(body), content_type="application/json", **headers
            )
        if show:
            print(f"--- POST {path}: {len(ctx.captured_queries)} statements")
            for q in ctx.captured_queries:
                print("   ", q["sql"][:300])
        control += sum(q["sql"].lstrip().upper().startswith(CONTROL) for q in ctx.captured_queries)
        return answer.status_code, answer.json(), len(ctx.captured_queries)

    body = {"items": [{"sku_id": sku_id, "qty": 1}], "address_id": user.address_id}
    if not separate:
        body["pay"] = {"gateway": "sandbox"}
    status, order, q1 = post("/orders", body)
    assert status == 201, order
    counts = [q1]
    pay = order["payment"]
    if separate:
        status, pay, q2 = post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"})
        assert status == 200, pay
        counts.append(q2)
    status, done, q3 = post(f"/payments/sandbox/{pay['payment_id']}/complete", {})
    assert status == 200, done
    return counts + [q3], control


def _has_pg_stat_statements(url: str) -> bool:
    if "pg_stat_statements" not in server_setting(url, "shared_preload_libraries"):
        return False
    try:
        with pg_connect(url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return True
    except Exception:  # noqa: BLE001 - no rights or not installed: use the query log
        return False


def sql_per_order(
    url: str,
    users: list[_data.BenchUser],
    sku_id: int,
    *,
    idem: bool,
    separate: bool,
    show: bool = False,
) -> tuple[float, str, list[int], int]:
    """Statements to place and pay one order, how they were counted, per request, and
    how many of them are transaction control (BEGIN, COMMIT, savepoints)."""
    # Warm up first, as a long-lived worker is: ledger account ids are cached per
    # process, and a client's token in the token cache (with Redis) after its first use.
    _one_order_in_process(users[1], sku_id, idem=idem, separate=separate)
    counted, control = _one_order_in_process(
        users[1], sku_id, idem=idem, separate=separate, show=show
    )
    if _has_pg_stat_statements(url):
        from django.db import connection

        n = 10
        with pg_connect(url) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        for user in users[2 : 2 + n]:
            _one_order_in_process(user, sku_id, idem=idem, separate=separate)
        with pg_connect(url) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        for user in users[2 : 2 + n]:
            _one_order_in_process(user, sku_id, idem=idem, separate=separate)
        connection.close()
        with pg_connect(url) as conn:
            (calls,) = conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND query NOT ILIKE '%pg_stat_statements%'"
            ).fetchone()
        return float(calls) / n, "pg_stat_statements (incl. BEGIN/COMMIT)", counted, control
    return (
        float(sum(counted)),
        "Django query log of one order in-process (BEGIN, COMMIT and savepoints included)",
        counted,
        control,
    )


# --- the load driver --------------------------------------------------------------------


@dataclass
class Tally:
    orders: int = 0
    out_of_stock: int = 0
    errors: int = 0
    error_samples: Counter = field(default_factory=Counter)
    request_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(
        default_factory=lambda: {"place": [], "pay": [], "complete": []}
    )
    order_ms: list[float] = field(default_factory=list)
    last_sale: float = 0.0

    def error(self, what: str) -> None:
        self.errors += 1
        self.error_samples[what[:160]] += 1


async def drive(
    base: str,
    *,
    clients: int,
    seconds: float,
    sku_ids: list[int],
    hot_sku: int | None,
    phone_prefix: str,
    idem: bool,
    separate: bool,
    meter: CpuMeter,
) -> tuple[Tally, float, float, float, dict]:
    import random

    import aiohttp

    tally = Tally()
    ready = 0
    all_ready = asyncio.Event()
    window: dict[str, float] = {}
    setup_errors: list[str] = []

    connector = aiohttp.TCPConnector(limit=0, force_close=False, enable_cleanup_closed=True)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        base_url=base, connector=connector, timeout=timeout, json_serialize=json.dumps
    ) as session:

        async def post(path: str, body: dict, token: str | None, key: bool) -> tuple[int, dict]:
            headers = {}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if key:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            async with session.post(API + path, json=body, headers=headers) as answer:
                return answer.status, await answer.json(content_type=None)

        async def client(i: int) -> None:
            nonlocal ready
            rng = random.Random(i)
            try:
                status, body = await post(
                    "/auth/register",
                    {
                        "phone": f"17{phone_prefix}{i:06d}",
                        "password": "secret123",
                        "nickname": f"买家{i}",
                    },
                    None,
                    False,
                )
                if status != 201:
                    raise RuntimeError(f"register: {status} {body}")
                token = body["token"]
                status, body = await post("/me/addresses", _data.ADDRESS, token, False)
                if status != 201:
                    raise RuntimeError(f"address: {status} {body}")
                address_id = body["id"]
            except Exception as exc:  # noqa: BLE001 - reported, the run fails
                setup_errors.append(repr(exc))
                address_id = token = None
            ready += 1
            if ready == clients:
                window["start"] = time.monotonic()
                meter.start()
                all_ready.set()
            await all_ready.wait()
            if token is None:
                return
            deadline = window["start"] + seconds
            while time.monotonic() < deadline:
                sku = hot_sku if hot_sku is not None else rng.choice(sku_ids)
                t0 = time.monotonic()
                try:
                    body = {"items": [{"sku_id": sku, "qty": 1}], "address_id": address_id}
                    if not separate:
                        body["pay"] = {"gateway": "sandbox"}
                    status, order = await post("/orders", body, token, idem)
                    t1 = time.monotonic()
                    tally.request_ms.append((t1 - t0) * 1000)
                    tally.by_kind["place"].append((t1 - t0) * 1000)
                    if status == 409 and order.get("code") == "out_of_stock":
                        tally.out_of_stock += 1
                        continue
                    if status != 201:
                        tally.error(f"place {status} {order.get('code')}")
                        continue
                    pay, t2 = order["payment"], t1
                    if separate:
                        status, pay = await post(
                            f"/orders/{order['id']}/pay", {"gateway": "sandbox"}, token, idem
                        )
                        t2 = time.monotonic()
                        tally.request_ms.append((t2 - t1) * 1000)
                        tally.by_kind["pay"].append((t2 - t1) * 1000)
                        if status != 200:
                            tally.error(f"pay {status} {pay.get('code')}")
                            continue
                    status, done = await post(
                        f"/payments/sandbox/{pay['payment_id']}/complete", {}, token, False
                    )
                    t3 = time.monotonic()
                    tally.request_ms.append((t3 - t2) * 1000)
                    tally.by_kind["complete"].append((t3 - t2) * 1000)
                    if status != 200:
                        tally.error(f"complete {status} {done.get('code')}")
                        continue
                    tally.orders += 1
                    tally.order_ms.append((t3 - t0) * 1000)
                    tally.last_sale = t3
                except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                    tally.error(f"{type(exc).__name__}: {exc}")

        t_setup = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(clients)))
        end = time.monotonic()
    cpu = meter.stop()
    if setup_errors:
        raise SystemExit(f"bench: clients could not register: {setup_errors[:3]}")
    start = window["start"]
    return tally, start - t_setup, start, end, cpu


# --- the database's view ----------------------------------------------------------------


def stock_audit(initial: dict[int, int]) -> dict[str, int]:
    """Units taken per SKU (lines of orders not cancelled) against the initial stock."""
    from django.db.models import Sum

    from quanzi.catalog.models import SKU
    from quanzi.orders.models import OrderLine

    ids = list(initial)
    taken = dict(
        OrderLine.objects.filter(sku_id__in=ids)
        .exclude(order__status="cancelled")
        .values_list("sku_id")
        .annotate(n=Sum("qty"))
        .values_list("sku_id", "n")
    )
    now = dict(SKU.objects.filter(pk__in=ids).values_list("pk", "stock"))
    oversold = sum(max(0, taken.get(i, 0) - initial[i]) for i in ids)
    drift = sum(abs(initial[i] - taken.get(i, 0) - now[i]) for i in ids)
    negative = sum(1 for i in ids if now[i] < 0)
    return {
        "oversold": oversold,
        "stock_drift": drift,
        "negative_stock": negative,
        "taken": sum(taken.values()),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cores = cpu_count()
    workers = args.workers or cores
    hot_stock = args.hot_stock or max(50, int(150 * args.seconds))
    idem = not args.no_idempotency_key
    separate = args.separate_pay
    kinds = "place, pay, complete" if separate else "place and start paying, complete"
    report: list[str] = []
    say = report.append
    load_before = os.getloadavg()[0]

    redis_url = "" if args.redis_url == "none" else args.redis_url
    with workspace(args.database_url, keep=args.keep) as (env, created):
        if redis_url:
            env.extra["QUANZI_REDIS_URL"] = redis_url
        t0 = time.monotonic()
        quanzi(env, "migrate")
        django_setup(env)
        logging.getLogger("quanzi").setLevel(logging.WARNING)  # this process's own logs
        # One load driver is one client IP: let its clients all sign up.
        from django.db import transaction

        from quanzi.catalog.models import SKU
        from quanzi.core.platform_settings import settings_update
        from quanzi.ledger import accounts as chart

        with transaction.atomic():
            settings_update(
                patch={
                    "rate_limits": {"register_per_ip": {"limit": 1_000_000, "window_seconds": 60}}
                }
            )
        prefix = _data.phone_prefix()
        users = _data.users_bulk(args.users, prefix=prefix)
        sku_ids = _data.catalog_bulk(args.products)
        hot = _data.hot_sku(stock=hot_stock) if args.hot else None
        acc_gw = chart.account_id(chart.gateway("sandbox"))
        acc_cf = chart.account_id(chart.CUSTOMER_FUNDS)
        setup_s = time.monotonic() - t0

        mine = sku_ids + ([hot] if hot else [])
        initial = dict(SKU.objects.filter(pk__in=mine).values_list("pk", "stock"))
        per_order, per_order_how, per_request, control = sql_per_order(
            args.database_url, users, sku_ids[0], idem=idem, separate=separate, show=args.show_sql
        )

        baseline = {"tool": "none", "tps": 0.0, "transactions": 0, "failed": 0}
        if args.baseline != "none":
            _baseline.prepare(args.database_url, sku_ids=mine)
            baseline = _baseline.run(
                args.database_url,
                tool=args.baseline,
                clients=args.clients,
                seconds=args.seconds,
                threads=cores,
                uid_range=(users[0].id, users[-1].id),
                sku_range=(hot, hot) if hot else (min(sku_ids), max(sku_ids)),
                accounts=(acc_gw, acc_cf),
            )
            _baseline.drop(args.database_url)

        from django.db import connections

        connections.close_all()
        if args.server_command:
            server: Server = CommandServer(env, args.server_command)
        else:
            server = Server(env, workers=workers, threads=args.threads)
        server.start()
        try:
            meter = CpuMeter(server, dbname=db_name(args.database_url))
            tally, register_s, start, end, cpu = asyncio.run(
                drive(
                    server.base,
                    clients=args.clients,
                    seconds=args.seconds,
                    sku_ids=sku_ids,
                    hot_sku=hot,
                    phone_prefix=prefix,
                    idem=idem,
                    separate=separate,
                    meter=meter,
                )
            )
            rss = server.rss_mb()
            logged_errors = server.errors_logged()
        except BaseException:
            print(f"--- server log (last lines):\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()

        audit = stock_audit(initial)
        ledger_ok = None
        if args.ledger_check:
            done = quanzi(env, "ledger", "check", check=False, capture=True)
            ledger_ok = done.returncode == 0
            ledger_line = (done.stdout or done.stderr).strip().splitlines()[-1:]

    elapsed = end - start
    selling = elapsed
    if hot is not None and tally.orders and audit["taken"] >= hot_stock:
        selling = max(tally.last_sale - start, 1e-6)  # sold out: the rate while it lasted
    orders_per_s = tally.orders / selling if tally.orders else 0.0
    requests = len(tally.request_ms)
    ratio = orders_per_s / baseline["tps"] if baseline["tps"] else 0.0
    p = {q: percentile(tally.request_ms, q) for q in (50, 95, 99)}
    po = {q: percentile(tally.order_ms, q) for q in (50, 95, 99)}

    say(f"Quanzi checkout benchmark — {'hot SKU (flash deal)' if hot else 'spread over SKUs'}")
    say(
        f"  load average before the run: {load_before:.2f} (other work on the machine skews figures)"
    )
    serving = args.server_command or f"quanzi serve --workers {workers} --threads {args.threads}"
    say(
        f"  machine: {cores} cores; server: {serving}"
        f" ({'Redis ' + redis_url if redis_url else 'no Redis'}); "
        f"clients: {args.clients}; window: {args.seconds:g} s"
    )
    say(
        f"  data: {args.users} users, {len(sku_ids)} SKUs"
        + (f", flash deal of {hot_stock} units" if hot else "")
        + f" (setup {setup_s:.1f} s; {args.clients} registrations took {register_s:.1f} s)"
    )
    say(
        f"  orders placed and paid: {tally.orders} in {elapsed:.1f} s → {orders_per_s:.1f} orders/s"
        + (f" (sold out after {selling:.1f} s)" if hot and selling < elapsed else "")
    )
    say(
        f"  requests: {requests} ({requests / elapsed:.0f}/s); latency per request "
        f"p50 {p[50]:.1f} ms, p95 {p[95]:.1f} ms, p99 {p[99]:.1f} ms"
    )
    for kind, values in tally.by_kind.items():
        if values:
            say(
                f"    {kind:<8} n={len(values):<6} p50 {percentile(values, 50):.1f} ms, "
                f"p99 {percentile(values, 99):.1f} ms"
            )
    say(
        f"  per order ({len(per_request)} requests): p50 {po[50]:.1f} ms, p95 {po[95]:.1f} ms, p99 {po[99]:.1f} ms"
    )
    if hot:
        say(f"  out_of_stock answers (expected once sold out): {tally.out_of_stock}")
    say(f"  errors: {tally.errors}" + (f" {dict(tally.error_samples)}" if tally.errors else ""))
    say(f"  server errors logged: {logged_errors}")
    say(
        f"  stock: {audit['taken']} units taken; oversold {audit['oversold']}; "
        f"drift {audit['stock_drift']}; negative {audit['negative_stock']}"
    )
    say(
        f"  SQL per order: {per_order:g} — {per_order_how}; per request ({kinds}): "
        f"{per_request}; of them BEGIN/COMMIT/savepoints: {control}, data statements: "
        f"{sum(per_request) - control}"
    )
    say(
        f"  baseline ({baseline['tool']}, {args.clients} connections, same transaction shape): "
        f"{baseline['tps']:.0f} tx/s ({baseline['failed']} failed); ratio {ratio:.3f}"
    )
    say(
        f"  CPU share of the machine during the window: server {cpu['server_share']:.0%}, "
        f"PostgreSQL {cpu['postgres_share']:.0%}, driver {cpu['driver_share']:.0%}; "
        f"machine busy {cpu['machine_busy_share']:.0%}"
    )
    cpu_ms = {
        key: cpu[f"{key}_share"] * elapsed * cores * 1000 / tally.orders if tally.orders else 0.0
        for key in ("server", "postgres", "driver")
    }
    ceiling = cores * 1000 / max(sum(cpu_ms.values()), 1e-9) if tally.orders else 0.0
    say(
        f"  CPU per order: server {cpu_ms['server']:.1f} ms, PostgreSQL {cpu_ms['postgres']:.1f} ms,"
        f" driver {cpu_ms['driver']:.1f} ms → at most ~{ceiling:.0f} orders/s on {cores} idle cores"
    )
    processes = "the command's processes" if args.server_command else f"{workers} workers + master"
    say(f"  server RSS: {rss:.0f} MB ({processes})")
    if ledger_ok is not None:
        say(f"  ledger check: {'ok' if ledger_ok else 'FAILED'} {ledger_line}")
    if created and not args.keep:
        say(f"  database {args.database_url.rsplit('/', 1)[-1]} dropped")

    figures = {
        "orders_per_s": round(orders_per_s, 1),
        "p50_ms": round(p[50], 1),
        "p95_ms": round(p[95], 1),
        "p99_ms": round(p[99], 1),
        "errors": tally.errors,
        "oversold": audit["oversold"],
        "baseline_sql_tps": round(baseline["tps"], 1),
        "ratio": round(ratio, 3),
        "server_rss_mb": round(rss, 1),
        "sql_per_order": per_order,
        "driver_cpu_share": round(cpu["driver_share"], 3),
        # context
        "sql_per_order_source": per_order_how.split(" (")[0],
        "sql_data_statements_per_order": sum(per_request) - control,
        "sql_per_request": per_request,
        "flow": "place+pay+complete" if separate else "checkout-and-pay+complete",
        "redis": bool(redis_url),
        "latency_of": "request",
        "order_p99_ms": round(po[99], 1),
        "out_of_stock": tally.out_of_stock,
        "clients": args.clients,
        "workers": None if args.server_command else workers,
        "threads": None if args.server_command else args.threads,
        "server": serving,
        "hot": bool(hot),
        "server_cpu_share": round(cpu["server_share"], 3),
        "server_cpu_ms_per_order": round(cpu_ms["server"], 1),
        "postgres_cpu_ms_per_order": round(cpu_ms["postgres"], 1),
        "cpu_bound_orders_per_s": round(ceiling, 1),
        "load_before": round(load_before, 2),
        "postgres_cpu_share": round(cpu["postgres_share"], 3),
    }
    emit(report, figures)
    bad = tally.errors or audit["oversold"] or audit["stock_drift"] or ledger_ok is False
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
