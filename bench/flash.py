#!/usr/bin/env python
"""Flash sale: C clients hitting one flash SKU at its start, and beside it the one-row limit.

    python bench/flash.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench \\
        --clients 64 --allotment 1000

1. A flash sale of one SKU (``--allotment`` units, one per buyer, ``--buckets`` bucket
   rows) is created in-process once ``quanzi serve`` is up, starting now. C asyncio
   clients then buy through the public API (``POST /flash-sales/{id}/orders``, each
   request a different signed-in buyer), until every client has been told
   ``out_of_stock`` (or ``--seconds`` pass). The server runs with the Redis gate
   (``--redis-url``, default ``redis://127.0.0.1:6379/15``, keys under a prefix of this
   run's own) or, with ``--redis-url none``, in the embedded mode (the bucket rows alone).
   With the gate the default is the queue mode: the request answers ``202`` with a
   ticket and ``--writers`` processes (``manage.py flash_write --follow``, what a
   Celery worker runs in production) write the orders ``--batch`` per transaction;
   ``--no-queue`` makes each request write its own order. **accepted orders/s** are
   the tickets granted (and then written as orders) ÷ the time to the last grant;
   **written** is when the last order was written, and **ticket → order** the time from
   a buyer's 202 to the commit of its order (``FlashOrder.created_at``).
2. From the database at the end: **oversold** (units on live orders beyond the
   allotment, must be 0) and **lost** (allotment − sold − left in the buckets, must be
   0; with the gate, also the gate's count after the reconciler against the buckets).
3. **One-row limit**: the raw-SQL conditional ``UPDATE … SET stock = stock − 1 WHERE id
   = 1 AND stock >= 1`` + ``COMMIT`` on one row, by C psycopg connections (threads) for
   ``--baseline-seconds``: what any design taking every unit from one row could reach.

``--driver wrk`` buys with wrk's C clients (``bench/flash_wrk.lua``) instead of aiohttp's,
so that the load generator takes little of the cores the server runs on, and measures the
one-row limit also with pgbench's C clients (``BEGIN``/``UPDATE``/``COMMIT``, and the
``UPDATE`` alone in autocommit): the ratio is to the highest of the one-row figures.
Every run prints the clients' own CPU per request. ``--sold-out-seconds F`` (wrk) keeps
the buyers asking for F seconds after the sale sold out, as a crowd does, and reports the
``out_of_stock`` answers per second and the server's CPU per request.

Exit status: 0 unless there were errors, oversold units or lost units.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _baseline import pgbench  # noqa: E402
from _common import (  # noqa: E402
    REPO,
    Front,
    Server,
    cpu_count,
    django_setup,
    emit,
    percentile,
    pg_connect,
    proc_cpu_seconds,
    quanzi,
    workspace,
)


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/qz_bench_flash")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--allotment", type=int, default=1000)
    ap.add_argument("--buckets", type=int, default=16)
    ap.add_argument(
        "--users", type=int, default=0, help="buyers (default: allotment + 2 × clients)"
    )
    ap.add_argument("--seconds", type=float, default=60, help="give up after this long")
    ap.add_argument("--workers", type=int, default=cpu_count(), help="server processes")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    ap.add_argument("--baseline-seconds", type=float, default=5)
    ap.add_argument(
        "--cold-tokens", action="store_true", help="no GET /me per buyer before the start"
    )
    ap.add_argument("--no-queue", action="store_true", help="with the gate: write in the request")
    ap.add_argument("--writers", type=int, default=1, help="queue mode: writer processes")
    ap.add_argument("--batch", type=int, default=100, help="queue mode: orders per transaction")
    ap.add_argument(
        "--no-fast-path", action="store_true", help="every request through Django's stack"
    )
    ap.add_argument("--threads", type=int, default=2, help="threads per server process")
    ap.add_argument(
        "--front-workers",
        type=int,
        default=cpu_count(),
        help="queue mode: `quanzi front` processes the buys go to (0: the buys go to `quanzi serve`)",
    )
    ap.add_argument(
        "--writer-nice", type=int, default=0, help="queue mode: the writers' nice value"
    )
    ap.add_argument(
        "--driver",
        choices=("aiohttp", "wrk"),
        default="aiohttp",
        help="the buyers: Python's aiohttp, or wrk's C clients (bench/flash_wrk.lua); with "
        "wrk the one-row limit is also measured by pgbench's C clients",
    )
    ap.add_argument(
        "--sold-out-seconds",
        type=float,
        default=0,
        help="--driver wrk: the buyers go on asking this long after the sale sold out (refusals/s)",
    )
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.sold_out_seconds and args.driver != "wrk":
        ap.error("--sold-out-seconds needs --driver wrk")
    return args


@dataclass
class Run:
    """What the buyers saw: answers by code, latency percentiles, the window from the
    first buy sent to the last grant, and the driver's own CPU."""

    window: float
    codes: Counter
    p50_ms: float
    p99_ms: float
    requests: int
    driver_cpu: float
    tickets: dict = field(default_factory=dict)  # ticket → wall time of its 202 (aiohttp)
    started_wall: float = 0.0  # wall time of the first buy sent (wrk)
    refusals_per_s: float | None = None  # out_of_stock answers/s after the sale sold out

    @property
    def accepted(self) -> int:
        return self.codes["accepted"]


