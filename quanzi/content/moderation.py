"""Moderation of content: the operator's sensitive-word list, user reports and the
operator's queue (hide / restore).

**The word list** is a checker registered with ``quanzi.core.moderation`` (so it judges
notes, comments, reviews and nicknames, next to WeChat's check when that is set up).
Words are matched with an Aho–Corasick automaton (``pyahocorasick``): all words at once,
in one pass over the text, anywhere in it — Chinese has no spaces between words, so
"加微信领红包" matches "微信". Text and words are compared after NFKC normalisation
(full-width letters and digits become plain ones), lower-casing, and with spaces and
punctuation removed, so "微 信" or "微-信" still match. Each word has its action:
``refuse`` (the text is refused, 422 ``content_refused``) or ``hold`` (stored, shown only
to its author until the operator restores it). The automaton is rebuilt when the list
changes (its version is one cheap aggregate query per check).

**Reports**: anyone may report a note, comment or review once. **The queue** lists what
is held and what has open reports; the operator hides or restores it. Hidden and held
content leaves feeds and counts (a note's author's note and like counts, a note's
comment count, a product's rating) and comes back with them when restored.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

import ahocorasick
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import HOLD, REFUSE, Verdict

from .models import (
    Comment,
    Note,
    NoteStatus,
    Report,
    ReportTarget,
    Review,
    SensitiveWord,
    Visibility,
    WordAction,
)

log = get_logger("quanzi.content.moderation")


def normalize(text: str) -> str:
    """What the matcher compares: NFKC, lower case, letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


# ---------------------------------------------------------------- the word list


class WordListChecker:
    name = "word_list"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._automaton: Any = None

    def _current(self):
        row = SensitiveWord.objects.aggregate(
            n=Count("id"), last=Max("id"), changed=Max("updated_at")
        )
        version = (row["n"], row["last"], row["changed"])
        with self._lock:
            if version != self._version:
                automaton = ahocorasick.Automaton()
                for word, action in SensitiveWord.objects.values_list("word", "action"):
                    key = normalize(word)
                    if key:
                        automaton.add_word(key, (word, action))
                if len(automaton):
                    automaton.make_automaton()
                else:
                    automaton = None
                self._automaton, self._version = automaton, version
            return self._automaton

    def check(self, text: str, *, kind: str, user_id: int | None) -> Verdict | None:
        automaton = self._current()
        if automaton is None:
            return None
        found: dict[str, str] = {}
        for _end, (word, action) in automaton.iter(normalize(text)):
            found[word] = action
        if not found:
            return Verdict()
        action = REFUSE if REFUSE in found.values() else HOLD
        return Verdict(action=action, reasons=tuple(f"word:{w}" for w in sorted(found)))


word_list_checker = WordListChecker()


def word_add(*, word: str, action: str) -> SensitiveWord:
    word = word.strip()
    if not normalize(word):
        raise Invalid("validation_error", "a word needs letters or characters", {"field": "word"})
    if action not in WordAction.values:
        raise Invalid("validation_error", "action is refuse or hold", {"field": "action"})
    row, _ = SensitiveWord.objects.update_or_create(word=word[:40], defaults={"action": action})
    return row


def word_remove(*, word_id: int) -> None:
    deleted, _ = SensitiveWord.objects.filter(pk=word_id).delete()
    if not deleted:
        raise NotFound("not_found", "no such word")


def words_bulk_set(*, text: str, action: str) -> int:
    """Add one word per line (the dashboard's textarea); returns how many were added."""
    n = 0
    for line in text.splitlines():
        if normalize(line):
            word_add(word=line, action=action)
            n += 1
    return n


# ---------------------------------------------------------------- reports


def _target_row(target: str, target_id: int):
    model = {"note": Note, "comment": Comment, "review": Review}.get(target)
    if model is None:
        raise Invalid("validation_error", "report a note, comment or review", {"field": "target"})
    row = model.objects.filter(pk=target_id).first()
    if row is None:
        raise NotFound("not_found", f"no such {target}")
    return row


def _author_id(row) -> int:
    return row.author_id


