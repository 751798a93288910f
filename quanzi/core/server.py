"""``quanzi serve``: gunicorn with N worker processes that truly serve in parallel.

In production (``QUANZI_PRODUCTION=1``) it first collects the static files into
``STATIC_ROOT`` when no manifest is there yet (the deploy step ``quanzi manage
collectstatic --noinput`` does the same ahead of time; see docs/deploy.md).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

from gunicorn.app.base import BaseApplication

from quanzi.core.logging import get_logger

log = get_logger("quanzi.server")


class _QuanziServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from quanzi.wsgi import application

        warm_up(freeze=True)
        return application


def warm_up(*, freeze: bool = False) -> None:
    """Do once, in the master before it forks, what every process would otherwise do on
    its first requests: import the URLconf (which builds the API and its schemas) and
    load each language's translations. A new or recycled process then answers its first
    request as fast as its thousandth, and the workers share those pages of memory.

    Connections opened on the way (database, cache) are closed again: a connection must
    never be shared by forked processes.

    ``freeze`` (the master, before it forks): what is loaded by then lives as long as the
    process, so it is moved out of the garbage collector's sight (``gc.freeze``); no
    collection in a worker walks it again (nor writes to its pages, which the workers
    then keep sharing with the master)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and builds the API
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Quanzi")
    connections.close_all()
    caches.close_all()
    if freeze:
        gc.collect()
        gc.freeze()


def static_collected() -> bool:
    from django.conf import settings

    return (Path(settings.STATIC_ROOT) / "staticfiles.json").exists()


def collectstatic_if_needed() -> bool:
    """Collect static files when production serves them from an empty STATIC_ROOT."""
    from django.conf import settings

    if not settings.PRODUCTION or static_collected():
        return False
    from django.core.management import call_command

    log.info("collecting static files", extra={"static_root": str(settings.STATIC_ROOT)})
    call_command("collectstatic", interactive=False, verbosity=0)
    return True


def gunicorn_options(*, host: str, port: int, workers: int = 0, threads: int = 1) -> dict:
    """Sync workers by default (one request at a time per process, a connection closed
    after each answer); ``threads`` > 1 gives threaded workers that keep clients'
    connections alive between requests (each thread has its own database connection)."""
    workers = workers or (2 * multiprocessing.cpu_count() + 1)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": max(threads, 1),
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # The application is loaded and warmed once in the master (``warm_up``), then
        # forked: no process pays for importing it on its first requests.
        "preload_app": True,
        # The longest request line gunicorn takes (its maximum); a longer one is answered
        # 414 by gunicorn itself, before Quanzi (documented on operations with a query).
        "limit_request_line": 8190,
        # Recycle each process now and then (memory held by a long-lived Python process).
        "max_requests": 5000,
        "max_requests_jitter": 500,
        # Quanzi logs one JSON line per request itself (quanzi.http, with its request id).
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": f"quanzi-serve-{port}",
    }
    if os.path.isdir("/dev/shm"):
        options["worker_tmp_dir"] = "/dev/shm"  # heartbeat files off a slow disk
    return options


def serve(*, host: str, port: int, workers: int = 0, threads: int = 1) -> int:
    collectstatic_if_needed()
    options = gunicorn_options(host=host, port=port, workers=workers, threads=threads)
    # The workers inherit it: /healthz reports how many processes serve beside it.
    os.environ["QUANZI_SERVE_WORKERS"] = str(options["workers"])
    for warning in cache_warnings():
        log.warning(warning, extra={"workers": options["workers"]})
    _QuanziServer(options).run()
    return 0


def front(*, host: str, port: int, workers: int = 0, upstream: str = "") -> int:
    """``quanzi front``: the async front (``quanzi.core.front``) in ``workers`` uvicorn
    processes (default: one per core), handing what it does not answer to ``upstream``
    (default ``QUANZI_FRONT_UPSTREAM``)."""
    import uvicorn

    if upstream:
        os.environ["QUANZI_FRONT_UPSTREAM"] = upstream
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    uvicorn.run(
        "quanzi.asgi:application",
        host=host,
        port=port,
        workers=workers or multiprocessing.cpu_count(),
        loop=loop,
        http="httptools",
        ws="none",
        lifespan="on",
        access_log=False,  # one JSON line per request, Quanzi's own (quanzi.http)
        log_level="warning",
        # The client's address is nginx's, as gunicorn sees it: QUANZI_PROXY_COUNT then
        # reads X-Forwarded-For the same way for both.
        proxy_headers=False,
        server_header=False,
        date_header=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
    )
    return 0


def server_processes() -> int:
    """How many processes ``quanzi serve`` started (1 when not run by it)."""
    try:
        return max(1, int(os.environ.get("QUANZI_SERVE_WORKERS", "1")))
    except ValueError:
        return 1


def cache_warnings() -> list[str]:
    """What an operator should know when several processes serve without a shared cache."""
    from quanzi.core.ratelimit import rate_limit_store, shared_cache

    if server_processes() < 2 or shared_cache():
        return []
    warning = (
        "several server processes and no shared cache (QUANZI_REDIS_URL): each process "
        "caches on its own"
    )
    if rate_limit_store() == "database":
        return [warning + "; rate limits are counted in the database, shared by all processes"]
    return [warning + "; rate limits are counted per process, so the real limit is N times it"]
