"""``GET /s/<token>``: open a share link (a plain Django view, not part of the JSON API)."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect

from quanzi.core.errors import NotFound
from quanzi.social import selectors, services

SESSION_KEY = "quanzi_share_token"


def _visitor(request):
    """The visitor: the session's user, or the user of a bearer token."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from quanzi.accounts.services import token_authenticate

        return token_authenticate(raw=header.removeprefix("Bearer ").strip())
    return None


def share_open(request, token: str):
    token = token[:24]
    if selectors.share_link_by_token(token) is None:
        raise Http404("no such share link")
    visitor = _visitor(request)
    # The token stays in the session so that a later order or sign-up is attributed.
    request.session[SESSION_KEY] = token
    if not request.session.session_key:
        request.session.save()
    try:
        link = services.share_open(
            token=token, visitor=visitor, session_key=request.session.session_key or ""
        )
    except NotFound as exc:
        raise Http404("no such share link") from exc
    return HttpResponseRedirect(selectors.share_redirect_path(link))
