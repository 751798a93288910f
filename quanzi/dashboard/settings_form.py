"""A form for each section of the operator's settings, built from the settings schema.

The schema (``core.settings_schema``) is the one authority on what a setting may hold;
this module only turns its fields into inputs and a posted form back into a patch for
``settings_update``, whose refusals are shown beside the fields they name.
"""

from __future__ import annotations

import types
import typing
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen
from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from quanzi.core.settings_schema import Settings

GENERAL = "general"

LABELS = {
    "payment_timeout_seconds": _("Payment timeout (minutes)"),
    "auto_confirm_seconds": _("Auto-confirm receipt after shipping (days)"),
    "after_sales_seconds": _("After-sales window (days)"),
    "refund_retry_seconds": _("Refund retry interval (seconds)"),
    "fee": _("Shipping fee (yuan)"),
    "free_above": _("Free shipping from (yuan, 0 = never)"),
    "enabled": _("Enabled"),
    "levels": _("Commission levels (1 or 2)"),
    "level1_rate_bp": _("Level-1 commission rate (%)"),
    "level2_rate_bp": _("Level-2 commission rate (%)"),
    "bind_on": _("Bind the referrer on"),
    "bind_days": _("Binding lasts (days, 0 = permanent)"),
    "qualification": _("Who may become a distributor"),
    "max_commission_share_bp": _("Commission cap (% of the line)"),
    "withdraw_min": _("Minimum withdrawal (yuan)"),
    "withdraw_fee_bp": _("Withdrawal fee (%)"),
    "withdraw_daily_limit": _("Daily withdrawal limit (yuan)"),
    "withdraw_audit_above": _("Audit withdrawals above (yuan)"),
    "payout_gateway": _("Withdrawals are paid through"),
    "detach_rank_level": _("Detach rank level (0 = never)"),
    "earn_per_yuan": _("Points earned per yuan paid"),
    "yuan_per_100_points": _("Yuan worth of 100 points"),
    "max_deduct_share_bp": _("Points may pay at most (% of the order)"),
    "sign_in_points": _("Daily sign-in points"),
    "sign_in_streak_days": _("Streak bonus every (days in a row, 0 = none)"),
    "sign_in_streak_bonus": _("Streak bonus (points)"),
    "allow_free_orders": _("Allow orders paid fully with points"),
    "expire_after_days": _("Points expire after (days)"),
    "burst_window_seconds": _("Burst window (minutes)"),
    "burst_max": _("Most events in a burst window"),
    "device_accounts_max": _("Most accounts on one device"),
    "shop_name": _("Shop name"),
    "notice": _("Notice on the home page"),
    "banners": _("Home banners (image URLs on this site, one per line)"),
    "service_wechat": _("Customer service WeChat ID"),
    "service_phone": _("Customer service phone"),
    "service_url": _("Customer service link"),
    "content_check": _("Check text with WeChat content security"),
    "share_page": _("Mini-program page a poster opens (empty: home)"),
    "attribution_days": _("A note earns sales for (days after reading)"),
    "creator_rate_bp": _("Creator commission (% of the line)"),
    "review_points": _("Points for a review"),
    "discover_window_days": _("Discover feed looks back (days)"),
}

# Stored integers shown in the units an operator thinks in: (stored units per shown unit,
# decimal places). Saving converts back, so the stored value stays the same integer.
UNITS: dict[str, tuple[int, int]] = {
    "payment_timeout_seconds": (60, 1),
    "auto_confirm_seconds": (86400, 2),
    "after_sales_seconds": (86400, 2),
    "burst_window_seconds": (60, 1),
    "fee": (100, 2),
    "free_above": (100, 2),
    "withdraw_min": (100, 2),
    "withdraw_daily_limit": (100, 2),
    "withdraw_audit_above": (100, 2),
    "level1_rate_bp": (100, 2),
    "level2_rate_bp": (100, 2),
    "max_commission_share_bp": (100, 2),
    "withdraw_fee_bp": (100, 2),
    "max_deduct_share_bp": (100, 2),
    "creator_rate_bp": (100, 2),
}

SECTION_LABELS = {
    GENERAL: _("Orders"),
    "shipping": _("Shipping"),
    "distribution": _("Distribution"),
    "points": _("Points"),
    "storefront": _("Storefront"),
    "risk": _("Risk control"),
    "membership": _("Membership"),
    "groupbuy": _("Group buying"),
    "bargain": _("Bargaining"),
    "marketing": _("Marketing"),
    "social": _("Sharing"),
    "notifications": _("Notifications"),
    "rate_limits": _("Rate limits"),
    "wechat": _("WeChat"),
    "community": _("Community group buying"),
    "content": _("Content"),
}

