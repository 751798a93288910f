"""Carrier aggregators behind one interface (``base.TrackingProvider``).

``get_provider()`` answers the one configured by ``QUANZI_TRACKING_PROVIDER``:
``kuaidi100`` (快递100: subscribe, query, push) or ``none`` (the default: shipments are
recorded and shown, no carrier is asked).
"""

from __future__ import annotations

from quanzi.supply.tracking.base import (
    InvalidPush,
    NoTracking,
    TrackEvent,
    TrackingError,
    TrackingProvider,
    TrackReport,
    setting,
)

__all__ = [
    "InvalidPush",
    "TrackEvent",
    "TrackReport",
    "TrackingError",
    "TrackingProvider",
    "get_provider",
]


def get_provider(name: str | None = None) -> TrackingProvider:
    name = name or setting("QUANZI_TRACKING_PROVIDER", "none")
    if name == "kuaidi100":
        from quanzi.supply.tracking.kuaidi100 import Kuaidi100

        return Kuaidi100()
    if name == "none":
        return NoTracking()
    raise TrackingError(f"no tracking provider named {name}")
