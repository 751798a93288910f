"""Shared plumbing of the benchmarks: a database of their own, a server, clean-up.

The benchmarks print figures; they never fail on timing. They fail (exit non-zero) only
when something is wrong with what they measured: errors, overselling, a broken ledger.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/qz_bench"


# --- the database -----------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def libpq_url(url: str) -> str:
    """psycopg and pgbench want ``postgresql://``; Django's URLs may say ``postgres://``."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


def pg_connect(url: str, *, autocommit: bool = True):
    import psycopg

    return psycopg.connect(libpq_url(url), autocommit=autocommit)


def database_create(url: str) -> bool:
    """Create the database when it is missing; True when this call created it."""
    name = db_name(url)
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"bench: refusing a database name like {name!r}")
    with pg_connect(_with_db(url, "postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
        return True


def database_drop(url: str) -> None:
    name = db_name(url)
    with pg_connect(_with_db(url, "postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_setting(url: str, name: str) -> str:
    with pg_connect(url) as conn:
        row = conn.execute("SELECT current_setting(%s, true)", [name]).fetchone()
        return (row[0] if row else "") or ""


# --- the environment of Quanzi processes --------------------------------------------


@dataclass
class Env:
    url: str
    data_dir: Path
    extra: dict[str, str] = field(default_factory=dict)

    def vars(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "QUANZI_DATABASE_URL": self.url,
                "QUANZI_DATA_DIR": str(self.data_dir),
                "DJANGO_SETTINGS_MODULE": "quanzi.settings",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
                ),
            }
        )
        env.update(self.extra)
        return env


def quanzi(env: Env, *args: str, check: bool = True, capture: bool = False):
    """Run the ``quanzi`` command line (``python -m quanzi.cli``) with ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "quanzi.cli", *args],
        env=env.vars(),
        check=check,
        cwd=str(REPO),
        capture_output=capture,
        text=True,
    )


def django_setup(env: Env) -> None:
    """Make this process a Quanzi process on the bench database (call once)."""
    os.environ.update({k: v for k, v in env.vars().items() if k.startswith(("QUANZI_", "DJANGO_"))})
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``quanzi serve --workers N`` in its own process group, stopped by that group's id."""

    def __init__(self, env: Env, *, workers: int, threads: int = 2, port: int | None = None):
        self.env = env
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.log_path = env.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    verb = "serve"

    def command(self) -> list[str]:
        listen = ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        return [self.verb, *listen, *self.options()]

    def argv(self) -> list[str]:
        """The whole command line that starts the server."""
        return [sys.executable, "-m", "quanzi.cli", *self.command()]

    def options(self) -> list[str]:
        """What this command takes beyond where it listens and how many processes."""
        return ["--threads", str(self.threads)]

    def start(self, timeout: float = 60) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            self.argv(),
            env=self.env.vars(),
            cwd=str(REPO),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: the server exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"bench: the server did not come up:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.proc is None:
            return []
        return [self.proc.pid, *children(self.proc.pid)]

    def rss_mb(self) -> float:
        return sum(rss_kb(pid) for pid in self.pids()) / 1024

    def cpu_seconds(self) -> float:
        """The master (with the workers it recycled and reaped) and its live workers."""
        if self.proc is None:
            return 0.0
        live = sum(proc_cpu_seconds(pid) for pid in children(self.proc.pid))
        return proc_cpu_seconds(self.proc.pid, reaped=True) + live

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def errors_logged(self) -> int:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if '"level": "error"' in line)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


# --- /proc ------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


class CommandServer(Server):
    """Another server for the same application, started from a command line instead of
    ``quanzi serve`` (``{port}`` is replaced by its port; a leading ``python`` is this
    interpreter), so a benchmark can measure it beside ``quanzi serve``."""

    def __init__(self, env: Env, command: str, *, port: int | None = None):
        super().__init__(env, workers=0, port=port)
        self.template = command

    def command(self) -> list[str]:
        argv = shlex.split(self.template)
        return [a.replace("{port}", str(self.port)) for a in argv]

    def argv(self) -> list[str]:
        argv = self.command()
        return [sys.executable, *argv[1:]] if argv[:1] == ["python"] else argv


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_user_system(pid: int, *, reaped: bool = False) -> tuple[float, float]:
    """Seconds of user and system CPU of the process (0, 0 once it is gone); with
    ``reaped`` also those of its children it has waited for (a server master's recycled
    workers: ``max_requests``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    user, system = int(fields[11]), int(fields[12])
    if reaped:
        user, system = user + int(fields[13]), system + int(fields[14])  # cutime, cstime
    return user / _TICK, system / _TICK


def proc_cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """utime + stime of the process (``reaped``: as in ``proc_user_system``)."""
    return sum(proc_user_system(pid, reaped=reaped))


def postgres_backends(dbname: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``dbname`` (by its process title)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {dbname} " in title:
            found[int(entry.name)] = proc_cpu_seconds(int(entry.name))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class CpuMeter:
    """CPU used between ``start()`` and ``stop()`` by this process, the server, and the
    PostgreSQL backends of the bench database (a backend that appeared meanwhile counts
    whole; one that exited meanwhile is lost)."""

    def __init__(self, server: Server | None = None, *, dbname: str = ""):
        self.server = server
        self.dbname = dbname

    def _sample(self) -> dict:
        busy, total = machine_busy()
        return {
            "wall": time.monotonic(),
            "driver": self_cpu_seconds(),
            "server": self.server.cpu_seconds() if self.server else 0.0,
            "backends": postgres_backends(self.dbname) if self.dbname else {},
            "busy": busy,
            "total": total,
        }

    def start(self) -> None:
        self.first = self._sample()

    def stop(self) -> dict[str, float]:
        last = self._sample()
        d = {k: last[k] - self.first[k] for k in last if k != "backends"}
        before = self.first["backends"]
        d["postgres"] = sum(cpu - before.get(pid, 0.0) for pid, cpu in last["backends"].items())
        capacity = max(d["wall"] * cpu_count(), 1e-9)
        return {
            "driver_share": d["driver"] / capacity,
            "server_share": d["server"] / capacity,
            "postgres_share": d["postgres"] / capacity,
            "machine_busy_share": d["busy"] / max(d["total"], 1e-9),
        }


# --- printing -------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def emit(report: list[str], figures: dict) -> None:
    """The human-readable report, then one JSON line last."""
    for line in report:
        print(line)
    sys.stdout.flush()
    print(json.dumps(figures, ensure_ascii=False, sort_keys=False))
    sys.stdout.flush()


@contextlib.contextmanager
def workspace(url: str, *, keep: bool):
    """A data dir and (maybe) a fresh database, removed afterwards unless ``keep``."""
    created = database_create(url)
    data_dir = Path(tempfile.mkdtemp(prefix="quanzi-bench-"))
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    for sig in previous:
        signal.signal(sig, interrupted)
    try:
        yield Env(url=url, data_dir=data_dir), created
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created and not keep:
            database_drop(url)
        shutil.rmtree(data_dir, ignore_errors=True)


class Front(Server):
    """``quanzi front --workers N --upstream <server>``: the async front (uvicorn) beside a
    ``Server``, as nginx would route the fast paths to it in production."""

    def __init__(self, env: Env, *, upstream: Server, workers: int, port: int | None = None):
        super().__init__(env, workers=workers, port=port)
        self.upstream = upstream
        self.log_path = env.data_dir / "front.log"

    verb = "front"

    def options(self) -> list[str]:
        return ["--upstream", self.upstream.base]
