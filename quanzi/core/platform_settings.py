"""Reading and writing the operator's settings (``get_settings`` is what the code calls)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from pydantic import ValidationError

from quanzi.core.errors import Invalid
from quanzi.core.models import PlatformSettings
from quanzi.core.settings_schema import Settings, error_code, validate_settings


def get_settings() -> Settings:
    row = PlatformSettings.objects.filter(id=1).only("data").first()
    return validate_settings(row.data if row else {})


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@transaction.atomic
def settings_update(*, patch: dict[str, Any]) -> Settings:
    """Merge ``patch`` into the stored settings, validate the result, save it."""
    if not isinstance(patch, dict):
        raise Invalid("invalid_setting", "settings must be a JSON object")
    row, _ = PlatformSettings.objects.select_for_update().get_or_create(id=1)
    current = validate_settings(row.data).model_dump()
    merged = _merge(current, patch)
    try:
        validated = validate_settings(merged)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in err["loc"]), "msg": err["msg"]} for err in exc.errors()
        ]
        code = error_code(exc)
        message = (
            "at most two commission levels" if code == "pyramid_forbidden" else "invalid settings"
        )
        raise Invalid(code, message, {"errors": errors}) from exc
    row.data = validated.model_dump()
    row.save()
    return validated
