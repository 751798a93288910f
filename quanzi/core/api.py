"""The one django-ninja API under ``/api/v1/``: auth, error shape, router discovery."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpResponse
from ninja import NinjaAPI, Redoc, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from quanzi import __version__
from quanzi.core.auth import BearerAuth, SessionAuth
from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger

log = get_logger("quanzi.api")


class _Renderer(JSONRenderer):
    """JSON with Chinese text as itself, not ``\\u`` escapes."""

    json_dumps_params = {"ensure_ascii": False}


class _Parser(Parser):
    """JSON bodies, parsed once: the edge middleware already parsed (and vetted) them."""

    def parse_body(self, request):
        parsed = getattr(request, "_quanzi_json", _UNPARSED)
        if parsed is not _UNPARSED:
            return parsed
        return super().parse_body(request)


_UNPARSED = object()


class _Api(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        from quanzi.core.openapi import QuanziOpenAPISchema

        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return QuanziOpenAPISchema(self, path_prefix)


api = _Api(
    title="Quanzi API",
    version="1",
    description="Social e-commerce: orders, group buying, distribution, membership.",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api-v1",
    renderer=_Renderer(),
    parser=_Parser(),
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


@api.exception_handler(IntegrityError)
def _integrity_error(request, exc: IntegrityError):
    """A database constraint refused the write: the request conflicts with stored data.

    A reference to a row that does not exist (foreign key) is the client's mistake, 422;
    anything else (unique, check) is a conflict with what is stored, 409.
    """
    if _is_foreign_key_violation(exc):
        log.info("foreign key violation", extra={"path": request.path})
        return _error(request, 422, "invalid_reference", "a referenced object does not exist")
    log.info("integrity conflict", extra={"path": request.path, "error": str(exc)[:200]})
    return _error(request, 409, "conflict", "the request conflicts with the stored data")


def _is_foreign_key_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) == "23503":  # PostgreSQL foreign_key_violation
        return True
    return "FOREIGN KEY constraint failed" in str(exc)  # SQLite


@api.exception_handler(DataError)
@api.exception_handler(OverflowError)
def _data_error(request, exc):
    """A value the database cannot hold (a number out of range, text too long)."""
    log.info("data error", extra={"path": request.path, "error": str(exc)[:200]})
    return _error(request, 422, "out_of_range", "a value is out of the range it may take")


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request, exc: DjangoValidationError):
    return _error(
        request,
        422,
        "validation_error",
        "the request is not valid",
        {"errors": [{"loc": [], "msg": str(m)} for m in exc.messages]},
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return _error(request, 413, "payload_too_large", "the request body is too large")


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
