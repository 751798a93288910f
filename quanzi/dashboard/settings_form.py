"""A form for each section of the operator's settings, built from the settings schema.

The schema (``core.settings_schema``) is the one authority on what a setting may hold;
this module only turns its fields into inputs and a posted form back into a patch for
``settings_update``, whose refusals are shown beside the fields they name.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen
from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from quanzi.core.settings_schema import Settings

GENERAL = "general"

LABELS = {
    "payment_timeout_seconds": _("Payment timeout (seconds)"),
    "auto_confirm_seconds": _("Auto-confirm receipt after shipping (seconds)"),
    "after_sales_seconds": _("After-sales window (seconds)"),
    "refund_retry_seconds": _("Refund retry interval (seconds)"),
    "fee": _("Shipping fee (fen)"),
    "free_above": _("Free shipping from (fen, 0 = never)"),
    "enabled": _("Enabled"),
    "levels": _("Commission levels (1 or 2)"),
    "level1_rate_bp": _("Level-1 rate (basis points)"),
    "level2_rate_bp": _("Level-2 rate (basis points)"),
    "bind_on": _("Bind the referrer on"),
    "bind_days": _("Binding lasts (days, 0 = permanent)"),
    "qualification": _("Who may become a distributor"),
    "max_commission_share_bp": _("Commission cap (basis points of the line)"),
    "withdraw_min": _("Minimum withdrawal (fen)"),
    "withdraw_fee_bp": _("Withdrawal fee (basis points)"),
    "withdraw_daily_limit": _("Daily withdrawal limit (fen)"),
    "withdraw_audit_above": _("Audit withdrawals above (fen)"),
    "earn_per_yuan": _("Points earned per yuan paid"),
    "yuan_per_100_points": _("Yuan worth of 100 points"),
    "max_deduct_share_bp": _("Points may pay at most (basis points of the order)"),
    "sign_in_points": _("Daily sign-in points"),
    "allow_free_orders": _("Allow orders paid fully with points"),
    "expire_after_days": _("Points expire after (days)"),
    "shop_name": _("Shop name"),
    "notice": _("Notice on the home page"),
    "banners": _("Home banners (image URLs on this site, one per line)"),
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
}

CHOICE_LABELS = {
    "first_visit": _("first visit of a share link"),
    "first_order": _("first order"),
    "everyone": _("everyone"),
    "approval": _("after the operator approves"),
}


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
    if annotation is int:
        return forms.IntegerField(
            label=label, min_value=bounds.get("min_value"), max_value=bounds.get("max_value")
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
            field.initial = value
            self.fields[name] = field

    def patch(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name in self.list_fields:
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
            data[name] = value
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
                self.add_error(name, err.get("msg", ""))
                shown = True
        return shown
