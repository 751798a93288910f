"""Demo circles for ``quanzi demo``."""

from __future__ import annotations


def demo_step(ctx: dict) -> None:
    return None
