"""Template helpers of the storefront and dashboard: yuan prices, avatars, countdowns,
status labels."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from quanzi.core.labels import LABELS
from quanzi.core.labels import label as _label
from quanzi.core.money import yuan as _yuan
from quanzi.orders.numbers import order_number

register = template.Library()

ORDER_STATUS = LABELS["order_status"]
REFUND_STATUS = LABELS["refund_status"]
CHANNEL = LABELS["channel"]

_AVATAR_COLOURS = ["#c2410c", "#b91c1c", "#0f766e", "#1d4ed8", "#7e22ce", "#a16207", "#be185d"]


@register.filter
def yuan(amount) -> str:
    """Fen as yuan: 1990 → '19.90'."""
    try:
        return _yuan(int(amount or 0))
    except (TypeError, ValueError):
        return ""


@register.filter
def growth(amount, rounding: str = "down") -> int:
    """Growth value as a shopper reads it: one point per yuan spent (it is kept in fen).
    ``growth:"up"`` rounds up (what is still needed to reach a level)."""
    try:
        amount = int(amount or 0)
        return -(-amount // 100) if rounding == "up" else amount // 100
    except (TypeError, ValueError):
        return 0


@register.simple_tag
def price(amount, size: str = "") -> str:
    """A shop price: a small ¥, the big whole yuan, small fen."""
    text = yuan(amount)
    whole, _dot, cents = text.partition(".")
    return format_html(
        '<span class="price {}"><small>¥</small>{}<small>.{}</small></span>', size, whole, cents
    )


@register.filter
def label(code, kind: str) -> str:
    """``{{ w.status|label:"withdrawal_status" }}``: the words for a stored code."""
    return _label(kind, code)


@register.filter
def order_no(order) -> str:
    """An order number as shoppers know them: the day it was placed and its id."""
    created = getattr(order, "created_at", None)
    pk = getattr(order, "pk", None) or getattr(order, "id", None)
    if created is None or pk is None:
        return str(pk or "")
    return order_number(order_id=pk, created_at=created)


@register.filter
def order_status(code: str) -> str:
    return str(ORDER_STATUS.get(code, code))


@register.filter
def refund_status(code: str) -> str:
    return str(REFUND_STATUS.get(code, code))


@register.filter
def channel_label(code: str) -> str:
    return str(CHANNEL.get(code, code))


def _avatar_url(value: str) -> str:
    # Only what this server serves: no image is ever fetched from another host.
    return value if value.startswith("/") and not value.startswith("//") else ""


@register.simple_tag
def avatar(user, size: int = 40) -> str:
    """The person's picture, or the first character of the nickname on a colour."""
    nickname = getattr(user, "nickname", None) or (
        user.get("nickname", "") if isinstance(user, dict) else ""
    )
    picture = getattr(user, "avatar", None) or (
        user.get("avatar", "") if isinstance(user, dict) else ""
    )
    url = _avatar_url(picture or "")
    if url:
        return format_html(
            '<img class="avatar" src="{}" alt="{}" width="{}" height="{}">',
            url,
            nickname,
            size,
            size,
        )
    initial = (nickname or "?")[:1]
    colour = _AVATAR_COLOURS[
        int(hashlib.md5(str(nickname).encode()).hexdigest(), 16) % len(_AVATAR_COLOURS)
    ]
    return format_html(
        '<span class="avatar avatar-text" style="width:{}px;height:{}px;background:{};'
        'font-size:{}px" role="img" aria-label="{}">{}</span>',
        size,
        size,
        colour,
        max(size // 2 - 2, 10),
        nickname,
        initial,
    )


@register.simple_tag
def countdown(deadline: datetime | None, label: str = "", reload: bool = False) -> str:
    """A live HH:MM:SS countdown to ``deadline`` (app.js ticks it each second; with
    ``reload`` the page reloads when it reaches zero, e.g. a sale that opens)."""
    if deadline is None:
        return ""
    left = max(int((deadline - timezone.now()).total_seconds()), 0)
    hours, rest = divmod(left, 3600)
    minutes, seconds = divmod(rest, 60)
    return format_html(
        '<span class="countdown" data-deadline="{}" aria-label="{}"{}>{}</span>',
        deadline.isoformat(),
        label,
        format_html(" data-reload") if reload else "",
        f"{hours:02d}:{minutes:02d}:{seconds:02d}",
    )


@register.filter
def percent(part, whole) -> int:
    try:
        part, whole = int(part), int(whole)
    except (TypeError, ValueError):
        return 0
    if whole <= 0:
        return 0
    return max(0, min(100, part * 100 // whole))


@register.filter
def bp_percent(bp) -> str:
    try:
        value = int(bp)
    except (TypeError, ValueError):
        return ""
    whole, rest = divmod(value, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") + "%"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


# Line icons drawn for Quanzi (24×24, stroke = the text colour).
ICONS = {
    "home": '<path d="M3 11.5 12 4l9 7.5"/><path d="M5.5 10v10h13V10"/><path d="M10 20v-5h4v5"/>',
    "grid": '<rect x="4" y="4" width="7" height="7" rx="1.5"/><rect x="13" y="4" width="7" '
    'height="7" rx="1.5"/><rect x="4" y="13" width="7" height="7" rx="1.5"/><rect x="13" '
    'y="13" width="7" height="7" rx="1.5"/>',
    "cart": '<path d="M3 4h2.2l2.3 11h10.8l2.2-8H6.4"/><circle cx="9.5" cy="19" r="1.5"/>'
    '<circle cx="17" cy="19" r="1.5"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21c.6-4 3.9-6 8-6s7.4 2 8 6"/>',
    "back": '<path d="M15 5l-7 7 7 7"/>',
    "search": '<circle cx="11" cy="11" r="6.5"/><path d="M16 16l4.5 4.5"/>',
    "share": '<circle cx="18" cy="5.5" r="2.5"/><circle cx="6" cy="12" r="2.5"/><circle '
    'cx="18" cy="18.5" r="2.5"/><path d="M8.2 10.8l7.6-4.1M8.2 13.2l7.6 4.1"/>',
    "chev": '<path d="M9 5l7 7-7 7"/>',
    "bag": '<path d="M5 8h14l-1 12H6z"/><path d="M9 8V6.5a3 3 0 0 1 6 0V8"/>',
    "truck": '<path d="M3 6h11v10H3zM14 10h4l3 3v3h-7"/><circle cx="7" cy="17.5" r="1.5"/>'
    '<circle cx="17" cy="17.5" r="1.5"/>',
    "wallet": '<rect x="3" y="6" width="18" height="13" rx="2"/><path d="M16 12.5h2"/>'
    '<path d="M5 6l10-3 1 3"/>',
    "ticket": '<path d="M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z"/><path d="M14 7v10"/>',
    "star": '<path d="M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.9l-5.2 2.7 1-5.8-4.3-4.1 '
    '5.9-.9z"/>',
    "crown": '<path d="M4 8l4 4 4-6 4 6 4-4-1.5 10h-13z"/>',
    "team": '<circle cx="9" cy="8" r="3.2"/><path d="M3 19c.5-3.2 3-5 6-5s5.5 1.8 6 5"/>'
    '<circle cx="17" cy="9" r="2.5"/><path d="M16 14c2.6 0 4.5 1.5 5 4"/>',
    "pin": '<path d="M12 21s-6.5-6-6.5-11a6.5 6.5 0 0 1 13 0c0 5-6.5 11-6.5 11z"/>'
    '<circle cx="12" cy="10" r="2.3"/>',
    "refund": '<path d="M4 12a8 8 0 1 0 2.4-5.7"/><path d="M4 4v4h4"/><path d="M12 8v8M9.5 '
    '10.5h5M9.5 13.5h5"/>',
    "gift": '<rect x="4" y="9" width="16" height="11" rx="1"/><path d="M3 9h18M12 9v11"/>'
    '<path d="M12 9c-2-4-6-4-6-1.5S10 9 12 9zM12 9c2-4 6-4 6-1.5S14 9 12 9z"/>',
    "image": '<rect x="4" y="4" width="16" height="16" rx="2"/><circle cx="9" cy="9" r="1.8"/>'
    '<path d="M5 18l5-5 3 3 2-2 4 4"/>',
    "clock": '<circle cx="12" cy="12" r="8"/><path d="M12 7.5V12l3 2"/>',
    "scissors": '<circle cx="6" cy="7" r="2.5"/><circle cx="6" cy="17" r="2.5"/><path '
    'd="M8 8.5L20 17M8 15.5L20 7"/>',
    "smile": '<circle cx="12" cy="12" r="8.5"/><path d="M8.5 14.5c1.8 2 5.2 2 7 0"/>'
    '<path d="M9 9.5h.01M15 9.5h.01"/>',
    "check": '<path d="M5 12.5l4.5 4.5L19 7.5"/>',
    "chat": '<path d="M4 5h16v11H9l-5 4z"/><path d="M8 10h8M8 13h5"/>',
}


@register.simple_tag
def icon(name: str, size: int = 22, label: str = "") -> str:
    body = mark_safe(ICONS.get(name, ""))  # constant markup written above
    if label:
        aria = format_html('role="img" aria-label="{}"', label)
    else:
        aria = mark_safe('aria-hidden="true" focusable="false"')
    return format_html(
        '<svg class="ico" width="{}" height="{}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        'stroke-linejoin="round" {}>{}</svg>',
        size,
        size,
        aria,
        body,
    )


@register.filter
def bp_times(bp) -> str:
    """A multiplier in basis points as a factor: 15000 → '1.5'."""
    try:
        value = int(bp)
    except (TypeError, ValueError):
        return ""
    whole, rest = divmod(value, 10_000)
    return f"{whole}.{rest:04d}".rstrip("0").rstrip(".")


@register.filter
def sold_count(n) -> str:
    """已售 as Chinese shops write it: 999, 1.2万, 10万+ (rounded down, never inflated)."""
    try:
        n = max(0, int(n or 0))
    except (TypeError, ValueError):
        return "0"
    if n < 10_000:
        return str(n)
    if n >= 100_000:
        return _("%(n)s wan+") % {"n": n // 10_000}
    tenths = n // 1_000  # 12_345 → 12 → 1.2万
    whole, frac = divmod(tenths, 10)
    shown = f"{whole}.{frac}" if frac else str(whole)
    return _("%(n)s wan") % {"n": shown}


@register.inclusion_tag("storefront/_welcome_sheet.html", takes_context=True)
def welcome_sheet(context):
    """The new-user red packet, shown once in a sheet on the page after sign-up."""
    request = context.get("request")
    session = getattr(request, "session", None)
    if session is None or not request.user.is_authenticated:
        return {"gifts": []}
    from quanzi.storefront.features import WELCOME_GIFT_KEY, new_user_gifts

    ids = session.pop(WELCOME_GIFT_KEY, None)
    if not ids:
        return {"gifts": []}
    return {"gifts": [g for g in new_user_gifts(user=request.user) if g["id"] in ids]}
