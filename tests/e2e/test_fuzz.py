"""The API fuzzed against its own committed schema, on a live server and PostgreSQL.

schemathesis generates requests for every operation in ``docs/openapi.json`` and sends
them to a real ``quanzi serve`` (two worker processes, a fresh PostgreSQL database, no
Redis), three times: anonymous, as a customer, as an operator. Every answer must

* never be a 5xx (``not_a_server_error``),
* carry a status code the schema documents for the operation (``status_code_conformance``),
* have the documented content type and body (``content_type_conformance``,
  ``response_schema_conformance``),
* and, for every 4xx, be the API's error shape ``{"code", "message", "detail"}``.

``QUANZI_FUZZ_EXAMPLES`` (default 10) bounds the examples per operation and mode (valid,
invalid), each sent as every role, and the scenarios of the stateful phase;
``QUANZI_FUZZ_SEED`` fixes the seed (default 20261205), so a failure replays.
Skipped unless PostgreSQL is reachable.
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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ADMIN_URL = os.environ.get("QUANZI_E2E_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("QUANZI_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("QUANZI_FUZZ_SEED", "20261205"))
PORTS = range(18420, 18430)
ROLES = ["anonymous", "customer", "operator"]
# Calls that would end the role's own session: fuzzed anonymously only.
SESSION_ENDERS = {("POST", "/api/v1/auth/logout")}


def _libpq(url: str, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, "/" + dbname if dbname else parts.path, "", ""))


def _postgres_missing() -> str | None:
    try:
        import psycopg

        with psycopg.connect(_libpq(ADMIN_URL), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL is not reachable at {ADMIN_URL} ({exc.__class__.__name__})"
    return None


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _call(base: str, method: str, path: str, body=None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - localhost
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class LiveServer:
    def __init__(self):
        self.dbname = f"qz_fuzz_{os.getpid()}_{secrets.token_hex(3)}"
        self.workdir = Path(tempfile.mkdtemp(prefix="qz-fuzz-"))
        parts = urlsplit(ADMIN_URL)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QUANZI_")}
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "quanzi.settings",
                "PYTHONUNBUFFERED": "1",
                "QUANZI_PRODUCTION": "1",
                "QUANZI_SECRET_KEY": secrets.token_urlsafe(32),
                "QUANZI_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "QUANZI_ALLOW_SANDBOX": "1",
                "QUANZI_DATABASE_URL": urlunsplit(
                    (parts.scheme, parts.netloc, "/" + self.dbname, "", "")
                ),
                "QUANZI_DATA_DIR": str(self.workdir / "data"),
                "QUANZI_STATIC_ROOT": str(self.workdir / "static"),
                "QUANZI_PROXY_COUNT": "0",
                "QUANZI_LOG_LEVEL": "WARNING",
            }
        )
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "serve.log"
        self.base = ""

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "quanzi.cli", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self) -> None:
        import psycopg

        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        migrate = self.cli("migrate")
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        for phone, role in [("13800000000", "operator"), ("13800000001", None)]:
            args = ["user", "create", "--phone", phone, "--password", "fuzz-password"]
            created = self.cli(*args, *(["--role", role] if role else []))
            assert created.returncode == 0, created.stderr
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "quanzi.cli", "serve", "--port", str(port), "--workers", "2"],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError, ValueError):
                if _call(self.base, "GET", "/readyz")[0] == 200:
                    break
            assert self.proc.poll() is None, self.log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.3)

    def login(self, phone: str) -> str:
        status, body = _call(
            self.base, "POST", "/api/v1/auth/login", {"phone": phone, "password": "fuzz-password"}
        )
        assert status == 200, body
        return body["token"]

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        import psycopg

        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        if os.environ.get("QUANZI_E2E_KEEP_LOGS"):
            print(f"fuzz server log kept in {self.log_path}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _seed_catalog(server: LiveServer, operator: str) -> None:
    """A few rows, so that small ids and the lists are not all empty."""
    for i in range(3):
        status, body = _call(
            server.base,
            "POST",
            "/api/v1/admin/products",
            {
                "title": f"东北大米 {i}",
                "skus": [{"name": "5kg", "price": 1990, "supply_price": 1000, "stock": 10_000}],
            },
            token=operator,
        )
        assert status == 201, body


@pytest.fixture(scope="module")
def fuzz_server():
    missing = _postgres_missing()
    if missing:
        pytest.skip(f"the API fuzzer needs PostgreSQL: {missing}")
    server = LiveServer()
    try:
        server.start()
        server.tokens = {
            "anonymous": None,
            "operator": server.login("13800000000"),
            "customer": server.login("13800000001"),
        }
        _seed_catalog(server, server.tokens["operator"])
        yield server
    finally:
        server.stop()


@schemathesis.check
def error_shape(ctx, response, case):
    """Every 4xx answer of Quanzi is ``{"code": str, "message": str, "detail": object}``.

    Except a request line past 64 KiB: the HTTP server itself answers it ``414`` without
    a body, before the request reaches Quanzi (which answers ``uri_too_long`` from 8,190
    bytes on).
    """
    if 400 <= response.status_code < 500 and not (
        response.status_code == 414 and not response.content
    ):
        try:
            body = response.json()
        except ValueError as exc:
            raise AssertionError(
                f"{response.status_code} is not JSON: {response.text[:200]}"
            ) from exc
        if not (
            isinstance(body, dict)
            and set(body) == {"code", "message", "detail"}
            and isinstance(body["code"], str)
            and isinstance(body["message"], str)
            and isinstance(body["detail"], dict)
        ):
            raise AssertionError(f"{response.status_code} is not the error shape: {body!r:.300}")
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


def _fuzz_operation(operation, mode, server, tally) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],  # report the first failing example as it is, unshrunk
    )
    @seed(SEED)
    def run(case):
        for role in ROLES:
            if role != "anonymous" and (case.method.upper(), case.path) in SESSION_ENDERS:
                continue
            token = server.tokens[role]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            case.call_and_validate(base_url=server.base, headers=headers, checks=CHECKS, timeout=30)
            tally[role] += 1
        tally["examples"] += 1

    run()


def _fuzz_stateful(schema, role: str, server, tally) -> None:
    """Follow the schema's links (create -> read / update / act on what was created)."""
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}

    class Scenario(schema.as_state_machine()):
        def setup(self):
            tally["scenarios"] += 1

        def get_call_kwargs(self, case):
            return {"base_url": server.base, "headers": headers, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            tally["stateful_steps"] += 1
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Scenario.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
    )


