"""What can be shared, where its page is, and whether a given id exists.

Sharing never imports the feature apps: a target's model is looked up by name, and an
app may register its own check with ``register_share_target`` from its ``ready()``.
A target whose app is not installed cannot be checked; its links are accepted (the page
they lead to answers 404 if the id is wrong).
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps

from quanzi.social.models import ShareTarget

PATHS = {
    ShareTarget.PRODUCT: "/p/{id}",
    ShareTarget.GROUP: "/g/{id}",
    ShareTarget.BARGAIN: "/b/{id}",
    ShareTarget.NOTE: "/n/{id}",
    ShareTarget.SHOP: "/shop/{id}",
}

# (app label, model name, extra filter) tried in order.
_MODELS: dict[str, list[tuple[str, str, dict]]] = {
    ShareTarget.PRODUCT: [("catalog", "Product", {"is_active": True})],
    ShareTarget.GROUP: [("groupbuy", "Group", {})],
    ShareTarget.BARGAIN: [("bargain", "Bargain", {})],
    ShareTarget.NOTE: [("content", "Note", {}), ("community", "Note", {})],
    ShareTarget.SHOP: [("distribution", "Shop", {"is_active": True})],
}

_checks: dict[str, Callable[[int], bool]] = {}


def register_share_target(
    name: str, exists: Callable[[int], bool], *, path: str | None = None
) -> None:
    """Let an app decide whether ``target_id`` of ``name`` may be shared. An app may add
    a target of its own by giving its page's ``path`` (``{id}``, and ``{token}`` for the
    link's token, e.g. circles' ``/circles/{id}/?invite={token}``)."""
    if path is not None:
        if len(name) > 10:
            raise ValueError(f"share target name too long: {name}")
        PATHS[name] = path
    if name not in PATHS:
        raise ValueError(f"unknown share target {name}")
    _checks[name] = exists


def known_target(name: str) -> bool:
    return name in PATHS


def target_exists(target: str, target_id: int) -> bool | None:
    """True / False when the target can be checked, None when no app knows it."""
    check = _checks.get(target)
    if check is not None:
        return bool(check(target_id))
    for label, model_name, extra in _MODELS.get(target, []):
        try:
            model = apps.get_model(label, model_name)
        except LookupError:
            continue
        return model.objects.filter(pk=target_id, **extra).exists()
    return None


def target_path(target: str, target_id: int, token: str = "") -> str:
    return PATHS[target].format(id=target_id, token=token)
