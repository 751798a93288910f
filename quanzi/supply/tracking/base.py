"""The one interface a carrier aggregator is used through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from quanzi.core.env import env_str


def setting(name: str, default: str = "") -> str:
    """A ``QUANZI_*`` value from Django's settings (tests) or the environment."""
    value = getattr(settings, name, None)
    return str(value) if value not in (None, "") else env_str(name, default)


class TrackingError(Exception):
    """The aggregator could not be asked (network, refused request): try again later."""


class InvalidPush(Exception):
    """A push callback that does not verify (signature, body): refused, nothing stored."""


@dataclass(frozen=True)
class TrackEvent:
    time: datetime  # aware
    status: str  # a ShipmentStatus value
    location: str = ""
    text: str = ""


@dataclass(frozen=True)
class TrackReport:
    carrier: str  # our code (SF, ZTO…)
    tracking_no: str
    events: list[TrackEvent] = field(default_factory=list)


class TrackingProvider:
    name = "none"

    def subscribe(self, *, carrier: str, tracking_no: str, phone: str = "") -> None:
        """Ask the aggregator to push this parcel's events to our callback."""

    def query(self, *, carrier: str, tracking_no: str, phone: str = "") -> TrackReport:
        """Every event the aggregator knows of this parcel, now."""
        return TrackReport(carrier=carrier, tracking_no=tracking_no)

    def verify_push(self, *, headers: dict[str, str], body: bytes) -> TrackReport:
        """The parcel and its events from a push, or ``InvalidPush``."""
        raise InvalidPush("this provider does not push")

    def ack(self, ok: bool) -> tuple[int, str, bytes]:
        """The HTTP answer the aggregator expects to a push."""
        return (200 if ok else 400), "application/json", b'{"result": true}'


class NoTracking(TrackingProvider):
    """No aggregator configured: parcels are recorded, nobody is asked."""
