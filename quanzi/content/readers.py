"""Who may read a note beyond its status and moderation. A feature app that posts notes
somewhere private (a circle whose feed is for its members) registers a filter here from
its ``ready()``; content never imports it. A filter takes a queryset of notes and the
viewer (``None`` when anonymous) and returns the notes that viewer may read."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

ReaderFilter = Callable[[QuerySet, object], QuerySet]
_filters: list[ReaderFilter] = []


def register_reader_filter(fn: ReaderFilter) -> None:
    if fn not in _filters:
        _filters.append(fn)


def readable(qs: QuerySet, viewer) -> QuerySet:
    for fn in _filters:
        qs = fn(qs, viewer)
    return qs


def may_read(note, viewer) -> bool:
    if not _filters:
        return True
    return readable(type(note).objects.filter(pk=note.pk), viewer).exists()
