"""``quanzi simulate --seed S --steps N`` (and ``python -m quanzi.simulation``), and with
``--days N --users M`` the population mode (``population.py``): M people living N days in
the shop, the daily facts built, and the risk rules measured on seeded abuse.

The run gets a database of its own, made and migrated for it and dropped afterwards
(Django's test-database machinery), on the configured engine: SQLite by default,
PostgreSQL with ``QUANZI_DATABASE_URL``. The configured database itself is never touched.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    parser.add_argument("--steps", type=int, default=1000, help="operations to run")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="run this many seeds in a row: seed, seed + 1, … (default 1)",
    )
    parser.add_argument("--no-settle", action="store_true", help="skip the final settling down")
    parser.add_argument(
        "--days", type=int, default=0, help="population mode: simulate this many days of a shop"
    )
    parser.add_argument("--users", type=int, default=200, help="population mode: people")
    parser.add_argument(
        "--abuse-farms",
        type=int,
        default=1,
        help="population mode: abusers of each kind seeded on top, measured (0: none)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every step")
    parser.add_argument("--logs", action="store_true", help="keep Quanzi's own log output")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from quanzi.simulation.runner import report_format, simulate

    settings.TASKS_EAGER = True  # follow-up work runs in-process, after each commit
    if not args.logs:
        logging.disable(logging.CRITICAL)
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = (
        None if connection.vendor == "sqlite" else f"{db['NAME']}_simulation"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    code = 0
    if args.days:
        from quanzi.simulation.population import populate, population_format

        try:
            report = populate(
                days=args.days,
                users=max(8, args.users),
                seed=args.seed,
                abuse_farms=args.abuse_farms,
            )
            print(population_format(report), flush=True)
            return 1 if report.ledger_problems else 0
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    try:
        for seed in range(args.seed, args.seed + args.seeds):
            progress = None
            if args.verbose:

                def progress(step, name, outcome):
                    print(f"  step {step:>5} {name:<18} {outcome}", flush=True)

            if seed != args.seed:
                from django.core.management import call_command

                call_command("flush", interactive=False, verbosity=0)
                forget_caches()
            report = simulate(
                seed=seed, steps=args.steps, settle=not args.no_settle, progress=progress
            )
            print(report_format(report, database=connection.vendor), flush=True)
            if not report.ok:
                code = 1
                break
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return code


def forget_caches() -> None:
    from django.core.cache import cache

    from quanzi.core.platform_settings import settings_cache_clear
    from quanzi.ledger.accounts import clear_cache
    from quanzi.payments.gateways import reset_gateways

    cache.clear()
    clear_cache()
    settings_cache_clear()
    reset_gateways()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m quanzi.simulation",
        description="seeded whole-system simulation of a Quanzi shop",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
