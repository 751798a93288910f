"""One error shape for the whole API: ``{"code", "message", "detail"}``."""

from __future__ import annotations

from typing import Any


class QuanziError(Exception):
    """A business rule refused the request. Subclasses fix the HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        detail: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ):
        self.code = code or self.code
        self.message = message or self.code.replace("_", " ")
        self.detail = detail or {}
        if status is not None:
            self.status = status
        super().__init__(f"{self.code}: {self.message}")

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class NotFound(QuanziError):
    status = 404
    code = "not_found"


class Forbidden(QuanziError):
    status = 403
    code = "forbidden"


class Unauthorized(QuanziError):
    status = 401
    code = "unauthorized"


class Conflict(QuanziError):
    status = 409
    code = "conflict"


class Invalid(QuanziError):
    """Well-formed input that breaks a rule (422)."""

    status = 422
    code = "validation_error"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RateLimited(QuanziError):
    status = 429
    code = "rate_limited"
