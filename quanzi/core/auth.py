"""API authentication: bearer tokens (hashed, revocable) and the web session."""

from __future__ import annotations

from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from quanzi.core.errors import Forbidden


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        from quanzi.accounts.services import token_authenticate

        user = token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The storefront's logged-in session; CSRF-checked for unsafe methods.

    The CSRF check applies only when the session cookie is what authenticates the
    request: a client without a session (an app with a bearer token, or nobody) is
    answered 401 when it is not authenticated, never ``403 CSRF``.
    """

    param_name = "sessionid"

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        if not key:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise Forbidden("csrf_failed", "CSRF check failed (the session needs its token)")
        return user


def require_role(request, role: str):
    user = request.auth
    if not user.has_role(role):
        raise Forbidden("forbidden", f"this needs the {role} role")
    return user


def require_operator(request):
    return require_role(request, "operator")
