"""Request-path middleware.

* ``RequestEdgeMiddleware`` refuses, before any view runs, what no part of Quanzi can
  store or parse: a NUL character anywhere in the text of a request (path, query string,
  headers, a JSON or form body; PostgreSQL cannot store it in a text column) and a body
  above ``DATA_UPLOAD_MAX_MEMORY_SIZE``. Both answers use the API's error shape.
* ``LanguageQueryMiddleware``: ``?lang=en`` switches the language for the request and
  remembers it in the session.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils import translation

_SUPPORTED = {code for code, _ in settings.LANGUAGES}
_NUL = "\x00"
_TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded", "text/")
_FORM_BODIES = ("application/x-www-form-urlencoded",)
API_PREFIX = "/api/"


def error_response(status: int, code: str, message: str, detail: dict | None = None):
    return JsonResponse(
        {"code": code, "message": message, "detail": detail or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _has_nul(value: Any) -> bool:
    stack = [value]  # iterative: a deeply nested body must not exhaust the stack
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class RequestEdgeMiddleware:
    """422 ``invalid_text`` for NUL characters, 413 ``payload_too_large`` for big bodies,
    422 ``body_not_object`` for an API body that is JSON but not an object; a 405 of the
    API in the error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = self._refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if response.status_code == 405 and request.path_info.startswith(API_PREFIX):
            # django-ninja answers a method no operation takes with an empty text body.
            allowed = response.get("Allow", "")
            response = error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here",
                {"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
            )
            if allowed:
                response["Allow"] = allowed
        return response

    def _refuse(self, request):
        meta = request.META
        where = None
        if _NUL in request.path_info or _NUL in request.path:
            where = "path"
        elif "%00" in meta.get("QUERY_STRING", "") or _NUL in meta.get("QUERY_STRING", ""):
            where = "query"
        else:
            for key, value in meta.items():
                if key.startswith("HTTP_") and isinstance(value, str) and _NUL in value:
                    where = "header"
                    break
        if where:
            return _nul_refused(where)

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = (meta.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "bad_request", "Content-Length is not a number")
        # Uploaded files are streamed to disk and limited by their own handlers; every
        # other body is read into memory whole, so its size is bounded here.
        if limit is not None and length > limit and not content_type.startswith("multipart/"):
            return _too_big(limit)
        if not length:
            return None
        is_api = request.path_info.startswith(API_PREFIX)
        if not (content_type.startswith(_TEXT_BODIES) or (is_api and not content_type)):
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return _too_big(limit)
        if b"\x00" in body:
            return _nul_refused("body")
        if content_type in _FORM_BODIES:
            return _nul_refused("body") if b"%00" in body else None
        if not is_api:
            return None
        # An API body is a JSON object. Parsed once here; the API's parser reuses it.
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            return None  # the API answers 400 for a body that is not JSON
        if not isinstance(parsed, dict):
            return error_response(
                422,
                "body_not_object",
                "the request body must be a JSON object",
                {"got": type(parsed).__name__},
            )
        if _has_nul(parsed):
            return _nul_refused("body")
        request._quanzi_json = parsed
        return None


def _nul_refused(where: str):
    return error_response(
        422,
        "invalid_text",
        "text may not contain a NUL character",
        {"where": where},
    )


def _too_big(limit: int | None):
    return error_response(
        413,
        "payload_too_large",
        "the request body is too large",
        {"max_bytes": limit},
    )


class LanguageQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        lang = request.GET.get("lang")
        if lang:
            lang = lang.lower()
            if lang in {"zh", "zh-cn"}:
                lang = "zh-hans"
            if lang in _SUPPORTED:
                translation.activate(lang)
                request.LANGUAGE_CODE = lang
                if hasattr(request, "session"):
                    request.session["quanzi_lang"] = lang
        elif hasattr(request, "session") and request.session.get("quanzi_lang") in _SUPPORTED:
            translation.activate(request.session["quanzi_lang"])
            request.LANGUAGE_CODE = request.session["quanzi_lang"]
        return self.get_response(request)
