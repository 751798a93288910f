"""Where the asker stands: the IP and device of the request being served.

``RiskSignalMiddleware`` opens a context for each request, so ``risk_check`` knows the
IP and ``X-Device-Id`` of a claim, a sign-in or a join without every service passing
them down. Outside a request (jobs, the simulation) the caller may open one itself with
``risk_context(ip=…, device_id=…)``; an event that carries its own values keeps them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    ip: str = ""
    device_id: str = ""


_NOWHERE = Where()
_WHERE: ContextVar[Where | None] = ContextVar("quanzi_risk_where", default=None)


def risk_where() -> Where:
    return _WHERE.get() or _NOWHERE


@contextlib.contextmanager
def risk_context(*, ip: str = "", device_id: str = "") -> Iterator[Where]:
    where = Where(ip=ip or "", device_id=(device_id or "")[:64])
    token = _WHERE.set(where)
    try:
        yield where
    finally:
        _WHERE.reset(token)
