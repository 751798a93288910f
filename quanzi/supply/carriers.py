"""The carriers a parcel may go with, and what each one's tracking numbers look like.

``code`` is ours (and the API's); ``kuaidi100`` is the aggregator's company code; the
pattern is checked on the number as typed, after trimming spaces and upper-casing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from quanzi.core.errors import Invalid


@dataclass(frozen=True)
class Carrier:
    code: str
    name: object  # a lazy Chinese name
    kuaidi100: str
    pattern: re.Pattern[str]
    example: str


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier("SF", _("SF Express"), "shunfeng", re.compile(r"^SF\d{12,13}$"), "SF1234567890123"),
        Carrier(
            "ZTO", _("ZTO Express"), "zhongtong", re.compile(r"^[257]\d{11,14}$"), "731234567890"
        ),
        Carrier(
            "YTO", _("YTO Express"), "yuantong", re.compile(r"^YT\d{13,15}$"), "YT1234567890123"
        ),
        Carrier(
            "STO",
            _("STO Express"),
            "shentong",
            re.compile(r"^(77|88|66|55|58|99|36|46)\d{11}$"),
            "7712345678901",
        ),
        Carrier(
            "YD", _("Yunda Express"), "yunda", re.compile(r"^[1-4]\d{12}(\d{2})?$"), "4312345678901"
        ),
        Carrier(
            "JD", _("JD Logistics"), "jd", re.compile(r"^JD[A-Z0-9]{11,13}$"), "JDVA12345678901"
        ),
        Carrier(
            "EMS",
            _("China Post EMS"),
            "ems",
            re.compile(r"^([A-Z]{2}\d{9}[A-Z]{2}|1\d{12})$"),
            "EA123456789CN",
        ),
        Carrier("JT", _("J&T Express"), "jtexpress", re.compile(r"^JT\d{13}$"), "JT1234567890123"),
        Carrier("DBL", _("Deppon"), "debangkuaidi", re.compile(r"^DPK\d{12}$"), "DPK123456789012"),
    )
}


def carrier_choices() -> list[tuple[str, str]]:
    return [(c.code, str(c.name)) for c in CARRIERS.values()]


def tracking_check(*, carrier: str, tracking_no: str) -> tuple[str, str]:
    """The carrier code and the normalised number, or ``422`` with the field at fault."""
    found = CARRIERS.get((carrier or "").strip().upper())
    if found is None:
        raise Invalid(
            "unknown_carrier",
            "choose a carrier from the list",
            {"field": "carrier", "carriers": list(CARRIERS)},
        )
    number = re.sub(r"\s+", "", tracking_no or "").upper()
    if not found.pattern.match(number):
        raise Invalid(
            "invalid_tracking_no",
            f"this is not a {found.code} tracking number",
            {"field": "tracking_no", "carrier": found.code, "example": found.example},
        )
    return found.code, number


def carrier_by_kuaidi100(company: str) -> Carrier | None:
    for c in CARRIERS.values():
        if c.kuaidi100 == company:
            return c
    return None