def drive_aiohttp(base: str, sale_id: int, sku_id: int, users, clients: int, seconds: float):
    cpu0 = time.process_time()
    latencies, accepted_at, codes, elapsed, tickets = asyncio.run(
        drive(base, sale_id, sku_id, users, clients, seconds)
    )
    return Run(
        window=accepted_at[-1] if accepted_at else elapsed,
        codes=codes,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        requests=len(latencies),
        driver_cpu=time.process_time() - cpu0,
        tickets=tickets,
    )


def drive_wrk(
    base: str, sale_id: int, sku_id: int, users, clients: int, seconds: float, data, flood=0.0
):
    """wrk's C clients (``bench/flash_wrk.lua``), ended once every thread has stopped;
    with ``flood`` they go on asking for that many seconds after the sale sold out."""
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("--driver wrk needs wrk on the PATH (Debian: apt-get install wrk)")
    threads = max(1, min(cpu_count(), clients))
    buyers = Path(data) / "flash-buyers.txt"
    buyers.write_text("".join(f"{u.token} {u.address_id}\n" for u in users))
    wall0, mono0 = time.time(), time.monotonic()
    proc = subprocess.Popen(
        [wrk, "-t", str(threads), "-c", str(clients), "-d", f"{max(1, int(seconds))}s"]
        + ["-s", str(Path(__file__).resolve().parent / "flash_wrk.lua"), base, "--"]
        + [str(buyers), str(threads), f"/api/v1/flash-sales/{sale_id}/orders", str(sku_id)]
        + [str(flood)],
        stdout=subprocess.PIPE,
        text=True,
    )
    stopped, result = 0, None
    for line in proc.stdout:
        if line.strip() == "stopped":
            stopped += 1
            if stopped == threads:  # wrk sleeps its whole -d otherwise; SIGINT ends it
                proc.send_signal(signal.SIGINT)
        elif line.startswith("result "):
            result = json.loads(line[len("result ") :])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if result is None:
        raise SystemExit(f"wrk printed no result (exit {proc.returncode})")
    runs = result["threads"]
    codes: Counter[str] = Counter()
    for t in runs:
        codes["accepted"] += t["accepted"]
        codes["out_of_stock"] += t["sold_out"]
        codes.update(t["others"])
    if result["socket_errors"]:
        codes["error:socket"] += result["socket_errors"]
    start = min(t["first_sent"] for t in runs if t["first_sent"])
    # the grants end at the last 202, or (when a thread stopped with a 202 unread) no
    # later than the first out_of_stock, which the gate answers only once none is left
    end = max(max(t["last_accepted"], t["first_sold_out"]) for t in runs)
    flooded = [t for t in runs if t["first_sold_out"]]
    refusal_window = (
        max(t["last_sold_out"] for t in flooded) - min(t["first_sold_out"] for t in flooded)
        if flood and flooded
        else 0.0
    )
    return Run(
        window=end - start,
        refusals_per_s=codes["out_of_stock"] / refusal_window if refusal_window else None,
        codes=codes,
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        requests=result["requests"],
        driver_cpu=usage.ru_utime + usage.ru_stime,
        started_wall=wall0 + (start - mono0),
    )