def test_api_answers_every_generated_request_as_its_schema_says(fuzz_server):
    schema = schemathesis.openapi.from_path(OPENAPI)
    tally = dict.fromkeys(
        [*ROLES, "examples", "stateful_steps", "scenarios", "stateful_cut_short"], 0
    )
    failures: list[str] = []
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz_operation(operation, mode, fuzz_server, tally)
            except Unsatisfiable:
                continue  # nothing to break in this operation (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:3000])
    for role in ("customer", "operator"):
        try:
            _fuzz_stateful(schema, role, fuzz_server, tally)
        except FlakyStrategyDefinition:
            # Which links a scenario can follow depends on what the server created before
            # (the database is not reset between scenarios), so Hypothesis may find that a
            # replayed scenario draws differently. That is no answer of the API's; every
            # call made so far was checked.
            tally["stateful_cut_short"] += 1
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures.append(f"stateful links as {role}: {exc}"[:3000])
    print(
        f"\nfuzz: {operations} operations, {tally['examples']} examples, "
        f"{sum(tally[r] for r in ROLES)} requests "
        + ", ".join(f"{r} {tally[r]}" for r in ROLES)
        + f"; stateful: {tally['stateful_steps']} linked calls in {tally['scenarios']} scenarios"
        + f" ({tally['stateful_cut_short']} roles cut short)"
        + f"; {EXAMPLES} examples per operation and mode, seed {SEED}, "
        f"{time.monotonic() - started:.0f}s, {len(failures)} failures"
    )
    assert not failures, "\n\n".join(failures)
