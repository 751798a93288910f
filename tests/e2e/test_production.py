"""Production mode end to end: PostgreSQL + Redis + Celery, several processes, real HTTP.

A fresh PostgreSQL database is migrated with ``quanzi migrate``; two ``quanzi serve``
processes (one worker process each, ``QUANZI_PRODUCTION=1``) and one ``quanzi worker``
(Celery with embedded beat, Redis DB 5 as broker and cache) run against it. Every API call
alternates between the two servers. Then:

1. an order paid after it was cancelled is refunded by the worker (nobody runs a job);
2. a refund the operator makes is executed by the worker;
3. a group that expires is failed and refunded by the worker's sweep (when the
   group-buying API is there);
4. hundreds of unpaid orders pass their payment window; the worker is SIGKILLed (with
   its pool and beat) while the expiry sweep is cancelling them, restarted, and the
   system converges: every order cancelled, every unit of stock released exactly once;
5. ``/healthz`` is green and ``quanzi ledger check`` exits 0 with ``ledger ok``.

Skipped unless PostgreSQL and Redis are reachable. Every wait is bounded; every process
is killed at the end and the database dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ADMIN_URL = os.environ.get("QUANZI_E2E_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("QUANZI_E2E_REDIS_URL", "redis://127.0.0.1:6379/5")
REPO = Path(__file__).resolve().parents[2]
EXPIRING_ORDERS = 300


def _libpq(url: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    path = "/" + dbname if dbname else parts.path
    return urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))


def _services_missing() -> str | None:
    try:
        import psycopg

        with psycopg.connect(_libpq(ADMIN_URL), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL is not reachable at {ADMIN_URL} ({exc.__class__.__name__})"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__})"
    return None


def wait_until(what: str, predicate: Callable[[], object], timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Http:
    """JSON over HTTP to one of several servers; no answer may ever be a 5xx."""

    def __init__(self, bases: list[str]):
        self.bases = bases
        self.turn = 0
        self.calls = 0

    def call(self, method, path, body=None, *, token=None, headers=None, server=None):
        if server is None:
            server = self.turn % len(self.bases)
            self.turn += 1
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.bases[server] + path, data=data, method=method, headers=dict(headers or {})
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            # The headers as received: looked up by name in any case (HTTP's names are
            # case-insensitive; the server sends them in lower case).
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, raw, head = answer.status, answer.read(), answer.headers
        except urllib.error.HTTPError as error:
            status, raw, head = error.code, error.read(), error.headers
        self.calls += 1
        assert status < 500, f"{method} {path} on server {server}: {status} {raw[:500]!r}"
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw
        return status, payload, head


class Cluster:
    def __init__(self, workdir: Path, database_url: str):
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QUANZI_")}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "quanzi.settings",
                "PYTHONUNBUFFERED": "1",
                "QUANZI_PRODUCTION": "1",
                "QUANZI_SECRET_KEY": secrets.token_urlsafe(32),
                "QUANZI_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "QUANZI_ALLOW_SANDBOX": "1",
                "QUANZI_DATABASE_URL": database_url,
                "QUANZI_REDIS_URL": REDIS_URL,
                "QUANZI_DATA_DIR": str(workdir / "data"),
                "QUANZI_STATIC_ROOT": str(workdir / "static"),
                "QUANZI_PROXY_COUNT": "0",
                # Sweeps every second and a short lock lapse, so the test runs in seconds.
                "QUANZI_SWEEP_INTERVAL_CAP": "1",
                "QUANZI_SWEEP_LOCK_TTL": "3",
            }
        )
        self.procs: dict[str, subprocess.Popen] = {}
        self.log_files: list = []

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "quanzi.cli", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop_all
        self.log_files.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "quanzi.cli", *args],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: pool and beat die with it
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=15)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()  # the leader shuts its children down (warm shutdown)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group, even if the leader is gone
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self.procs.clear()
        for log in self.log_files:
            log.close()

    def log_text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def log_lines(self, name: str) -> list[dict]:
        lines = []
        for line in self.log_text(name).splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    lines.append(json.loads(line))
        return lines


@pytest.fixture
def cluster():
    missing = _services_missing()
    if missing:
        pytest.skip(f"production end-to-end test needs PostgreSQL and Redis: {missing}")
    import psycopg
    import redis

    name = f"qz_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="qz-e2e-"))
    parts = urlsplit(ADMIN_URL)
    database_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    running = Cluster(workdir, database_url)
    running.dbname = name
    running.db = psycopg.connect(_libpq(ADMIN_URL, name), autocommit=True)
    try:
        yield running
    finally:
        running.stop_all()
        running.db.close()
        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if os.environ.get("QUANZI_E2E_KEEP_LOGS"):
            print(f"e2e logs kept in {workdir / 'logs'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _ready(http: Http, server: int) -> bool:
    try:
        status, body, _ = http.call("GET", "/readyz", server=server)
    except (urllib.error.URLError, ConnectionError, OSError):
        return False
    return status == 200 and body["ready"] is True


def _sql(cluster, query: str, *params):
    return cluster.db.execute(query, params).fetchall()


def test_production_cluster_converges_after_a_worker_is_killed_mid_sweep(cluster):
    started = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.monotonic() - started, 1)
        print(f"e2e {phases[name]:6.1f}s  {name}", flush=True)

    # --- set up: migrate, an operator, two servers, one worker ---------------------------
    migrate = cluster.run("migrate")
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    created = cluster.run(
        "user",
        "create",
        "--phone",
        "13800000000",
        "--password",
        "operator-pw",
        "--role",
        "operator",
    )
    assert created.returncode == 0, created.stderr
    phase("migrated")

    ports = [free_port(), free_port()]
    http = Http([f"http://127.0.0.1:{port}" for port in ports])
    # The first server collects the static files (production, empty STATIC_ROOT) ...
    cluster.start("web0", "serve", "--port", str(ports[0]), "--workers", "1")
    wait_until("server 0 ready", lambda: _ready(http, 0), timeout=90)
    cluster.start("web1", "serve", "--port", str(ports[1]), "--workers", "1")
    cluster.start("worker", "worker", "--concurrency", "2")
    wait_until("server 1 ready", lambda: _ready(http, 1), timeout=60)
    phase("servers up")

    # ... which whitenoise serves under hashed names, cached for ever.
    manifest = json.loads((cluster.workdir / "static" / "staticfiles.json").read_text())
    original, hashed = next(iter(manifest["paths"].items()))
    assert hashed != original
    status, _, head = http.call("GET", f"/static/{hashed}", server=1)
    assert status == 200 and "immutable" in head.get("Cache-Control", "")
    # Production refuses hosts it does not serve.
    assert http.call("GET", "/readyz", headers={"Host": "evil.example"})[0] == 400

    status, body, _ = http.call(
        "POST", "/api/v1/auth/login", {"phone": "13800000000", "password": "operator-pw"}
    )
    assert status == 200, body
    op = body["token"]
    status, body, _ = http.call(
        "PUT",
        "/api/v1/admin/settings",
        {"payment_timeout_seconds": 60, "refund_retry_seconds": 1},
        token=op,
    )
    assert status == 200, body
    status, product, _ = http.call(
        "POST",
        "/api/v1/admin/products",
        {
            "title": "东北大米 5kg",
            "skus": [{"name": "默认", "price": 1990, "supply_price": 1000, "stock": 5000}],
        },
        token=op,
    )
    assert status == 201, product
    sku_id = product["skus"][0]["id"]

    customers = []
    for i in range(4):
        status, body, _ = http.call(
            "POST",
            "/api/v1/auth/register",
            {"phone": f"1390000{i:04d}", "password": "customer-pw", "nickname": f"c{i}"},
        )
        assert status == 201, body
        token = body["token"]
        status, address, _ = http.call(
            "POST",
            "/api/v1/me/addresses",
            {
                "name": "张三",
                "phone": "13900000000",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": "文三路 1 号",
            },
            token=token,
        )
        assert status == 201, address
        customers.append((token, address["id"]))
    buyer, buyer_address = customers[0]

    status, health, _ = http.call("GET", "/healthz")
    assert health["database"] == "ok" and health["broker"] == "ok"
    assert health["mode"] == "celery" and health["version"]
    phase("shop set up")

    def place(token, address_id, qty=1):
        status, order, _ = http.call(
            "POST",
            "/api/v1/orders",
            {"items": [{"sku_id": sku_id, "qty": qty}], "address_id": address_id},
            token=token,
        )
        assert status == 201, order
        return order

    def pay(token, order_id):
        status, body, _ = http.call(
            "POST", f"/api/v1/orders/{order_id}/pay", {"gateway": "sandbox"}, token=token
        )
        assert status == 200, body
        return body["payment_id"]

    def refunds_of(token, order_id):
        status, body, _ = http.call("GET", f"/api/v1/orders/{order_id}/refunds", token=token)
        assert status == 200, body
        return body

    # --- 1. paid after its cancellation: the worker refunds it ------------------------
    late = place(buyer, buyer_address)
    payment_id = pay(buyer, late["id"])
    status, cancelled, _ = http.call("POST", f"/api/v1/orders/{late['id']}/cancel", token=buyer)
    assert status == 200 and cancelled["status"] == "cancelled"
    status, body, _ = http.call(
        "POST",
        f"/api/v1/payments/sandbox/{payment_id}/complete",
        token=buyer,
        headers={"X-Request-ID": "e2e-late-payment"},
    )
    assert status == 200, body
    refunded = wait_until(
        "the late payment refunded by the worker",
        lambda: [r for r in refunds_of(buyer, late["id"]) if r["status"] == "succeeded"],
        timeout=30,
    )
    assert len(refunded) == 1 and refunded[0]["amount"] == late["payable"]
    # The refund task queued by that web request ran on the worker under the request's id
    # (the retry sweep may have got there first: then the task found nothing left to do).
    wait_until(
        "the refund task's log line on the worker",
        lambda: [
            line
            for line in cluster.log_lines("worker")
            if line.get("event") == "task done"
            and line.get("request_id") == "e2e-late-payment"
            and line.get("path") == "quanzi.payments.services.refund_execute"
        ],
        timeout=15,
    )
    # The refund was booked once, by the worker, and logged once.
    key = f"refund:{refunded[0]['id']}"
    booked = [
        (name, line)
        for name in ("web0", "web1", "worker")
        for line in cluster.log_lines(name)
        if line.get("event") == "ledger entry" and line.get("key") == key
    ]
    assert [name for name, _ in booked] == ["worker"], booked
    phase("late payment refunded")

    # --- 2. the operator refunds a paid order: the worker executes it ------------------
    paid = place(buyer, buyer_address, qty=2)
    payment_id = pay(buyer, paid["id"])
    assert (
        http.call("POST", f"/api/v1/payments/sandbox/{payment_id}/complete", token=buyer)[0] == 200
    )
    status, refund, _ = http.call(
        "POST", f"/api/v1/admin/orders/{paid['id']}/refunds", {"reason": "破损"}, token=op
    )
    assert status == 201, refund
    wait_until(
        "the operator's refund executed",
        lambda: (
            http.call("GET", f"/api/v1/orders/{paid['id']}", token=buyer)[1]["status"] == "refunded"
        ),
        timeout=30,
    )
    assert [r["status"] for r in refunds_of(buyer, paid["id"])] == ["succeeded"]
    phase("operator refund executed")

    # --- 3. a group that expires is failed and refunded by a sweep ----------------------
    group_checked = _group_expires_and_is_refunded(cluster, http, op, sku_id, customers)
    phase("group expiry" if group_checked else "group expiry (no group-buying API)")

    # --- 4. hundreds of orders expire; the worker dies mid-sweep and converges ---------
    stock_before = _stock(http, product["id"])
    jobs = [customers[i % len(customers)] for i in range(EXPIRING_ORDERS)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = [o["id"] for o in pool.map(lambda c: place(*c), jobs)]
    assert _stock(http, product["id"]) == stock_before - EXPIRING_ORDERS
    phase(f"{EXPIRING_ORDERS} orders placed")

    def cancelled_count() -> int:
        return _sql(
            cluster,
            "SELECT count(*) FROM orders_order WHERE id = ANY(%s) AND status = 'cancelled'",
            ids,
        )[0][0]

    # Their payment window passes (60 s is the shortest the settings allow: move it).
    cluster.db.execute(
        "UPDATE orders_order SET expires_at = now() - interval '1 second' WHERE id = ANY(%s)",
        [ids],
    )
    wait_until("the expiry sweep to start", lambda: cancelled_count() > 0, timeout=30, every=0.01)
    cluster.kill("worker", signal.SIGKILL)
    at_kill = cancelled_count()
    import redis

    lock_left = redis.Redis.from_url(REDIS_URL).exists("quanzi:sweep-lock:orders.expire_unpaid")
    assert 0 < at_kill < EXPIRING_ORDERS, f"not killed mid-sweep: {at_kill} cancelled"
    assert lock_left, "the killed worker's sweep lock should still be held until it lapses"
    time.sleep(1.5)
    assert cancelled_count() == at_kill  # nobody else is sweeping
    phase(f"worker killed with {at_kill}/{EXPIRING_ORDERS} cancelled")

    cluster.start("worker", "worker", "--concurrency", "2")
    wait_until(
        "every expired order cancelled after the restart",
        lambda: cancelled_count() == EXPIRING_ORDERS,
        timeout=60,
        every=0.5,
    )
    # Each order gave its unit back exactly once: none lost, none released twice.
    assert _stock(http, product["id"]) == stock_before
    statuses = dict(
        _sql(
            cluster, "SELECT status, count(*) FROM orders_order WHERE id = ANY(%s) GROUP BY 1", ids
        )
    )
    assert statuses == {"cancelled": EXPIRING_ORDERS}
    phase("converged")

    # --- 5. healthy, and the books balance ----------------------------------------------
    def green():
        status, body, _ = http.call("GET", "/healthz")
        return status == 200 and body["status"] == "ok" and body

    health = wait_until("healthz ok", green, timeout=30, every=0.5)
    assert health["pending_jobs"] == {"unpaid_expired": 0, "refunds_open": 0, "refunds_overdue": 0}
    assert isinstance(health["queue_length"], int)
    check = cluster.run("ledger", "check", timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("ledger ok"), check.stdout
    refunds = _sql(cluster, "SELECT count(*), count(DISTINCT refund_no) FROM orders_refund")[0]
    sandbox_refunds = _sql(
        cluster,
        "SELECT count(*), coalesce(sum(amount), 0) FROM payments_sandboxrecord WHERE kind = 'refund'",
    )[0]
    assert sandbox_refunds[0] == refunds[0] == refunds[1]  # one gateway refund per refund
    phase("ledger ok")

    # Nothing went wrong anywhere that nobody looked at.
    for name in ("web0", "web1", "worker"):
        errors = [line for line in cluster.log_lines(name) if line.get("level") == "error"]
        assert not errors, f"{name} logged errors: {errors[:3]}"
    print(f"e2e done: {http.calls} HTTP calls in {time.monotonic() - started:.1f}s")


def _stock(http: Http, product_id: int) -> int:
    status, body, _ = http.call("GET", f"/api/v1/products/{product_id}")
    assert status == 200, body
    return body["skus"][0]["stock"]


def _group_expires_and_is_refunded(cluster, http: Http, op: str, sku_id: int, customers) -> bool:
    """API.md's group buying: a group of two that only its leader joins expires and fails;
    the worker refunds the leader. Returns False when the group-buying API is not there."""
    status, campaign, _ = http.call(
        "POST",
        "/api/v1/admin/group-campaigns",
        {
            "title": "两人团",
            "skus": [{"sku_id": sku_id, "group_price": 1500}],
            "group_size": 2,
            "group_ttl_seconds": 60,
            "per_user_limit": 5,
            "stock": 10,
        },
        token=op,
    )
    if status == 404:
        return False
    assert status == 201, campaign
    leader, address = customers[1]
    status, opened, _ = http.call(
        "POST",
        "/api/v1/groups",
        {"campaign_id": campaign["id"], "sku_id": sku_id, "qty": 1, "address_id": address},
        token=leader,
    )
    assert status == 201, opened
    status, payment, _ = http.call(
        "POST", f"/api/v1/orders/{opened['order_id']}/pay", {"gateway": "sandbox"}, token=leader
    )
    assert status == 200, payment
    status, _, _ = http.call(
        "POST", f"/api/v1/payments/sandbox/{payment['payment_id']}/complete", token=leader
    )
    assert status == 200
    status, group, _ = http.call("GET", f"/api/v1/groups/{opened['group_id']}", token=leader)
    assert status == 200 and group["status"] == "forming", group
    # Its time runs out (the shortest ttl is long for a test: move its deadline).
    tables = [
        row[0]
        for row in _sql(
            cluster,
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'expires_at'"
            " AND table_name LIKE 'groupbuy%%' AND table_schema = 'public'",
        )
    ]
    moved = 0
    for table in tables:
        moved += cluster.db.execute(
            f"UPDATE \"{table}\" SET expires_at = now() - interval '1 second'"
            " WHERE id = %s AND expires_at > now()",
            [opened["group_id"]],
        ).rowcount
    assert moved >= 1 or tables == [], f"could not find the group's deadline in {tables}"
    wait_until(
        "the expired group failed and its leader refunded",
        lambda: (
            http.call("GET", f"/api/v1/orders/{opened['order_id']}", token=leader)[1]["status"]
            == "refunded"
        ),
        timeout=60 if moved else 90,
        every=0.5,
    )
    status, group, _ = http.call("GET", f"/api/v1/groups/{opened['group_id']}", token=leader)
    assert group["status"] == "failed", group
    return True
