#!/usr/bin/env python
"""Where a flash order's CPU goes, in one process (no network, no other clients).

    python bench/flash_profile.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench_prof
    py-spy record -o flash.svg -- python bench/flash_profile.py --database-url …  # flame graph

1. **gate request**: N buyers each send ``POST /flash-sales/{id}/orders`` in the queue
   mode, called as a WSGI server calls it, their tokens in the token cache (as after the
   page view before the start): once through Django's own WSGI handler (every
   middleware, django-ninja, the bearer token, the Lua gate), once through the
   application ``quanzi serve`` runs (``quanzi/wsgi.py``: the fast path in front of
   Django), and through the async front's ASGI application (``quanzi front`` without
   uvicorn's HTTP, ``--front-clients`` buys in flight on its event loop). CPU ms per
   ``202`` and SQL statements per request, for each.
2. **writer**: the queued tickets are written by ``writer.write_batch`` (``--batch`` per
   transaction): CPU ms per order written and statements per order.
3. **request writing its own order** (the gate without the queue), for comparison.

CPU is this process's (``time.process_time``); PostgreSQL's is not in it. Figures only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import django_setup, emit, quanzi, workspace  # noqa: E402


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/qz_bench_prof")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--gate-only", action="store_true", help="skip the writer and the request writing"
    )
    ap.add_argument(
        "--front-clients", type=int, default=32, help="buys in flight at once in the front"
    )
    return ap.parse_args()


def main() -> int:
    args = parse()
    prefix = f"quanzi:bench-flashprof:{uuid.uuid4().hex[:8]}"
    with workspace(args.database_url, keep=args.keep) as (env, _created):
        env.extra.update(
            {
                "QUANZI_REDIS_URL": args.redis_url,
                "QUANZI_FLASH_REDIS_PREFIX": prefix,
                "QUANZI_FLASH_WRITER": "follow",
                "QUANZI_FLASH_QUEUE": "1",
                # the buyers' tokens stay cached from their page view to their buy, however
                # long the page views of a large --orders take
                "QUANZI_AUTH_CACHE_SECONDS": "3600",
            }
        )
        quanzi(env, "migrate", capture=True)
        django_setup(env)
        from datetime import timedelta

        from _data import hot_sku, phone_prefix, users_bulk
        from django.db import connection, reset_queries
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from quanzi.flash import gate, writer
        from quanzi.flash.models import FlashItem
        from quanzi.flash.services import sale_create

        n = args.orders
        users = users_bulk(2 * n + 30, prefix=phone_prefix())
        sku_id = hot_sku(stock=4 * n + 100)

        def sale():
            s = sale_create(
                title="剖析秒杀",
                starts_at=timezone.now() - timedelta(seconds=1),
                ends_at=timezone.now() + timedelta(hours=1),
                per_user_limit=1,
                items=[{"sku_id": sku_id, "price": 990, "allotment": n + 10}],
            )
            return s, FlashItem.objects.get(sale=s)

        from django.core.handlers.wsgi import WSGIHandler
        from django.test import RequestFactory

        from quanzi.wsgi import application as served

        django_app = WSGIHandler()
        factory = RequestFactory()

        def call(app, method, path, u, body=None):
            headers = {"Authorization": f"Bearer {u.token}"}
            if method == "GET":
                environ = factory.get(path, headers=headers).environ
            else:
                environ = factory.post(
                    path, json.dumps(body), content_type="application/json", headers=headers
                ).environ
            seen = []
            chunks = app(environ, lambda status, headers, exc_info=None: seen.append(status))
            b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
            return int(seen[0].split()[0])

        def buy(app, s, u):
            body = {"sku_id": sku_id, "qty": 1, "address_id": u.address_id}
            return call(app, "POST", f"/api/v1/flash-sales/{s.pk}/orders", u, body)

        def front_measure(s, buyers):
            """CPU and wall ms per 202 of ``buyers`` sent to the front's ASGI application
            (``quanzi front`` without uvicorn's HTTP), ``--front-clients`` at a time, on
            the event loop ``quanzi front`` uses; risk's records on its threads included."""
            import asyncio

            from quanzi.core.front import Front, Upstream

            front = Front(upstream=Upstream("http://127.0.0.1:9"))  # nothing is handed on
            path = f"/api/v1/flash-sales/{s.pk}/orders"

            async def one(u) -> int:
                body = json.dumps({"sku_id": sku_id, "qty": 1, "address_id": u.address_id})
                scope = {
                    "type": "http",
                    "method": "POST",
                    "path": path,
                    "raw_path": path.encode(),
                    "query_string": b"",
                    "root_path": "",
                    "scheme": "http",
                    "http_version": "1.1",
                    "client": ("127.0.0.1", 40000),
                    "server": ("127.0.0.1", 8000),
                    "headers": [
                        (b"authorization", f"Bearer {u.token}".encode()),
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
                messages = [{"type": "http.request", "body": body.encode()}]
                answered = []

                async def receive():
                    return messages.pop() if messages else {"type": "http.disconnect"}

                async def send(message):
                    if message["type"] == "http.response.start":
                        answered.append(message["status"])

                await front(scope, receive, send)
                return answered[0]

            async def lane(chunk):
                return [await one(u) for u in chunk]

            async def all_lanes():
                k = args.front_clients
                lanes = await asyncio.gather(*(lane(buyers[i::k]) for i in range(k)))
                return [code for codes in lanes for code in codes]

            try:
                import uvloop

                run = uvloop.run
            except ImportError:
                run = asyncio.run
            t0 = time.process_time()
            w0 = time.perf_counter()
            codes = run(all_lanes())
            front._pool.shutdown(wait=True)  # risk's records written
            cpu = (time.process_time() - t0) * 1000 / len(buyers)
            wall = (time.perf_counter() - w0) * 1000 / len(buyers)
            assert codes == [202] * len(buyers), Counter(codes)
            return cpu, wall

        # every buyer has seen a page before the start: its token is in the token cache
        for u in users:
            assert call(django_app, "GET", "/api/v1/me", u) == 200

        # warm up: imports, the scripts, the sale's copy
        s1, item1 = sale()
        for u in users[:10]:
            assert buy(django_app, s1, u) == 202
        for u in users[10:20]:
            assert buy(served, s1, u) == 202
        writer.write_batch(item_id=item1.pk, batch=100)
        reset_queries()

        s1b, item1b = sale()
        measured = {}
        half = n // 2
        for name, app, buyers in (
            ("django", django_app, users[20 : 20 + half]),
            ("fast", served, users[20 + half : 20 + n]),
        ):
            t0 = time.process_time()
            w0 = time.perf_counter()
            with CaptureQueriesContext(connection) as sql:
                codes = [buy(app, s1b, u) for u in buyers]
            assert codes == [202] * len(buyers), codes[:5]
            measured[name] = (
                (time.process_time() - t0) * 1000 / len(buyers),
                (time.perf_counter() - w0) * 1000 / len(buyers),
                len(sql) / len(buyers),
            )
        s1c, _item1c = sale()  # the front's own sale: its buyers are the direct ones below
        front_cpu, front_wall = front_measure(s1c, users[20 + n : 20 + n + half])
        gate_cpu, gate_wall, gate_sql_n = measured["fast"]
        django_cpu, django_wall, django_sql_n = measured["django"]
        gate_lines = [
            f"  gate request (202) through Django's stack: {django_cpu:.2f} ms CPU, "
            f"{django_wall:.2f} ms wall, {django_sql_n:.1f} SQL statements",
            f"  gate request (202) through the fast path: {gate_cpu:.2f} ms CPU, "
            f"{gate_wall:.2f} ms wall, {gate_sql_n:.1f} SQL statements",
            f"  gate request (202) through the async front, {args.front_clients} at once: "
            f"{front_cpu:.3f} ms CPU, {front_wall:.3f} ms wall",
        ]

        if args.gate_only:
            print("\n".join(gate_lines))
            for key in gate.client().scan_iter(f"{prefix}:*"):
                gate.client().delete(key)
            return 0
        t0 = time.process_time()
        w0 = time.perf_counter()
        with CaptureQueriesContext(connection) as writer_sql:
            written = 0
            while b := writer.write_batch(item_id=item1b.pk, batch=args.batch):
                written += b
        writer_cpu = (time.process_time() - t0) * 1000 / written
        writer_wall = (time.perf_counter() - w0) * 1000 / written

        # the gate without the queue: each request writes its own order
        gate.configure(url=args.redis_url, prefix=prefix, queue=False)
        s2, _item2 = sale()
        direct = users[20 + n : 20 + 2 * n]
        t0 = time.process_time()
        w0 = time.perf_counter()
        with CaptureQueriesContext(connection) as direct_sql:
            codes = [buy(served, s2, u) for u in direct]
        direct_cpu = (time.process_time() - t0) * 1000 / n
        direct_wall = (time.perf_counter() - w0) * 1000 / n
        assert codes == [201] * n, codes[:5]
        for key in gate.client().scan_iter(f"{prefix}:*"):
            gate.client().delete(key)

        figures = {
            "gate_request_cpu_ms": round(gate_cpu, 2),
            "gate_request_wall_ms": round(gate_wall, 2),
            "gate_request_sql": round(gate_sql_n, 1),
            "gate_request_django_cpu_ms": round(django_cpu, 2),
            "gate_request_django_wall_ms": round(django_wall, 2),
            "gate_request_django_sql": round(django_sql_n, 1),
            "writer_cpu_ms_per_order": round(writer_cpu, 2),
            "writer_wall_ms_per_order": round(writer_wall, 2),
            "writer_sql_per_order": round(len(writer_sql) / written, 1),
            "request_writing_its_order_cpu_ms": round(direct_cpu, 2),
            "request_writing_its_order_wall_ms": round(direct_wall, 2),
            "request_writing_its_order_sql": round(len(direct_sql) / n, 1),
            "orders": n,
            "batch": args.batch,
        }
        emit(
            [
                f"flash profile, {n} buyers, in one process:",
                *gate_lines,
                f"  writer, {args.batch} per transaction: {writer_cpu:.2f} ms CPU, "
                f"{writer_wall:.2f} ms wall, {len(writer_sql) / written:.1f} statements per order",
                f"  request writing its own order (201): {direct_cpu:.2f} ms CPU, "
                f"{direct_wall:.2f} ms wall, {len(direct_sql) / n:.1f} statements",
            ],
            figures,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
