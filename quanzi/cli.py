"""The ``quanzi`` command line."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quanzi.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.core.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads)


def cmd_front(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.core.server import front

    return front(host=args.host, port=args.port, workers=args.workers, upstream=args.upstream)


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo's console is for the newcomer: warnings only, unless asked otherwise.
    os.environ.setdefault("QUANZI_LOG_LEVEL", "WARNING")
    # Opted-in customers' text messages go to the log (docs/recommendation.md, SMS).
    os.environ.setdefault("QUANZI_SMS_PROVIDER", "console")
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    from quanzi.core.demo import DEMO_CUSTOMER, DEMO_OPERATOR, demo_load
    from quanzi.core.server import serve

    call_command("migrate", interactive=False, verbosity=0)
    created = demo_load()
    db = settings.DATABASES["default"]["NAME"]
    print(
        f"Quanzi demo — database {db} ({'new demo data' if created else 'demo data already there'})"
    )
    print(f"  storefront  http://{args.host}:{args.port}/")
    print(
        f"  dashboard   http://{args.host}:{args.port}/dashboard/  (operator {DEMO_OPERATOR[0]} / {DEMO_OPERATOR[1]})"
    )
    print(
        f"  shopper     http://{args.host}:{args.port}/login/  (customer {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]})"
    )
    print(f"  API         http://{args.host}:{args.port}/api/v1/docs  (ReDoc: /api/v1/redoc)")
    worker = subprocess.Popen([sys.executable, "-m", "quanzi.cli", "worker"])
    try:
        return serve(host=args.host, port=args.port, workers=args.workers)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings

    if settings.REDIS_URL and not args.embedded:
        from quanzi.core.celery import worker_main

        return worker_main(concurrency=args.concurrency)
    from quanzi.core.jobs import run_forever

    stopping = {"now": False}

    def stop(*_):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    run_forever(stop=lambda: stopping["now"])
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.core.jobs import run_all

    try:
        results = run_all()
    except RuntimeError as exc:
        print(f"jobs: {exc}", file=sys.stderr)
        return 1
    for name, processed in results.items():
        print(f"{name}: {processed}")
    return 0


def cmd_ledger_check(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.ledger.checks import run_checks

    problems, stats = run_checks()
    summary = ", ".join(f"{value} {key}" for key, value in stats.items())
    if problems:
        for problem in problems:
            print(problem)
        print(f"ledger check FAILED: {len(problems)} violation(s); {summary}", file=sys.stderr)
        return 1
    print(f"ledger ok: {summary}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from quanzi.simulation.command import run

    return run(args)


def cmd_risk_evaluate(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command(
        "risk_evaluate", seed=args.seed, honest=args.honest, farms=args.farms, write=args.write
    )
    return 0


def cmd_analytics_backfill(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("analytics_backfill", start=args.start, end=args.end)
    except CommandError as exc:
        print(f"analytics backfill: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.accounts.services import user_create
    from quanzi.core.errors import QuanziError

    roles = tuple(args.role or ())
    try:
        user = user_create(
            phone=args.phone, password=args.password, nickname=args.nickname or "", roles=roles
        )
    except QuanziError as exc:
        print(f"user create: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    print(
        f"created user {user.pk} {user.phone} roles={','.join(user.roles)} invite_code={user.invite_code}"
    )
    return 0


def cmd_recommend_evaluate(args: argparse.Namespace) -> int:
    _setup()
    from quanzi.recommend.evaluation import run_evaluation

    return run_evaluation(
        datasets=args.dataset,
        k=args.k,
        users=args.users,
        items=args.items,
        tune=args.tune,
        write=sys.stdout.write,
    )


def _listen_arguments(
    parser: argparse.ArgumentParser, *, port: int, workers: int, workers_help: str
) -> None:
    """``--host``, ``--port`` and ``--workers`` of a command that serves HTTP."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=port, help=f"port to listen on (default {port})"
    )
    parser.add_argument("--workers", type=int, default=workers, help=workers_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quanzi", description="Quanzi (圈子) social e-commerce engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="migrate an SQLite database, load demo data and serve it")
    _listen_arguments(demo, port=8000, workers=2, workers_help="web server processes (default 2)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve the configured database with granian")
    _listen_arguments(serve, port=8000, workers=0, workers_help="processes (default: one per core)")
    serve.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads per process, each with its own database connection (default 2)",
    )
    serve.set_defaults(func=cmd_serve)

    front = sub.add_parser(
        "front",
        help="serve the fast paths (a flash sale's buy) on an event loop, the rest via quanzi serve",
    )
    _listen_arguments(front, port=8001, workers=0, workers_help="processes (default: one per core)")
    front.add_argument(
        "--upstream",
        default="",
        help="the quanzi serve instances to hand other requests to "
        "(default QUANZI_FRONT_UPSTREAM, http://127.0.0.1:8000)",
    )
    front.set_defaults(func=cmd_front)

    migrate = sub.add_parser("migrate", help="create or update the database tables")
    migrate.add_argument(
        "-v", "--verbose", action="store_true", help="list every migration as it is applied"
    )
    migrate.set_defaults(func=cmd_migrate)

    worker = sub.add_parser("worker", help="run background jobs and scheduled sweeps")
    worker.add_argument("--concurrency", type=int, default=2, help="jobs run at once (default 2)")
    worker.add_argument(
        "--embedded", action="store_true", help="run sweeps in-process even with Redis"
    )
    worker.set_defaults(func=cmd_worker)

    jobs = sub.add_parser("jobs", help="background jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_run = jobs_sub.add_parser("run", help="run every due sweep once, now, and exit")
    jobs_run.set_defaults(func=cmd_jobs_run)

    ledger = sub.add_parser("ledger", help="the money ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    check = ledger_sub.add_parser("check", help="prove the ledger's invariants")
    check.set_defaults(func=cmd_ledger_check)

    simulate = sub.add_parser(
        "simulate", help="seeded whole-system simulation with faults, on a throwaway database"
    )
    from quanzi.simulation.command import add_arguments

    add_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    risk = sub.add_parser("risk", help="risk control")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True)
    evaluate = risk_sub.add_parser(
        "evaluate",
        help="measure the risk rules on a seeded population with known abusers "
        "(a throwaway database)",
    )
    evaluate.add_argument("--seed", type=int, default=1, help="the population's seed")
    evaluate.add_argument("--honest", type=int, default=300, help="honest customers")
    evaluate.add_argument("--farms", type=int, default=8, help="abusers of each kind")
    evaluate.add_argument("--write", metavar="FILE", help="also write the table to FILE")
    evaluate.set_defaults(func=cmd_risk_evaluate)

    analytics = sub.add_parser("analytics", help="analytics facts")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", required=True)
    backfill = analytics_sub.add_parser("backfill", help="rebuild the daily facts of a range")
    backfill.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
    backfill.set_defaults(func=cmd_analytics_backfill)

    user = sub.add_parser("user", help="users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user")
    create.add_argument("--phone", required=True, help="mobile number, the login name")
    create.add_argument("--password", required=True, help="at least 6 characters")
    create.add_argument("--nickname", help="the name shown to others (optional)")
    create.add_argument(
        "--role",
        action="append",
        choices=["operator", "supplier", "leader", "creator"],
        help="a role to give; repeat for several (operator opens the dashboard)",
    )
    create.set_defaults(func=cmd_user_create)

    recommend = sub.add_parser("recommend", help="recommendations")
    recommend_sub = recommend.add_subparsers(dest="recommend_command", required=True)
    evaluate = recommend_sub.add_parser(
        "evaluate", help="offline Recall/NDCG/HR@K of the recommenders on held-out data"
    )
    from quanzi.recommend.evaluation import add_arguments as add_evaluate_arguments

    add_evaluate_arguments(evaluate)
    evaluate.set_defaults(func=cmd_recommend_evaluate)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument(
        "rest", nargs=argparse.REMAINDER, help="the command and its arguments, as for manage.py"
    )
    manage.set_defaults(func=cmd_manage)
    return parser


def cmd_manage(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["quanzi manage", *args.rest])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
