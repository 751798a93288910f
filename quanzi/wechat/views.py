"""The storefront's WeChat pages: the 公众号 OAuth round trip."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from quanzi.core.errors import NotFound, QuanziError
from quanzi.wechat import oauth

SHARE_SESSION_KEY = "quanzi_share_token"  # what /s/<token> keeps in the session
DEVICE_COOKIE = "qz_device"


def _next(request) -> str:
    target = request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@require_GET
def oauth_start(request):
    if not request.session.session_key:
        request.session.save()
    try:
        url = oauth.oauth_start(
            session_key=request.session.session_key,
            next_url=_next(request),
            scope=request.GET.get("scope") or "base",
            redirect_uri=f"{settings.PUBLIC_URL}/wechat/oauth/callback",
            share_token=str(request.session.get(SHARE_SESSION_KEY, "")),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except QuanziError as exc:
        return _error(request, exc)
    return redirect(url)


@require_GET
def oauth_callback(request):
    try:
        user, _is_new, next_url = oauth.oauth_finish(
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
            session_key=request.session.session_key or "",
            device_id=(request.COOKIES.get(DEVICE_COOKIE) or "")[:64],
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except QuanziError as exc:
        return _error(request, exc)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(next_url)


def _error(request, exc: QuanziError):
    status = exc.status if 400 <= exc.status < 600 else 400
    return render(
        request,
        "wechat/login_error.html",
        {"code": exc.code, "message": exc.message},
        status=status,
    )
