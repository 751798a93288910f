"""Demo history for ``quanzi demo``: two weeks of a small population living in the shop
(``quanzi.simulation.population``), so the analytics pages open on weeks of meaningful
charts, and a little seeded abuse, so the risk queue has holds to review.

``QUANZI_DEMO_DAYS`` / ``QUANZI_DEMO_USERS`` change its size (0 days: none).
"""

from __future__ import annotations

import os


def demo_step(ctx: dict) -> None:
    from quanzi.simulation.population import populate

    days = int(os.environ.get("QUANZI_DEMO_DAYS", "14"))
    users = int(os.environ.get("QUANZI_DEMO_USERS", "60"))
    if days <= 0:
        return
    populate(days=days, users=max(8, users), seed=1, abuse_farms=1)
