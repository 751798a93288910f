"""Recommendations: top-20 serving latency (p50/p99) and training time.

A generated population (default 10,000 people, 5,000 products, 8 communities, friends
inside them, ~20 interactions each) is written in bulk to a fresh SQLite database in a
temporary directory (``--database-url`` for PostgreSQL). Then, in the same run:

* training: ``model_train`` (implicit ALS on the whole log, versioned and swapped in);
* serving, top-20, for ``--sample`` people: the precomputed list (what the API answers
  for an active person), the on-the-fly blend (the fallback), and the **baseline**:
  popularity only (the cold-start list everybody would get without the recommender).

It prints a report and one JSON line last; it never fails on timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="qz-bench-reco-")
    os.environ["QUANZI_DATA_DIR"] = tmp
    if args.database_url:
        os.environ["QUANZI_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    import numpy as np

    from quanzi.accounts.models import User
    from quanzi.catalog.models import SKU, Product
    from quanzi.content.models import Follow
    from quanzi.recommend import als, blend, evaluation, serving, signals
    from quanzi.recommend.models import Event, Preference

    started = time.perf_counter()
    data = evaluation.generated(
        users=args.users, items=args.products, communities=8, per_user=args.per_user
    )
    User.objects.bulk_create(
        [
            User(
                phone=f"1{n:010d}",
                nickname=f"u{n}",
                invite_code=f"B{n:09d}",
                password="!",
            )
            for n in range(args.users)
        ],
        batch_size=2000,
    )
    user_pk = list(User.objects.order_by("pk").values_list("pk", flat=True))
    Product.objects.bulk_create(
        [Product(title=f"商品 {n}") for n in range(args.products)], batch_size=2000
    )
    product_pk = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    SKU.objects.bulk_create(
        [
            SKU(product_id=pk, name="默认", price=1990, supply_price=1000, stock=100)
            for pk in product_pk
        ],
        batch_size=2000,
    )
    now = timezone.now()
    t_max = max(r[3] for r in data.interactions)
    Event.objects.bulk_create(
        [
            Event(
                user_id=user_pk[u],
                product_id=product_pk[i],
                kind="order" if w > 1 else "view",
                weight=w,
                created_at=now - timezone.timedelta(seconds=(t_max - t) / 4),
            )
            for u, i, w, t in data.interactions
        ],
        batch_size=5000,
    )
    Follow.objects.bulk_create(
        [
            Follow(follower_id=user_pk[u], followee_id=user_pk[f])
            for u, fs in data.friends.items()
            for f in fs
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    Preference.objects.bulk_create(
        [Preference(user_id=pk, show_purchases=True) for pk in user_pk], batch_size=5000
    )
    load_seconds = time.perf_counter() - started

    t = time.perf_counter()
    version = als.model_train()
    train_seconds = time.perf_counter() - t

    rng = np.random.default_rng(3)
    sample = [user_pk[i] for i in rng.choice(len(user_pk), size=args.sample, replace=False)]

    def timed(fn) -> list[float]:
        out = []
        for user_id in sample:
            t0 = time.perf_counter()
            items = fn(user_id)
            out.append(time.perf_counter() - t0)
            assert len(items) == 20, len(items)
        return out

    als.active_factors(fresh=True)
    signals.popular_scores()
    blend._texts()
    only_popular = {"popular": 1.0}
    baseline = timed(lambda u: blend.blend(u, limit=20, weights=only_popular))
    on_the_fly = timed(lambda u: blend.blend(u, limit=20))
    t = time.perf_counter()
    for user_id in sample:
        serving.precompute_one(user_id=user_id)
    precompute_each = (time.perf_counter() - t) / len(sample)
    precomputed = timed(lambda u: serving.recommendations_for(user_id=u, limit=20))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as stored_queries:
        serving.recommendations_for(user_id=sample[0], limit=20)
    # The fallback as the API serves it: no stored list for these people.
    from quanzi.recommend.models import Precomputed

    Precomputed.objects.filter(user_id__in=sample).delete()
    fallback = timed(lambda u: serving.recommendations_for(user_id=u, limit=20))

    rows = {
        "baseline (popularity only)": baseline,
        "on the fly (blend)": on_the_fly,
        "stored list (served)": precomputed,
        "fallback (no stored list)": fallback,
    }
    print(
        f"population: {args.users} people, {args.products} products, "
        f"{len(data.interactions)} interactions (loaded in {load_seconds:.1f} s)"
    )
    print(
        f"training (implicit ALS, {version.users}×{version.items}, "
        f"{version.interactions} cells): {train_seconds:.2f} s"
    )
    print(f"precompute: {precompute_each * 1000:.1f} ms per person")
    print(f"stored-list path: {len(stored_queries)} queries per request")
    print(f"top-20 latency over {len(sample)} people (ms):")
    for name, values in rows.items():
        print(f"  {name:<28} p50 {pct(values, 50):7.2f}   p99 {pct(values, 99):7.2f}")
    print(
        json.dumps(
            {
                "users": args.users,
                "products": args.products,
                "interactions": len(data.interactions),
                "train_seconds": round(train_seconds, 3),
                "precompute_ms": round(precompute_each * 1000, 2),
                "stored_queries": len(stored_queries),
                **{
                    f"{key}_p{p}_ms": round(pct(values, p), 3)
                    for key, values in zip(
                        ("baseline", "on_the_fly", "stored", "fallback"),
                        rows.values(),
                        strict=True,
                    )
                    for p in (50, 99)
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