async def drive(base: str, sale_id: int, sku_id: int, users, clients: int, seconds: float):
    import aiohttp

    queue = iter(users)
    latencies: list[float] = []
    accepted_at: list[float] = []
    tickets: dict[str, float] = {}
    codes: Counter[str] = Counter()
    start = time.monotonic()

    async def client(session):
        while time.monotonic() - start < seconds:
            user = next(queue, None)
            if user is None:
                return
            t0 = time.monotonic()
            try:
                async with session.post(
                    f"{base}/api/v1/flash-sales/{sale_id}/orders",
                    json={"sku_id": sku_id, "qty": 1, "address_id": user.address_id},
                    headers={"Authorization": f"Bearer {user.token}"},
                ) as answer:
                    body = await answer.json(content_type=None)
                    status = answer.status
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                codes[f"error:{type(exc).__name__}"] += 1
                continue
            t1 = time.monotonic()
            latencies.append((t1 - t0) * 1000)
            if status in (201, 202):
                codes["accepted"] += 1
                accepted_at.append(t1 - start)
                if status == 202:
                    tickets[body["ticket"]] = time.time()
            elif status == 409 and body.get("code") == "out_of_stock":
                codes["out_of_stock"] += 1
                return
            else:
                codes[f"{status}:{body.get('code')}"] += 1

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return latencies, accepted_at, codes, time.monotonic() - start, tickets


async def warm(base: str, users, clients: int) -> None:
    """Each buyer opens a page before the start (``GET /me``): its token is in the
    server's token cache when it buys, as for a shopper watching the countdown."""
    import aiohttp

    queue = iter(users)

    async def client(session):
        for user in queue:
            async with session.get(
                f"{base}/api/v1/me", headers={"Authorization": f"Bearer {user.token}"}
            ) as answer:
                await answer.read()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))


ONE_ROW_CONNECTIONS = [0]


@contextlib.contextmanager
def one_row_table(url: str):
    """The one row every one-row figure takes its units from, dropped afterwards."""
    with pg_connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_flash_row")
        conn.execute(
            "CREATE TABLE bench_flash_row (id int PRIMARY KEY, stock int CHECK (stock >= 0))"
        )
        conn.execute("INSERT INTO bench_flash_row VALUES (1, 100000000)")
    try:
        yield
    finally:
        with pg_connect(url) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_flash_row")


ONE_ROW_UPDATE = "UPDATE bench_flash_row SET stock = stock - 1 WHERE id = 1 AND stock >= 1"


def one_row_limit(url: str, clients: int, seconds: float) -> float:
    """The one-row limit by psycopg threads, each an ``UPDATE`` then a ``COMMIT``."""
    # Connected first, each retried a while: the server's connection slots are shared
    # (a shared machine); the report says how many connections the figure had.
    conns = []
    for _ in range(clients):
        deadline = time.monotonic() + 30
        while True:
            try:
                conns.append(pg_connect(url, autocommit=False))
                break
            except Exception:  # noqa: BLE001 - out of connection slots for now
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    clients = len(conns)
    ONE_ROW_CONNECTIONS[0] = clients
    done = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def run(i: int) -> None:
        c = conns[i]
        barrier.wait()
        while not stop.is_set():
            c.execute(ONE_ROW_UPDATE)
            c.commit()
            done[i] += 1
        c.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def one_row_pgbench(url: str, clients: int, seconds: float, *, autocommit: bool) -> float:
    """The one-row limit by pgbench's C clients: ``BEGIN``/``UPDATE``/``COMMIT`` as above,
    or (``autocommit``) the ``UPDATE`` alone, which holds the row's lock for no round
    trip at all."""
    if not shutil.which("pgbench"):
        raise SystemExit("--driver wrk needs pgbench on the PATH (Debian: postgresql-client)")
    script = f"{ONE_ROW_UPDATE};\n" if autocommit else f"BEGIN;\n{ONE_ROW_UPDATE};\nCOMMIT;\n"
    return pgbench(url, script, clients=clients, seconds=seconds, threads=cpu_count())["tps"]


