#!/usr/bin/env python
"""Where a checkout's CPU goes, in one process (no network, no other clients).

    python bench/checkout_profile.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench_prof
    py-spy record --rate 250 -o checkout.svg -- python bench/checkout_profile.py --database-url …
    py-spy record --rate 250 --format raw -o checkout.raw -- python bench/checkout_profile.py …

N orders (a pool of ``--clients`` shoppers taking turns) are placed and paid through Django's WSGI handler (every middleware,
django-ninja, the bearer token, ``Idempotency-Key``) exactly as ``bench/checkout.py``'s
clients do: ``POST /orders`` with ``pay`` → ``POST /payments/sandbox/{id}/complete``.
It prints the CPU ms per order (this process: ``time.process_time``; PostgreSQL's is not
in it) and, in a second pass with Django's query log, the SQL statements per request.
``--summary FILE.raw`` sums py-spy's collapsed stacks by function group instead.

Figures only.
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

API = "/api/v1"

# Function groups of a checkout's time, matched against each stack's frames (file and
# function), innermost group first: a frame deeper in the stack decides.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    (
        "DB round trips (psycopg: binding, sending, reading rows)",
        ("psycopg/", "psycopg_c", "psycopg_binary"),
    ),
    ("ORM compile and model instances", ("django/db/models/", "django/db/backends/")),
    ("JSON log lines", ("quanzi/core/logging.py", "logging/__init__.py")),
    ("Redis (token cache, settings generation)", ("redis/", "django_redis/")),
    ("ninja validation and serialization", ("ninja/", "pydantic")),
    ("auth (bearer token)", ("quanzi/core/auth.py", "quanzi/accounts/")),
    ("idempotency record", ("quanzi/core/idempotency.py",)),
    ("ledger", ("quanzi/ledger/",)),
    ("observers (distribution, membership, …)", ("quanzi/distribution/", "quanzi/membership/")),
    ("payments and sandbox", ("quanzi/payments/",)),
    ("orders, pricing, catalog", ("quanzi/orders/", "quanzi/catalog/")),
    ("middleware and Django's request cycle", ("django/", "quanzi/core/", "quanzi/risk/")),
]


# What part of the checkout a sample belongs to: the innermost frame naming one decides.
FEATURES: list[tuple[str, tuple[str, ...]]] = [
    ("JSON log lines", ("JsonFormatter", "StderrHandler", "(logging/__init__.py")),
    ("ninja: body validation, response serialization", ("(ninja/", "(pydantic")),
    ("auth: bearer token (token cache)", ("token_authenticate",)),
    ("settings (per-process cache)", ("get_settings",)),
    ("idempotency record", ("remember (quanzi/core/idempotency",)),
    ("ledger: journal entry, postings", ("entries_post",)),
    ("observer: distribution (upline)", ("DistributionObserver",)),
    ("observer: membership (growth)", ("MembershipObserver",)),
    ("observer: risk signals", ("RiskSignalsObserver",)),
    ("observer: creator attribution", ("ContentObserver",)),
    (
        "observer: recommendations (incl. after commit)",
        ("RecommendOrderObserver", "event_record", "list_forget"),
    ),
    ("order paid: lines, sales counters, order and events", ("_apply_paid",)),
    ("capture: locks, payment, its event", ("_payment_capture",)),
    ("sandbox: read payment, record the charge", ("sandbox_complete (quanzi/payments/s",)),
    ("payment start: payment, its event", ("_payment_insert",)),
    ("placement: SKUs, member terms, address, stock, order, lines", ("order_place",)),
    ("Django request cycle, middleware, the rest", ("",)),
]


def _innermost(stack: str, table: list[tuple[str, tuple[str, ...]]], default: str) -> str:
    for frame in reversed(stack.split(";")):
        for name, needles in table:
            if any(n in frame for n in needles if n):
                return name
    return default


def group_of(stack: str) -> str:
    return _innermost(stack, GROUPS, "other (bench driver, interpreter)")


def feature_of(stack: str) -> str:
    return _innermost(stack, FEATURES, "Django request cycle, middleware, the rest")


def summarize(raw_path: str) -> tuple[dict[str, float], dict[str, float]]:
    """Shares of the samples (by kind of work, by part of the checkout) from py-spy's
    ``--format raw`` collapsed stacks, counting only the timed orders (``_orders``)."""
    kinds: Counter = Counter()
    parts: Counter = Counter()
    total = 0
    for line in Path(raw_path).read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if "main.<locals>._orders (" not in stack:
            continue
        total += int(n)
        kinds[group_of(stack)] += int(n)
        parts[feature_of(stack)] += int(n)

    def shares(counter: Counter) -> dict[str, float]:
        return {name: round(100 * n / max(total, 1), 1) for name, n in counter.most_common()}

    return shares(kinds), shares(parts)


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/qz_bench_prof")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--clients", type=int, default=32, help="shoppers taking turns")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-sql", action="store_true", help="print the SQL of one order")
    ap.add_argument(
        "--summary", metavar="RAW", help="sum py-spy collapsed stacks by function group"
    )
    return ap.parse_args()


def main() -> int:
    args = parse()
    if args.summary:
        kinds, parts = summarize(args.summary)
        emit(
            ["by kind of work:"]
            + [f"  {share:5.1f} %  {name}" for name, share in kinds.items()]
            + ["by part of the checkout:"]
            + [f"  {share:5.1f} %  {name}" for name, share in parts.items()],
            {"kinds": kinds, "parts": parts},
        )
        return 0
    with workspace(args.database_url, keep=args.keep) as (env, _created):
        if args.redis_url != "none":
            env.extra["QUANZI_REDIS_URL"] = args.redis_url
        quanzi(env, "migrate", capture=True)
        django_setup(env)
        from _data import catalog_bulk, phone_prefix, users_bulk
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        n = args.orders
        users = users_bulk(args.clients, prefix=phone_prefix())
        sku_ids = catalog_bulk(200)
        clients = {u.id: Client(HTTP_AUTHORIZATION=f"Bearer {u.token}") for u in users}

        def post(client, path: str, body: dict) -> dict:
            answer = client.post(
                API + path,
                data=json.dumps(body),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
            assert answer.status_code in (200, 201), (path, answer.status_code, answer.content)
            return answer.json()

        def one_order(u, sku_id: int) -> None:
            client = clients[u.id]
            body = {
                "items": [{"sku_id": sku_id, "qty": 1}],
                "address_id": u.address_id,
                "pay": {"gateway": "sandbox"},
            }
            order = post(client, "/orders", body)
            post(client, f"/payments/sandbox/{order['payment']['payment_id']}/complete", {})

        def _orders(count: int) -> None:
            for i in range(count):
                one_order(buyers[i % len(buyers)], sku_ids[i % len(sku_ids)])

        # As bench/checkout.py's clients: a pool of shoppers, each placing order after
        # order (their tokens in the token cache after their first request).
        buyers = users[: args.clients]
        # warm up (not in the profile's ``_orders``): imports, the URL conf, the token
        # cache, ledger account ids
        for i, u in enumerate(buyers):
            one_order(u, sku_ids[i])
        t0 = time.process_time()
        w0 = time.perf_counter()
        _orders(n)
        cpu = (time.process_time() - t0) * 1000 / n
        wall = (time.perf_counter() - w0) * 1000 / n

        # statements of one order, per request (query log on for this pass only)
        u = users[0]
        with CaptureQueriesContext(connection) as place_sql:
            order = post(
                clients[u.id],
                "/orders",
                {
                    "items": [{"sku_id": sku_ids[0], "qty": 1}],
                    "address_id": u.address_id,
                    "pay": {"gateway": "sandbox"},
                },
            )
        with CaptureQueriesContext(connection) as complete_sql:
            post(clients[u.id], f"/payments/sandbox/{order['payment']['payment_id']}/complete", {})
        per_request = [len(place_sql), len(complete_sql)]
        if args.show_sql:
            for name, ctx in (("POST /orders", place_sql), ("complete", complete_sql)):
                print(f"--- {name}: {len(ctx)} statements")
                for q in ctx.captured_queries:
                    print("   ", q["sql"][:300])

        figures = {
            "cpu_ms_per_order": round(cpu, 2),
            "wall_ms_per_order": round(wall, 2),
            "sql_per_request": per_request,
            "sql_per_order": sum(per_request),
            "orders": n,
        }
        emit(
            [
                f"checkout profile, {n} orders placed and paid in one process:",
                f"  {cpu:.2f} ms CPU, {wall:.2f} ms wall per order",
                f"  SQL statements per request (place and pay, complete): {per_request}",
            ],
            figures,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
