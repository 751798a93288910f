#!/usr/bin/env python
"""What a refused group join costs: through Django's stack, and through the fast path.

    python bench/groups_refusal.py --database-url postgres://postgres@127.0.0.1:5432/qz_refusal --requests 2000

In a group rush most join requests are refused (``409 group_full``): the place went to
someone faster. This script makes a full group (a group of 2, its leader paid, one
member reserved), signs in ``--requests`` late buyers (their tokens in the token cache,
Redis, as in production), and sends each one keyed join through the WSGI application
in-process, in alternating blocks: Django alone (every middleware, django-ninja, the
API's refusal and its ``Idempotency-Key`` record) and the fast paths in front of it
(``quanzi.core.fastpaths``, as ``quanzi serve`` runs). It prints the CPU (this process:
``time.process_time``) and the SQL statements per refused request for each, and checks
that every answer was the same ``group_full`` and every key was recorded. No HTTP
server, no other client. Figures only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _common import DEFAULT_URL, django_setup, emit, quanzi, workspace  # noqa: E402
from groups import campaign_make  # noqa: E402

API = "/api/v1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--requests", type=int, default=2000, help="refused joins, half each way")
    p.add_argument("--block", type=int, default=100, help="requests per block (alternated)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--profile", help="write a cProfile of the fast path's blocks to this file")
    return p.parse_args(argv)


def _post(app, path: str, body: dict, token: str, key: str | None = None):
    from quanzi.core.testing import post_environ, wsgi_call

    headers = {"Idempotency-Key": key} if key else {}
    return wsgi_call(app, post_environ(API + path, body, token=token, headers=headers))


def full_group(app, people: list[_data.BenchUser], *, sku_id: int, campaign_id: int) -> int:
    leader, member = people
    opened = _post(
        app,
        "/groups",
        {"campaign_id": campaign_id, "sku_id": sku_id, "qty": 1, "address_id": leader.address_id},
        leader.token,
        uuid.uuid4().hex,
    )
    assert opened.status == 201, opened.body
    group_id = opened.json()["group_id"]
    paying = _post(
        app,
        f"/orders/{opened.json()['order_id']}/pay",
        {"gateway": "sandbox"},
        leader.token,
        uuid.uuid4().hex,
    )
    assert paying.status == 200, paying.body
    done = _post(app, f"/payments/sandbox/{paying.json()['payment_id']}/complete", {}, leader.token)
    assert done.status == 200, done.body
    joined = _post(
        app,
        f"/groups/{group_id}/join",
        {"sku_id": sku_id, "qty": 1, "address_id": member.address_id},
        member.token,
        uuid.uuid4().hex,
    )
    assert joined.status == 201, joined.body
    return group_id


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with workspace(args.database_url, keep=args.keep) as (env, _created):
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        env.extra["QUANZI_REDIS_URL"] = args.redis_url
        quanzi(env, "migrate")
        django_setup(env)
        logging.getLogger("quanzi").setLevel(logging.WARNING)
        from django.core.handlers.wsgi import WSGIHandler
        from django.db import connection

        from quanzi.core import fastpaths
        from quanzi.core.models import IdempotencyRecord
        from quanzi.core.testing import wsgi_call

        django = WSGIHandler()
        fast = fastpaths.wrap(django)
        people = _data.users_bulk(args.requests + 3, prefix=_data.phone_prefix())
        operator = people.pop(0)
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(pk=operator.id).update(is_operator=True, is_staff=True)
        sku_ids = _data.catalog_bulk(2, skus_per_product=1)
        campaign_id = campaign_make(operator, sku_ids, size=2)
        group_id = full_group(django, people[:2], sku_id=sku_ids[0], campaign_id=campaign_id)
        late = people[2:]
        from django.test import RequestFactory

        for person in late:  # a page seen before: the token is in the token cache
            environ = (
                RequestFactory()
                .get(API + "/me", HTTP_AUTHORIZATION=f"Bearer {person.token}")
                .environ
            )
            assert wsgi_call(django, environ).status == 200

        statements = {"django": 0, "fast": 0}
        cpu = {"django": 0.0, "fast": 0.0}
        sent = {"django": 0, "fast": 0}
        answers: set[tuple[int, str]] = set()
        current = {"way": "django"}

        def count(execute, sql, params, many, context):
            statements[current["way"]] += 1
            return execute(sql, params, many, context)

        body_of = lambda p: {"sku_id": sku_ids[0], "qty": 1, "address_id": p.address_id}  # noqa: E731
        with connection.execute_wrapper(count):
            for start in range(0, len(late), args.block):
                way = "django" if (start // args.block) % 2 == 0 else "fast"
                current["way"] = way
                app = django if way == "django" else fast
                block = late[start : start + args.block]
                profiler = None
                if args.profile and way == "fast":
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                t0 = time.process_time()
                for person in block:
                    answer = _post(
                        app,
                        f"/groups/{group_id}/join",
                        body_of(person),
                        person.token,
                        uuid.uuid4().hex,
                    )
                    answers.add((answer.status, answer.json()["code"]))
                cpu[way] += time.process_time() - t0
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                sent[way] += len(block)
        records = IdempotencyRecord.objects.filter(
            route=f"POST /groups/{group_id}/join", status_code=409
        ).count()
        ok = answers == {(409, "group_full")} and records == len(late)
        figures = {
            way: {
                "requests": sent[way],
                "cpu_ms_per_request": round(cpu[way] * 1000 / max(sent[way], 1), 3),
                "statements_per_request": round(statements[way] / max(sent[way], 1), 2),
            }
            for way in ("django", "fast")
        }
        report = ["Quanzi refused group joins (in-process, keyed, token cache in Redis)"]
        for way, label in (("django", "Django's stack"), ("fast", "fast path")):
            f = figures[way]
            report.append(
                f"  {label:15s} {f['requests']:5d} requests: {f['cpu_ms_per_request']:.3f} ms CPU"
                f" and {f['statements_per_request']:.2f} statements per request"
            )
        ratio = figures["django"]["cpu_ms_per_request"] / max(
            figures["fast"]["cpu_ms_per_request"], 1e-9
        )
        report.append(
            f"  fast path: {ratio:.2f}x less CPU per refused join; answers {sorted(answers)};"
            f" keys recorded {records} of {len(late)}"
        )
        emit(report, {**figures, "ratio": round(ratio, 2), "ok": ok})
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
