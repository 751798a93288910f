#!/usr/bin/env python
"""The server's CPU per request: one signed-in ``GET``, in one process and through HTTP.

    python bench/request_cost.py --database-url postgres://postgres@127.0.0.1:5432/qz_bench_req
    python bench/request_cost.py … --command "python -m granian --interface wsgi \\
        --workers 2 --port {port} quanzi.wsgi:application"      # another WSGI server beside it

The checkout's every order is two such requests around its own work, so this is the
floor each order pays twice: the HTTP server, Django's request cycle and middleware, the
bearer token from the token cache, django-ninja, the request's log line.

1. **in one process**: ``quanzi/wsgi.py``'s application called as a WSGI server calls it,
   ``--requests`` times (the log lines written to a file, as the server's are); CPU ms
   per request (``time.process_time``).
2. **through HTTP**: ``quanzi serve --workers W`` (its production configuration) and wrk's
   ``--connections`` C clients for S seconds after a warm-up; CPU ms per request of the
   server's processes (user and system, from ``/proc``). ``--command`` runs another
   server the same way (``{port}`` is replaced), alternated with ``quanzi serve`` round
   by round (``--rounds``) on the same database.

Figures only; the exit status is 0 unless a request failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    CommandServer,
    Server,
    children,
    django_setup,
    emit,
    proc_user_system,
    quanzi,
    workspace,
)


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/qz_bench_req")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="'none': no Redis")
    ap.add_argument("--path", default="/api/v1/me", help="the GET each request sends")
    ap.add_argument("--requests", type=int, default=3000, help="requests in one process")
    ap.add_argument("--seconds", type=float, default=10, help="length of each HTTP window")
    ap.add_argument("--connections", type=int, default=32, help="wrk's connections")
    ap.add_argument(
        "--workers", type=int, default=0, help="quanzi serve's processes (default one per core)"
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--command", default="", help="another server to measure, with {port}")
    ap.add_argument("--keep", action="store_true")
    return ap.parse_args()


def user_system(pids: set[int]) -> tuple[float, float]:
    """Seconds of user and system CPU of the live processes among ``pids``."""
    times = [proc_user_system(pid) for pid in pids]
    return sum(u for u, _ in times), sum(s for _, s in times)


def wrk(url: str, token: str, *, seconds: float, connections: int) -> tuple[int, int]:
    """(requests answered, requests not answered 2xx or failed at the socket)."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    answered = failed = 0
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            answered = int(words[0])
        elif line.strip().startswith("Non-2xx"):
            failed += int(words[-1])
        elif line.strip().startswith("Socket errors"):
            failed += sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit())
    return answered, failed


def over_http(server: Server, args, token: str) -> dict:
    server.start()
    try:
        url = server.base + args.path
        wrk(url, token, seconds=2, connections=args.connections)  # warm every process
        pids = {server.proc.pid, *children(server.proc.pid)}
        user0, system0 = user_system(pids)
        answered, failed = wrk(url, token, seconds=args.seconds, connections=args.connections)
        user1, system1 = user_system(pids)
    finally:
        server.stop()
    per = 1000 / max(answered, 1)
    return {
        "requests": answered,
        "failed": failed,
        "per_second": round(answered / max(args.seconds, 1), 1),
        "user_ms": round((user1 - user0) * per, 3),
        "system_ms": round((system1 - system0) * per, 3),
        "cpu_ms": round((user1 - user0 + system1 - system0) * per, 3),
        "processes": len(pids),
    }


def in_process(args, token: str, log_path: Path) -> float:
    """CPU ms per request of ``quanzi.wsgi.application`` called in this process."""
    import io

    from quanzi.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": args.path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []

    def call() -> None:
        body = application(
            {**environ, "wsgi.input": io.BytesIO(b"")},
            lambda status, headers, exc_info=None: statuses.append(status),
        )
        b"".join(body)
        getattr(body, "close", lambda: None)()

    saved = os.dup(2)  # the request log lines go to a file, as the server's do
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            for _ in range(min(200, args.requests)):
                call()
            started = time.process_time()
            for _ in range(args.requests):
                call()
            spent = time.process_time() - started
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    refused = [s for s in statuses if not s.startswith("200")]
    if refused:
        raise SystemExit(f"bench: {args.path} answered {refused[0]} in one process")
    return 1000 * spent / max(args.requests, 1)


def main() -> int:
    args = parse()
    if not shutil.which("wrk"):
        raise SystemExit("bench: wrk is not installed (apt-get install wrk)")
    with workspace(args.database_url, keep=args.keep) as (env, _created):
        if args.redis_url != "none":
            env.extra["QUANZI_REDIS_URL"] = args.redis_url
        quanzi(env, "migrate", capture=True)
        django_setup(env)
        from _data import phone_prefix, users_bulk

        token = users_bulk(1, prefix=phone_prefix())[0].token
        one = in_process(args, token, env.data_dir / "in-process.log")
        rounds: list[dict] = []
        for n in range(args.rounds):
            rounds.append(
                {"server": "quanzi serve", "round": n + 1}
                | over_http(Server(env, workers=args.workers), args, token)
            )
            if args.command:
                rounds.append(
                    {"server": args.command, "round": n + 1}
                    | over_http(CommandServer(env, args.command), args, token)
                )

    report = [
        f"GET {args.path}, signed in (bearer token, token cache "
        f"{'on Redis' if args.redis_url != 'none' else 'in the process'}):",
        f"  in one process: {one:.3f} ms of CPU per request ({args.requests} requests)",
        f"  through HTTP, wrk -c{args.connections}, {args.seconds:g} s per round:",
    ]
    for r in rounds:
        report.append(
            f"    round {r['round']}, {r['server']} ({r['processes']} processes): "
            f"{r['per_second']:,.0f} requests/s, {r['cpu_ms']:.3f} ms of server CPU per "
            f"request (user {r['user_ms']:.3f}, system {r['system_ms']:.3f}), "
            f"{r['failed']} failed"
        )
    emit(report, {"path": args.path, "in_process_ms": round(one, 3), "rounds": rounds})
    return 1 if any(r["failed"] or not r["requests"] for r in rounds) else 0


if __name__ == "__main__":
    raise SystemExit(main())
