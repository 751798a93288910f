"""API authentication: bearer tokens (hashed, revocable) and the web session."""

from __future__ import annotations

from ninja.security import APIKeyCookie, HttpBearer

from quanzi.core.errors import Forbidden


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        from quanzi.accounts.services import token_authenticate

        user = token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The storefront's logged-in session; CSRF-checked for unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def require_role(request, role: str):
    user = request.auth
    if not user.has_role(role):
        raise Forbidden("forbidden", f"this needs the {role} role")
    return user


def require_operator(request):
    return require_role(request, "operator")
