"""``quanzi serve``: gunicorn with N worker processes that truly serve in parallel."""

from __future__ import annotations

import multiprocessing

from gunicorn.app.base import BaseApplication


class _QuanziServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from quanzi.wsgi import application

        return application


def serve(*, host: str, port: int, workers: int = 0) -> int:
    workers = workers or (2 * multiprocessing.cpu_count() + 1)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    _QuanziServer(options).run()
    return 0
