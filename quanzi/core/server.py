"""``quanzi serve``: granian with N worker processes that truly serve in parallel.

Granian parses HTTP in compiled code and keeps clients' connections alive between
requests; each worker process runs Quanzi's WSGI application on ``--threads`` threads
(default 2), each with its own database connection. The master loads and warms the
application before it forks the workers (``warm_up``), so they share its memory.

In production (``QUANZI_PRODUCTION=1``) it first collects the static files into
``STATIC_ROOT`` when no manifest is there yet (the deploy step ``quanzi manage
collectstatic --noinput`` does the same ahead of time; see docs/deploy.md).
"""

from __future__ import annotations

import copy
import gc
import json
import multiprocessing
import os
from pathlib import Path
from urllib.parse import quote

from quanzi.core.logging import get_logger

log = get_logger("quanzi.server")

# The longest request line (method, target and version) Quanzi serves: a longer one is
# answered 414 before the application sees it (documented on operations with a query).
MAX_REQUEST_LINE = 8190


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


def server_options(*, host: str, port: int, workers: int = 0, threads: int = 2) -> dict:
    """Granian's settings for ``quanzi serve``: ``workers`` processes (default one per
    core), each running the application on ``threads`` threads (each with its own
    database connection: one thread runs Python while another waits on the database).

    Measured on two cores (bench/README.md): two processes of two threads cost the least
    CPU per order; five processes of one thread (as many as the sync server before it
    ran) cost more, handing each request between more threads than there are cores."""
    from django.conf import settings
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    workers = workers or multiprocessing.cpu_count()
    threads = max(threads, 1)
    return {
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": workers,
        "blocking_threads": threads,
        # How many connections a process holds at once (each kept alive between its
        # requests, which the process's threads answer in turn): the listening socket's
        # backlog shared by the processes, granian's default.
        "backpressure": None,
        "websockets": False,
        # Clients' connections stay open between requests (nginx keeps some open to each
        # instance: deploy/nginx/quanzi.conf); a request's headers must come within 30 s.
        "http1_settings": HTTP1Settings(header_read_timeout=30_000, keep_alive=True),
        # A process that dies is replaced. In production one whose memory grows past 1 GiB
        # is replaced too, gracefully (what a long-lived Python process holds on to); set
        # the kernel's net.ipv4.tcp_migrate_req=1 so that connections queued for it move
        # to another process (docs/deploy.md).
        "respawn_failed_workers": True,
        "workers_max_rss": 1024 if settings.PRODUCTION else None,
        # On stop or restart, a request in flight has 30 s to finish.
        "workers_kill_timeout": 30,
        # Quanzi logs one JSON line per request itself (quanzi.http, with its request id);
        # the server's own lines are JSON too, warnings and worse.
        "log_access": False,
        "log_level": LogLevels.warning,
        "log_dictconfig": _server_logging(),
        "process_name": f"quanzi-serve-{port}",
    }


def _server_logging() -> dict:
    """Quanzi's logging, with the server's own logger writing through the same handler."""
    from django.conf import settings

    config = copy.deepcopy(settings.LOGGING)
    config["loggers"]["_granian"] = {
        "handlers": ["console"],
        "level": "WARNING",
        "propagate": False,
    }
    config["loggers"]["granian.access"] = {"handlers": [], "propagate": False}
    return config


def _loaded_application(_target: str):
    """What each worker serves: the application the master loaded and warmed before it
    forked, so the worker imports nothing."""
    from quanzi.wsgi import application

    return application


def limit_request_line(app, limit: int = MAX_REQUEST_LINE):
    """Answer ``414`` (``uri_too_long``) to a request whose request line (method, target
    and version, the target's path percent-encoded as clients send it) is longer than
    ``limit`` bytes, before the application reads it."""
    body = json.dumps(
        {
            "code": "uri_too_long",
            "message": f"The request line is longer than {limit} bytes.",
            "detail": {"limit": limit},
        }
    ).encode()

    def application(environ, start_response):
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        rest = len(environ.get("REQUEST_METHOD", "")) + len(environ.get("SERVER_PROTOCOL", ""))
        rest += 2 + (len(query) + 1 if query else 0)
        # A path byte is at most three on the line ("%E4"): only a long one is encoded.
        if rest + 3 * len(path) > limit and rest + _encoded_length(path) > limit:
            start_response(
                "414 URI Too Long",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return application


def _encoded_length(path: str) -> int:
    """The length of a WSGI path (its bytes as latin-1) as a client puts it on the line."""
    return len(quote(path.encode("latin-1", "replace"), safe="/:@!$&'()*+,;=-._~"))


def serve(*, host: str, port: int, workers: int = 0, threads: int = 2) -> int:
    collectstatic_if_needed()
    options = server_options(host=host, port=port, workers=workers, threads=threads)
    # The workers inherit it: /healthz reports how many processes serve beside it.
    os.environ["QUANZI_SERVE_WORKERS"] = str(options["workers"])
    for warning in cache_warnings():
        log.warning(warning, extra={"workers": options["workers"]})
    from granian.server import Server

    import quanzi.wsgi  # noqa: F401 - loaded once here, then forked into every worker

    # Workers are forked from this process (not spawned): what it loaded they share.
    multiprocessing.set_start_method("fork", force=True)
    warm_up(freeze=True)
    Server("quanzi.wsgi:application", **options).serve(target_loader=_loaded_application)
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
        # The client's address is nginx's, as `quanzi serve` sees it: QUANZI_PROXY_COUNT then
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
