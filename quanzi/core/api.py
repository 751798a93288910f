"""The one django-ninja API under ``/api/v1/``: auth, error shape, router discovery."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpResponse
from ninja import NinjaAPI, Redoc, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

from quanzi import __version__
from quanzi.core.auth import BearerAuth, SessionAuth
from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger

log = get_logger("quanzi.api")


class _Renderer(JSONRenderer):
    """JSON with Chinese text as itself, not ``\\u`` escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Quanzi API",
    version="1",
    description="Social e-commerce: orders, group buying, distribution, membership.",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api-v1",
    renderer=_Renderer(),
    # Swagger UI from the package's static files: works offline and where CDNs are blocked.
    docs=Swagger(settings={"persistAuthorization": True, "validatorUrl": None}),
    docs_url="/docs",
)


class _LocalRedoc(Redoc):
    template = "core/redoc.html"


def redoc(request):
    """ReDoc, the reading view of the same schema, also from the package's static files."""
    return _LocalRedoc().render_page(request, api)


@functools.cache
def _redoc_script() -> bytes:
    import ninja

    path = Path(ninja.__file__).parent / "static" / "ninja" / "redoc.standalone.js"
    # The one file ReDoc fetches from the internet (its footer logo) comes from here.
    return path.read_bytes().replace(
        b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/static/storefront/img/icon.svg"
    )


def redoc_script(request):
    response = HttpResponse(_redoc_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _error(request, status: int, code: str, message: str, detail: dict | None = None):
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail or {}}, status=status
    )


@api.exception_handler(QuanziError)
def _quanzi_error(request, exc: QuanziError):
    return _error(request, exc.status, exc.code, exc.message, exc.detail)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors = [
        {"loc": [str(p) for p in err.get("loc", [])], "msg": str(err.get("msg", ""))}
        for err in exc.errors
    ]
    return _error(request, 422, "validation_error", "the request is not valid", {"errors": errors})


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return _error(request, 401, "unauthorized", "log in first (Authorization: Bearer <token>)")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, "error"
    )
    return _error(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "no such object")


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("unexpected error", extra={"path": request.path})
    return _error(request, 500, "internal_error", "something went wrong on our side")


def _discover_routers() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("quanzi.") or config.name == "quanzi.core":
            continue
        try:
            module = importlib.import_module(f"{config.name}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.api":
                raise
            continue
        router = getattr(module, "router", None)
        if router is not None:
            api.add_router("", router)


_discover_routers()

from quanzi.core.settings_api import router as _settings_router  # noqa: E402

api.add_router("", _settings_router)

__all__ = ["api", "__version__"]
