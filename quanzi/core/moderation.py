"""The moderation interface: text users publish is checked here before it is stored.

Checkers are registered from apps' ``ready()`` (the sensitive-word list, WeChat's text
security check, ...). ``check_text`` asks every checker and keeps the strictest verdict:
``refuse`` over ``hold`` over ``allow``. A checker that fails (a network error, a bug)
is logged and skipped, so publishing never depends on a third party being up; the
checkers that did answer still decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from quanzi.core.errors import QuanziError
from quanzi.core.logging import get_logger

log = get_logger("quanzi.moderation")

ALLOW = "allow"
HOLD = "hold"
REFUSE = "refuse"
_RANK = {ALLOW: 0, HOLD: 1, REFUSE: 2}

# What is being published; checkers may treat kinds differently.
KINDS = ("nickname", "note", "comment", "review", "circle", "other")


@dataclass(frozen=True)
class Verdict:
    action: str = ALLOW
    # Why, for the operator's queue: matched words, a provider's label, ...
    reasons: tuple[str, ...] = field(default_factory=tuple)
    checkers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return self.action == ALLOW

    @property
    def held(self) -> bool:
        return self.action == HOLD

    @property
    def refused(self) -> bool:
        return self.action == REFUSE


class TextChecker(Protocol):
    name: str

    def check(self, text: str, *, kind: str, user_id: int | None) -> Verdict | None:
        """A verdict, or ``None`` when this checker has nothing to say (e.g. not configured)."""


_checkers: dict[str, TextChecker] = {}


def register_text_checker(checker: TextChecker) -> None:
    """Register (or replace, by name) a checker."""
    _checkers[checker.name] = checker


def unregister_text_checker(name: str) -> None:
    _checkers.pop(name, None)


def text_checkers() -> list[TextChecker]:
    return list(_checkers.values())


def _merge(verdicts: list[Verdict]) -> Verdict:
    action = ALLOW
    reasons: list[str] = []
    names: list[str] = []
    for v in verdicts:
        if _RANK[v.action] > _RANK[action]:
            action = v.action
        if v.action != ALLOW:
            reasons.extend(v.reasons)
        names.extend(v.checkers)
    return Verdict(action=action, reasons=tuple(dict.fromkeys(reasons)), checkers=tuple(names))


def check_text(text: str, *, kind: str = "other", user_id: int | None = None) -> Verdict:
    """The strictest verdict of all registered checkers on ``text``."""
    if not text or not text.strip():
        return Verdict()
    verdicts: list[Verdict] = []
    for checker in text_checkers():
        try:
            verdict = checker.check(text, kind=kind, user_id=user_id)
        except Exception:  # noqa: BLE001 - a broken checker must not block publishing
            log.exception("moderation checker failed", extra={"checker": checker.name})
            continue
        if verdict is not None:
            if verdict.action not in _RANK:
                log.error(
                    "moderation checker gave an unknown action", extra={"checker": checker.name}
                )
                continue
            verdicts.append(
                Verdict(verdict.action, verdict.reasons, verdict.checkers or (checker.name,))
            )
    return _merge(verdicts)


class ContentRefused(QuanziError):
    status = 422
    code = "content_refused"


def text_require_publishable(
    text: str, *, kind: str = "other", user_id: int | None = None, field_name: str = "text"
) -> Verdict:
    """Check ``text``; raise ``422 content_refused`` when refused, else return the verdict
    (the caller stores held content hidden, for the operator's queue)."""
    verdict = check_text(text, kind=kind, user_id=user_id)
    if verdict.refused:
        raise ContentRefused(
            message="this text cannot be published",
            detail={"field": field_name, "reasons": list(verdict.reasons)},
        )
    return verdict
