"""A clock the simulation controls.

Quanzi reads the time through ``django.utils.timezone.now`` (services, sweeps, model
``auto_now`` fields) and ``timezone.localdate`` / ``localtime`` (which call it). While
``SimClock.installed()`` is active that function answers the simulated time, which only
moves when the driver advances it, so a run never depends on the wall clock.
``User.date_joined`` keeps the real function (its field default was taken at import);
the world stamps new users with the simulated time itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.utils import timezone

# The first moment of every run: fixed, so that a seed replays the same days and hours.
EPOCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class SimClock:
    def __init__(self, start: datetime = EPOCH):
        self._now = start
        self.start = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the simulated clock never goes back")
        self._now = self._now + timedelta(seconds=seconds)
        return self._now

    @property
    def elapsed(self) -> timedelta:
        return self._now - self.start

    @contextlib.contextmanager
    def installed(self) -> Iterator[SimClock]:
        """Make ``timezone.now`` answer this clock until the block ends."""
        original = timezone.now
        timezone.now = self.now
        try:
            yield self
        finally:
            timezone.now = original
