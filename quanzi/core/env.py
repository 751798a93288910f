"""Reading ``QUANZI_*`` environment variables (no Django imports here)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def quanzi_data_dir() -> Path:
    """Where the embedded database and uploads live (``QUANZI_DATA_DIR`` or the user's data dir)."""
    configured = os.environ.get("QUANZI_DATA_DIR")
    path = Path(configured) if configured else Path(platformdirs.user_data_dir("quanzi"))
    path.mkdir(parents=True, exist_ok=True)
    return path
