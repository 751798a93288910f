#!/usr/bin/env python
"""How long one group join holds the group's row lock (in-process, PostgreSQL).

    python bench/groups.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench --keep
    python bench/groups_lock.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench --joins 6

On a database that ``groups.py --keep`` left behind (forming groups with free places),
each join goes through the API (``POST /groups/{id}/join`` with an ``Idempotency-Key``)
as a new buyer of the bench, with every statement timed: it prints the statements of the
request, those from the group's ``SELECT … FOR UPDATE`` to the commit of that
transaction, and the wall time from the lock to the commit. No HTTP server, no other
client: the figure is the lock's length, not a queue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_URL, Env, django_setup, emit  # noqa: E402


def join_once() -> dict[str, float] | None:
    from django.db import connection
    from django.test import Client

    from quanzi.accounts.models import Address, AuthToken, User
    from quanzi.groupbuy.models import ACTIVE_MEMBER, Group, GroupMember

    group = None
    for candidate in Group.objects.filter(status="forming").order_by("-id")[:100]:
        taken = GroupMember.objects.filter(group=candidate, status__in=ACTIVE_MEMBER).count()
        if taken < candidate.size:
            group = candidate
            break
    if group is None:
        return None
    sku_id = GroupMember.objects.filter(group=group).values_list("sku_id", flat=True).first()
    inside = GroupMember.objects.filter(group=group).values("user_id")
    user = User.objects.exclude(pk__in=inside).filter(addresses__isnull=False).order_by("?").first()
    raw = secrets.token_urlsafe(32)
    AuthToken.objects.create(
        user=user, key_hash=hashlib.sha256(raw.encode()).hexdigest(), prefix=raw[:8]
    )
    address = Address.objects.filter(user=user).first()
    marks: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        marks.append((time.perf_counter(), sql))
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit():
        real_commit()
        marks.append((time.perf_counter(), "COMMIT"))

    connection.commit = commit
    try:
        with connection.execute_wrapper(timed):
            answer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
                f"/api/v1/groups/{group.pk}/join",
                data=json.dumps({"sku_id": sku_id, "qty": 1, "address_id": address.pk}),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
            )
    finally:
        connection.commit = real_commit
    lock = next(
        i for i, (_, sql) in enumerate(marks) if '"groupbuy_group"' in sql and "FOR UPDATE" in sql
    )
    done = next(i for i in range(lock, len(marks)) if marks[i][1] == "COMMIT")
    return {
        "status": answer.status_code,
        "statements": sum(1 for _, sql in marks if sql != "COMMIT"),
        "under_lock": done - lock,
        "lock_ms": (marks[done][0] - marks[lock][0]) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--joins", type=int, default=6)
    args = p.parse_args(argv)
    data_dir = Path("/tmp") / f"quanzi-bench-{uuid.uuid4().hex[:8]}"
    django_setup(Env(args.database_url, data_dir))
    rows = [row for row in (join_once() for _ in range(args.joins)) if row]
    report = ["Quanzi group join: the group's lock"]
    for row in rows:
        report.append(
            f"  {row['status']}: {row['statements']} statements, {row['under_lock']} from the"
            f" group's lock to its commit, lock held {row['lock_ms']:.1f} ms"
        )
    held = sorted(row["lock_ms"] for row in rows)
    emit(report, {"joins": len(rows), "lock_ms": [round(h, 1) for h in held]})
    return 0 if rows and all(row["status"] == 201 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