def main() -> int:
    args = parse()
    # wrk's threads each buy with their own share of the buyers: a margin for the uneven
    users_n = args.users or (
        args.allotment + 2 * args.clients
        if args.driver == "aiohttp"
        else args.allotment * 5 // 4 + 4 * args.clients
    )
    redis = None if args.redis_url == "none" else args.redis_url
    prefix = f"quanzi:bench-flash:{uuid.uuid4().hex[:8]}"
    with workspace(args.database_url, keep=args.keep) as (env, _created):
        queue = bool(redis) and not args.no_queue
        if redis:
            env.extra.update(
                {
                    "QUANZI_REDIS_URL": redis,
                    "QUANZI_FLASH_REDIS_PREFIX": prefix,
                    "QUANZI_FLASH_QUEUE": "1" if queue else "0",
                    # the bench starts its own writers: no Celery task per burst
                    "QUANZI_FLASH_WRITER": "follow",
                    # the buyers' tokens stay cached from their page view to their order
                    "QUANZI_AUTH_CACHE_SECONDS": "120",
                }
            )
        env.extra["QUANZI_FAST_PATHS"] = "0" if args.no_fast_path else "1"
        quanzi(env, "migrate", capture=True)
        django_setup(env)
        from datetime import timedelta

        from _data import hot_sku, phone_prefix, users_bulk
        from django.db import connection
        from django.db.models import Sum
        from django.utils import timezone

        from quanzi.flash import buckets, gate
        from quanzi.flash.models import FlashItem, FlashOrder
        from quanzi.flash.reconcile import reconcile
        from quanzi.flash.services import sale_create

        users = users_bulk(users_n, prefix=phone_prefix())
        sku_id = hot_sku(stock=args.allotment)
        connection.close()
        server = Server(env, workers=args.workers, threads=args.threads)
        server.start()
        servers = [server]
        writers = []
        try:
            if queue and args.front_workers and not args.no_fast_path:
                # As nginx routes it in production: the buys to the front, the rest to
                # `quanzi serve`.
                servers.append(Front(env, upstream=server, workers=args.front_workers))
                servers[-1].start()
            buys_to = servers[-1].base
            if queue:
                writers = [
                    subprocess.Popen(
                        [sys.executable, "manage.py", "flash_write", "--follow"]
                        + ["--batch", str(args.batch), "--seconds", str(args.seconds + 900)]
                        + ["--nice", str(args.writer_nice)],
                        env=env.vars(),
                        cwd=str(REPO),
                        stdout=subprocess.PIPE,
                        stderr=open(env.data_dir / "writer.log", "ab"),  # noqa: SIM115
                        start_new_session=True,
                    )
                    for _ in range(args.writers)
                ]
                for w in writers:  # each says so once it is ready to write
                    w.stdout.readline()
            sale = sale_create(
                title="压测秒杀",
                starts_at=timezone.now() - timedelta(seconds=1),
                ends_at=timezone.now() + timedelta(hours=1),
                per_user_limit=1,
                buckets_per_item=args.buckets,
                items=[{"sku_id": sku_id, "price": 990, "allotment": args.allotment}],
            )
            item = FlashItem.objects.get(sale=sale)
            if redis:  # this process reads the gate's counts (and reconciles) as well
                gate.configure(url=redis, prefix=prefix)
            connection.close()
            load_before = os.getloadavg()
            if not args.cold_tokens:
                asyncio.run(warm(server.base, users, args.clients))
            cpu0 = sum(s.cpu_seconds() for s in servers)
            cpu0 += sum(proc_cpu_seconds(w.pid) for w in writers)
            if args.driver == "wrk":
                run = drive_wrk(
                    buys_to,
                    sale.pk,
                    sku_id,
                    users,
                    args.clients,
                    args.seconds,
                    env.data_dir,
                    flood=args.sold_out_seconds,
                )
            else:
                run = drive_aiohttp(buys_to, sale.pk, sku_id, users, args.clients, args.seconds)
            last_written = None
            if queue:  # wait for the writers to write every ticket (while they progress)
                # every grant the gate made, also one whose answer no client read
                units_at_gate = gate.left(item_id=item.pk)
                granted = 0 if units_at_gate is None else args.allotment - units_at_gate
                seen, progressed = -1, time.monotonic()
                while time.monotonic() - progressed < 30:
                    n = FlashOrder.objects.filter(item__sale=sale).count()
                    if n >= max(run.accepted, granted):
                        break
                    if n != seen:
                        seen, progressed = n, time.monotonic()
                    time.sleep(0.1)
            cpu1 = sum(s.cpu_seconds() for s in servers)
            cpu1 += sum(proc_cpu_seconds(w.pid) for w in writers)
            errors_logged = sum(s.errors_logged() for s in servers)
            # the fast path's own time per answer (its log lines' duration_ms: from the
            # request read to the answer sent), beside what the clients waited
            fast_ms: list[float] = []
            for s in servers:
                with contextlib.suppress(OSError):
                    for line in s.log_path.read_text(errors="replace").splitlines():
                        if '"fast_path": true' in line:
                            with contextlib.suppress(ValueError, KeyError):
                                fast_ms.append(float(json.loads(line)["duration_ms"]))
            fast_answers = len(fast_ms)
        finally:
            for s in reversed(servers):
                s.stop()
            for w in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(w.pid, signal.SIGTERM)
                w.wait(timeout=15)
        written_by_writers = FlashOrder.objects.filter(item=item).count()
        if redis:  # tickets the writers left (none unless they stalled) are written here
            reconcile(grace=0)
        item.refresh_from_db()
        sold = (
            FlashOrder.objects.filter(item=item, returned=False).aggregate(n=Sum("qty"))["n"] or 0
        )
        left = buckets.left_of([item.pk])[item.pk]
        oversold = max(0, sold - args.allotment)
        lost = args.allotment - sold - left - item.returned
        gate_lost = None
        if redis:
            pending = sum(q for _, q, _ in gate.pending(item_id=item.pk).values())
            gate_left = gate.left(item_id=item.pk)
            gate_lost = None if gate_left is None else left - gate_left - pending
            for key in gate.client().scan_iter(f"{prefix}:*"):
                gate.client().delete(key)
        tickets = run.tickets
        to_order: list[float] = []
        if queue:
            written_at = dict(
                FlashOrder.objects.filter(item=item).values_list("ticket", "created_at")
            )
            for tid, at in tickets.items():
                if tid in written_at:
                    to_order.append((written_at[tid].timestamp() - at) * 1000)
            if written_at:
                last_written = max(written_at.values()).timestamp()
        accepted = run.accepted
        if not queue:
            written = accepted
        elif args.driver == "wrk":  # no ticket ids: the rows the writers wrote
            written = written_by_writers
        else:
            written = len(to_order)
        window = run.window
        rate = accepted / window if window else 0.0
        # written orders/s: from the first ticket (wrk: the first buy) to the last commit
        first_ticket = min(tickets.values()) if tickets else run.started_wall
        written_window = last_written - first_ticket if queue and last_written else window
        written_rate = written / written_window if written_window else 0.0
        with one_row_table(args.database_url):
            baselines = {
                "psycopg threads, UPDATE + COMMIT": one_row_limit(
                    args.database_url, args.clients, args.baseline_seconds
                )
            }
            if args.driver == "wrk":
                baselines["pgbench, BEGIN + UPDATE + COMMIT"] = one_row_pgbench(
                    args.database_url, args.clients, args.baseline_seconds, autocommit=False
                )
                baselines["pgbench, UPDATE alone"] = one_row_pgbench(
                    args.database_url, args.clients, args.baseline_seconds, autocommit=True
                )
        baseline = max(baselines.values())  # the ratio is to the highest one-row figure
        errors = sum(n for code, n in run.codes.items() if code not in ("accepted", "out_of_stock"))
        if queue and written != accepted:  # tickets never written, or grants no client read
            errors += abs(accepted - written)
        load = os.getloadavg()
        figures = {
            "accepted_orders_per_s": round(rate, 1),
            "accepted": accepted,
            "written_orders_per_s": round(written_rate, 1),
            "written": written,
            "written_by_writers": written_by_writers,
            "fast_path": not args.no_fast_path,
            "fast_path_answers": fast_answers,
            "fast_path_p50_ms": round(percentile(fast_ms, 50), 1) if fast_ms else None,
            "fast_path_p99_ms": round(percentile(fast_ms, 99), 1) if fast_ms else None,
            "workers": args.workers,
            "threads": args.threads,
            "front_workers": len(servers) > 1 and args.front_workers,
            "writer_nice": args.writer_nice,
            "sold_out_after_s": round(window, 2),
            "p50_ms": round(run.p50_ms, 1),
            "p99_ms": round(run.p99_ms, 1),
            "queue": queue,
            "writers": args.writers if queue else 0,
            "ticket_to_order_p50_ms": round(percentile(to_order, 50), 1) if to_order else None,
            "ticket_to_order_p99_ms": round(percentile(to_order, 99), 1) if to_order else None,
            "all_written_after_s": round(written_window, 2) if queue and last_written else None,
            "cpu_ms_per_order": round((cpu1 - cpu0) * 1000 / accepted, 2) if accepted else None,
            "driver": args.driver,
            "cpu_ms_per_request": (
                round((cpu1 - cpu0) * 1000 / run.requests, 3) if run.requests else None
            ),
            "refusals_per_s_after_sold_out": (
                round(run.refusals_per_s, 1) if run.refusals_per_s is not None else None
            ),
            "driver_cpu_ms_per_request": (
                round(run.driver_cpu * 1000 / run.requests, 3) if run.requests else None
            ),
            "oversold": oversold,
            "lost": lost,
            "gate_lost": gate_lost,
            "errors": errors + errors_logged,
            "one_row_sql_tps": round(baseline, 1),
            "one_row_by": {k: round(v, 1) for k, v in baselines.items()},
            "one_row_connections": ONE_ROW_CONNECTIONS[0],
            "ratio": round(rate / baseline, 3) if baseline else None,
            "ratio_by": {k: round(rate / v, 3) for k, v in baselines.items() if v},
            "clients": args.clients,
            "allotment": args.allotment,
            "buckets": args.buckets,
            "gate": "redis" if redis else "buckets",
            "load_avg": [round(load_before[0], 2), round(load[0], 2)],
        }
        report = [
            f"flash sale: {args.clients} clients, {args.allotment} units, "
            f"{args.buckets} buckets, gate {'redis' if redis else 'buckets only'}"
            f"{' (queue)' if queue else ''}",
            f"  accepted {accepted} orders in {window:.2f} s → {rate:.1f} orders/s; "
            f"answers {dict(run.codes)} ({args.driver})",
            f"  written {written} orders in {written_window:.2f} s → {written_rate:.1f} orders/s"
            f" ({args.workers} server workers × {args.threads} threads"
            + (f", the buys to {args.front_workers} front processes" if len(servers) > 1 else "")
            + f", fast path {'off' if args.no_fast_path else 'on'}: {fast_answers} answers by it)",
            f"  request p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
            + (
                f" (the fast path's own time p50 {figures['fast_path_p50_ms']} ms, "
                f"p99 {figures['fast_path_p99_ms']} ms)"
                if fast_ms
                else ""
            )
            + (
                (
                    f"; ticket → order written p50 {figures['ticket_to_order_p50_ms']} ms, "
                    f"p99 {figures['ticket_to_order_p99_ms']} ms"
                    if to_order
                    else "; ticket → order not timed (wrk reads no ticket)"
                )
                + f", all written {figures['all_written_after_s']} s after the first ticket "
                f"({args.writers} writer(s), {args.batch} per transaction)"
                if queue
                else ""
            ),
            *(
                [
                    f"  after it sold out: {run.codes['out_of_stock']} out_of_stock answers, "
                    f"{figures['refusals_per_s_after_sold_out']} per s; server CPU per "
                    f"request {figures['cpu_ms_per_request']} ms (p50/p99 above are of "
                    f"every request)"
                ]
                if args.sold_out_seconds
                else []
            ),
            f"  server + writers CPU per accepted order: {figures['cpu_ms_per_order']} ms; "
            f"the clients' own CPU per request: {figures['driver_cpu_ms_per_request']} ms",
            f"  sold {sold} + left {left} + returned {item.returned} = {args.allotment}? "
            f"oversold {oversold}, lost {lost}, gate lost {gate_lost}",
            f"  one-row raw SQL conditional UPDATE: {baseline:.1f} tx/s "
            f"({ONE_ROW_CONNECTIONS[0]} connections; ratio {figures['ratio']})"
            + (
                " — the highest of "
                + "; ".join(f"{k}: {v:.1f} (ratio {rate / v:.3f})" for k, v in baselines.items())
                if len(baselines) > 1
                else ""
            ),
            f"  load average before/after: {figures['load_avg']}",
        ]
        emit(report, figures)
        return 1 if (oversold or lost or gate_lost or errors or errors_logged) else 0


if __name__ == "__main__":
    sys.exit(main())