CHOICE_LABELS = {
    "first_visit": _("first visit of a share link"),
    "first_order": _("first order"),
    "everyone": _("everyone"),
    "approval": _("after the operator approves"),
    "sandbox": _("Sandbox payment"),
    "wechatpay": _("WeChat Pay"),
    "alipay": _("Alipay"),
}

NUMBER_ERRORS = {
    "required": _("Fill this in."),
    "invalid": _("Enter a number."),
    "min_value": _("At least %(limit_value)s."),
    "max_value": _("At most %(limit_value)s."),
    "max_decimal_places": _("At most %(max)s decimal places."),
    "max_digits": _("This number is too long."),
    "max_whole_digits": _("This number is too long."),
}


def _shown(value: int | None, name: str):
    if value is None or name not in UNITS:
        return value
    factor, places = UNITS[name]
    shown = Decimal(value) / factor
    return shown.quantize(Decimal(1)) if shown == shown.to_integral() else shown.normalize()


def _stored(value, name: str):
    if value is None or name not in UNITS:
        return value
    factor, _places = UNITS[name]
    return int((Decimal(value) * factor).to_integral_value(rounding=ROUND_HALF_UP))


def _is_model(annotation) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def sections() -> list[tuple[str, str]]:
    names = [GENERAL] + [
        name for name, info in Settings.model_fields.items() if _is_model(info.annotation)
    ]
    return [(name, str(SECTION_LABELS.get(name, name.replace("_", " ").title()))) for name in names]


def _model_for(section: str) -> type[BaseModel]:
    if section == GENERAL:
        return Settings
    return Settings.model_fields[section].annotation


def _bounds(info) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, Ge):
            out["min_value"] = meta.ge
        elif isinstance(meta, Le):
            out["max_value"] = meta.le
        elif isinstance(meta, MaxLen):
            out["max_length"] = meta.max_length
        elif isinstance(meta, MinLen):
            out["min_length"] = meta.min_length
    return out


def _form_field(name: str, info) -> forms.Field | None:
    annotation = info.annotation
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    bounds = _bounds(info)
    origin = get_origin(annotation)
    if annotation is bool:
        return forms.BooleanField(label=label, required=False)
    if annotation is int and name in UNITS:
        factor, places = UNITS[name]
        low, high = bounds.get("min_value"), bounds.get("max_value")
        return forms.DecimalField(
            label=label,
            min_value=None if low is None else _shown(low, name),
            max_value=None if high is None else _shown(high, name),
            decimal_places=places,
            error_messages=NUMBER_ERRORS,
            localize=False,
        )
    if annotation is int:
        return forms.IntegerField(
            label=label,
            min_value=bounds.get("min_value"),
            max_value=bounds.get("max_value"),
            error_messages={**NUMBER_ERRORS, "invalid": _("Enter a whole number.")},
        )
    if annotation is str:
        return forms.CharField(
            label=label,
            required=bool(bounds.get("min_length")),
            max_length=bounds.get("max_length"),
        )
    if origin is Literal:
        return forms.ChoiceField(
            label=label,
            choices=[(v, CHOICE_LABELS.get(v, v)) for v in get_args(annotation)],
        )
    if origin is list and get_args(annotation) == (str,):
        return forms.CharField(
            label=label, required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
    if origin in (typing.Union, types.UnionType):
        return None  # optional values are edited through their own pages
    return None


class SettingsSectionForm(forms.Form):
    def __init__(self, *args, section: str, current: Settings, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section
        model = _model_for(section)
        values = current.model_dump() if section == GENERAL else current.model_dump()[section]
        self.list_fields: set[str] = set()
        for name, info in model.model_fields.items():
            if section == GENERAL and _is_model(info.annotation):
                continue
            field = _form_field(name, info)
            if field is None:
                continue
            value = values.get(name)
            if get_origin(info.annotation) is list:
                self.list_fields.add(name)
                value = "\n".join(value or [])
            field.initial = _shown(value, name) if isinstance(value, int) else value
            self.fields[name] = field

    def patch(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in self.list_fields:
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
            data[name] = _stored(value, name)
        return data if self.section == GENERAL else {self.section: data}

    def add_schema_errors(self, errors: list[dict[str, str]]) -> bool:
        """Show ``settings_update``'s errors (``loc`` like ``distribution.levels``)."""
        shown = False
        for err in errors:
            loc = str(err.get("loc", "")).split(".")
            if self.section != GENERAL and loc and loc[0] == self.section:
                loc = loc[1:]
            name = loc[0] if loc else ""
            if name in self.fields:
                self.add_error(name, _("This value is not allowed here."))
                shown = True
        return shown
