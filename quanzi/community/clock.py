"""The server clock that decides cutoffs (one place, so that tests can stand at a second)."""

from __future__ import annotations

from django.utils import timezone


def now():
    return timezone.now()
