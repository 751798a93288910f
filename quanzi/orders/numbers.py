"""Order numbers as shoppers and operators know them: the day the order was placed
(local time) followed by its id on eight digits, e.g. ``2026120500000042``.

The id stays the key everywhere; the number is how it is shown, read over the phone
and searched for in the dashboard.
"""

from __future__ import annotations

import re

from django.utils import timezone

_NUMBER = re.compile(r"^\s*#?(\d{8})(\d{8,})\s*$")


def order_number(*, order_id: int, created_at) -> str:
    return f"{timezone.localtime(created_at):%Y%m%d}{int(order_id):08d}"


def order_id_from_number(text: str) -> int | None:
    """The order id in an order number (or a bare id); None when it is neither."""
    text = (text or "").strip().lstrip("#")
    match = _NUMBER.match(text)
    if match:
        return int(match.group(2))
    return int(text) if text.isdigit() and len(text) <= 12 else None