def report_create(*, reporter: User, target: str, target_id: int, reason: str = "") -> Report:
    row = _target_row(target, target_id)
    if row.visibility != Visibility.VISIBLE or (
        isinstance(row, Note) and row.status != NoteStatus.PUBLISHED
    ):
        raise NotFound("not_found", f"no such {target}")
    if _author_id(row) == reporter.pk:
        raise Invalid("report_self", "you cannot report your own content")
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter, target=target, target_id=target_id, reason=reason.strip()[:200]
            )
    except IntegrityError:
        return Report.objects.get(reporter=reporter, target=target, target_id=target_id)


# ---------------------------------------------------------------- the queue


def _text_of(row) -> str:
    if isinstance(row, Note):
        return f"{row.title}\n{row.body}"
    return row.body


def moderation_queue(*, limit: int = 100) -> list[dict[str, Any]]:
    """Held content and content with open reports, oldest first."""
    open_reports: dict[tuple[str, int], int] = {
        (t, i): n
        for t, i, n in Report.objects.filter(resolved_at__isnull=True)
        .values_list("target", "target_id")
        .annotate(n=Count("id"))
    }
    items: list[dict[str, Any]] = []
    for target, model in (("note", Note), ("comment", Comment), ("review", Review)):
        reported_ids = [i for (t, i) in open_reports if t == target]
        qs = model.objects.select_related("author").filter(
            visibility=Visibility.HELD
        ) | model.objects.select_related("author").filter(
            pk__in=reported_ids, visibility=Visibility.VISIBLE
        )
        if model is Note:
            qs = qs.exclude(status=NoteStatus.DELETED)
        if model is Comment:
            qs = qs.filter(deleted=False)
        for row in qs.order_by("id")[:limit]:
            items.append(
                {
                    "target": target,
                    "target_id": row.pk,
                    "visibility": row.visibility,
                    "text": _text_of(row),
                    "author": {"id": row.author_id, "nickname": row.author.nickname},
                    "reasons": list(row.moderation_reasons or []),
                    "reports": open_reports.get((target, row.pk), 0),
                    "note_id": row.pk if target == "note" else getattr(row, "note_id", None),
                    "created_at": row.created_at,
                }
            )
    items.sort(key=lambda item: item["created_at"])
    return items[:limit]


@transaction.atomic
def moderate(*, operator: User, target: str, target_id: int, action: str) -> dict[str, Any]:
    """Hide or restore one note, comment or review; its open reports are resolved."""
    if action not in ("hide", "restore"):
        raise Invalid("validation_error", "action is hide or restore", {"field": "action"})
    model = {"note": Note, "comment": Comment, "review": Review}.get(target)
    if model is None:
        raise Invalid("validation_error", "a note, comment or review", {"field": "target"})
    row = model.objects.select_for_update().filter(pk=target_id).first()
    if row is None:
        raise NotFound("not_found", f"no such {target}")
    new = Visibility.HIDDEN if action == "hide" else Visibility.VISIBLE
    old = row.visibility
    if old == new:
        raise Conflict("invalid_transition", f"the {target} is {old} already")
    if target == "note":
        from .services import _note_public_changed

        was_public = row.is_public
        row.visibility = new
        row.save(update_fields=["visibility"])
        _note_public_changed(row, was_public)
    elif target == "comment":
        row.visibility = new
        row.save(update_fields=["visibility"])
        if not row.deleted and Visibility.VISIBLE in (old, new):
            delta = 1 if new == Visibility.VISIBLE else -1
            Note.objects.filter(pk=row.note_id).update(comment_count=F("comment_count") + delta)
    else:
        from .reviews import review_visibility_set

        review_visibility_set(review=row, visibility=new)
    Report.objects.filter(target=target, target_id=target_id, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution="hidden" if action == "hide" else "restored"
    )
    log.info(
        "content moderated",
        extra={
            "target": target,
            "target_id": target_id,
            "action": action,
            "operator_id": operator.pk,
        },
    )
    return {"target": target, "target_id": target_id, "visibility": new}


__all__ = ["ReportTarget", "moderate", "moderation_queue", "report_create", "word_list_checker"]
