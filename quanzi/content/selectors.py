"""Reads: notes, feeds, profiles, follow lists.

Feeds only ever show public notes (published and visible): drafts, deleted, held and
hidden notes are filtered in the one queryset every feed starts from
(``notes_public``). A note's author also sees its own non-public notes on its note page.

Cursors: the following feed and the recent discovery feed page by
(``published_at``, ``id``) newest first; the "hot" discovery feed ranks the window's
notes by likes and pages by position.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid, NotFound
from quanzi.core.pagination import MAX_LIMIT, paginate
from quanzi.core.platform_settings import get_settings

from .media import media_url
from .models import (
    Comment,
    Favourite,
    Follow,
    Like,
    Note,
    NoteProduct,
    NoteStatus,
    Profile,
    Visibility,
)
from .readers import may_read, readable


def notes_public() -> QuerySet[Note]:
    return Note.objects.filter(status=NoteStatus.PUBLISHED, visibility=Visibility.VISIBLE)


def _size(limit: int | None) -> int:
    size = 20 if limit is None else limit
    if size < 1 or size > MAX_LIMIT:
        raise Invalid("invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
    return size


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        got, value = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
        if got != kind:
            raise ValueError(got)
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("invalid_cursor", "the cursor is not one this API gave out") from exc


def _page_by_time(
    qs: QuerySet[Note], cursor: str | None, size: int
) -> tuple[list[Note], str | None]:
    qs = qs.order_by("-published_at", "-id")
    if cursor:
        value = _decode(cursor, "t")
        try:
            stamp, last_id = value.rsplit("|", 1)
            when = datetime.fromisoformat(stamp)
            last = int(last_id)
        except ValueError as exc:
            raise Invalid("invalid_cursor", "the cursor is not one this API gave out") from exc
        qs = qs.filter(Q(published_at__lt=when) | Q(published_at=when, id__lt=last))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = (
        _encode(f"t:{rows[-1].published_at.isoformat()}|{rows[-1].pk}") if more and rows else None
    )
    return rows, next_cursor


def _page_by_rank(
    qs: QuerySet[Note], cursor: str | None, size: int
) -> tuple[list[Note], str | None]:
    offset = 0
    if cursor:
        try:
            offset = int(_decode(cursor, "o"))
        except ValueError as exc:
            raise Invalid("invalid_cursor", "the cursor is not one this API gave out") from exc
        if offset < 0:
            raise Invalid("invalid_cursor", "the cursor is not one this API gave out")
    rows = list(qs.order_by("-like_count", "-published_at", "-id")[offset : offset + size + 1])
    more = len(rows) > size
    return rows[:size], (_encode(f"o:{offset + size}") if more else None)


def _with_related(qs: QuerySet[Note]) -> QuerySet[Note]:
    return qs.select_related("author").prefetch_related(
        "media_links__media", "product_links__product__images", "product_links__product__skus"
    )


def feed(
    *, user: User | None, kind: str, cursor: str | None, limit: int | None, sort: str = "hot"
) -> dict[str, Any]:
    size = _size(limit)
    qs = readable(_with_related(notes_public()), user)
    if kind == "following":
        if user is None:
            return {"items": [], "next_cursor": None}
        followed = Follow.objects.filter(follower=user).values("followee_id")
        rows, next_cursor = _page_by_time(qs.filter(author_id__in=followed), cursor, size)
    elif kind == "discover":
        window = timedelta(days=get_settings().content.discover_window_days)
        recent = qs.filter(published_at__gte=timezone.now() - window)
        if sort == "recent":
            rows, next_cursor = _page_by_time(recent, cursor, size)
        else:
            rows, next_cursor = _page_by_rank(recent, cursor, size)
    else:
        raise Invalid("invalid_feed", "kind is following or discover")
    return {"items": note_cards(rows, user=user), "next_cursor": next_cursor}


def notes_of(*, author_id: int, viewer: User | None, cursor: str | None, limit: int | None):
    qs = Note.objects.filter(author_id=author_id)
    if viewer is not None and viewer.pk == author_id:
        qs = qs.exclude(status=NoteStatus.DELETED)
    else:
        qs = readable(qs.filter(status=NoteStatus.PUBLISHED, visibility=Visibility.VISIBLE), viewer)
    page = paginate(_with_related(qs), cursor=cursor, limit=limit, serialize=lambda n: n)
    page["items"] = note_cards(page["items"], user=viewer)
    return page


def notes_for_product(*, product_id: int, limit: int = 6) -> list[Note]:
    ids = NoteProduct.objects.filter(product_id=product_id).values("note_id")
    return list(
        _with_related(readable(notes_public().filter(pk__in=ids), None)).order_by(
            "-like_count", "-id"
        )[:limit]
    )


def _author(user: User) -> dict[str, Any]:
    return {"id": user.pk, "nickname": user.nickname, "avatar": user.avatar}


def _liked_ids(user: User | None, notes: list[Note]) -> set[int]:
    if user is None or not notes:
        return set()
    return set(
        Like.objects.filter(user=user, note_id__in=[n.pk for n in notes]).values_list(
            "note_id", flat=True
        )
    )


def note_cards(notes: list[Note], *, user: User | None) -> list[dict[str, Any]]:
    liked = _liked_ids(user, notes)
    cards = []
    for note in notes:
        links = list(note.media_links.all())
        cover = links[0].media if links else None
        cards.append(
            {
                "id": note.pk,
                "title": note.title,
                "cover": media_url(cover.thumb_path) if cover else "",
                "cover_width": cover.width if cover else 0,
                "cover_height": cover.height if cover else 0,
                "author": _author(note.author),
                "like_count": note.like_count,
                "liked": note.pk in liked,
                "status": note.status,
                "visibility": note.visibility,
                "published_at": note.published_at,
            }
        )
    return cards


def _product_card(link: NoteProduct) -> dict[str, Any]:
    product = link.product
    images = list(product.images.all())
    prices = [s.price for s in product.skus.all() if s.is_active]
    return {
        "id": product.pk,
        "title": product.title,
        "cover": images[0].url if images else "",
        "min_price": min(prices) if prices else 0,
        "sku_id": link.sku_id,
    }


def note_detail(*, note_id: int, user: User | None) -> dict[str, Any]:
    note = _with_related(Note.objects.filter(pk=note_id)).first()
    own = note is not None and user is not None and note.author_id == user.pk
    if note is None or note.status == NoteStatus.DELETED or not (note.is_public or own):
        raise NotFound("not_found", "no such note")
    if not own and not may_read(note, user):
        raise NotFound("not_found", "no such note")
    from .media import media_out

    liked = favourited = following = False
    if user is not None:
        liked = Like.objects.filter(user=user, note=note).exists()
        favourited = Favourite.objects.filter(user=user, note=note).exists()
        following = Follow.objects.filter(follower=user, followee_id=note.author_id).exists()
    return {
        "id": note.pk,
        "title": note.title,
        "body": note.body,
        "topics": note.topics,
        "status": note.status,
        "visibility": note.visibility,
        "author": _author(note.author) | {"following": following},
        "images": [media_out(link.media) for link in note.media_links.all()],
        "products": [_product_card(link) for link in note.product_links.all()],
        "like_count": note.like_count,
        "favourite_count": note.favourite_count,
        "comment_count": note.comment_count,
        "view_count": note.view_count if own else None,
        "liked": liked,
        "favourited": favourited,
        "is_author": own,
        "published_at": note.published_at,
        "edited_at": note.edited_at,
        "created_at": note.created_at,
    }


def comments_of(*, note_id: int, user: User | None, cursor: str | None, limit: int | None):
    note = Note.objects.filter(pk=note_id).first()
    own = note is not None and user is not None and note.author_id == user.pk
    if note is None or note.status == NoteStatus.DELETED or not (note.is_public or own):
        raise NotFound("not_found", "no such note")
    if not own and not may_read(note, user):
        raise NotFound("not_found", "no such note")
    qs = Comment.objects.filter(note=note, deleted=False).select_related("author")
    visible = Q(visibility=Visibility.VISIBLE)
    if user is not None:
        visible |= Q(author=user, visibility=Visibility.HELD)
    qs = qs.filter(visible)

    def out(comment: Comment) -> dict[str, Any]:
        return {
            "id": comment.pk,
            "body": comment.body,
            "author": _author(comment.author),
            "reply_to": comment.reply_to_id,
            "visibility": comment.visibility,
            "created_at": comment.created_at,
        }

    return paginate(qs, cursor=cursor, limit=limit, serialize=out, ascending=True)


def profile_of(*, user_id: int, viewer: User | None) -> dict[str, Any]:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("not_found", "no such user")
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    following = bool(
        viewer is not None and Follow.objects.filter(follower=viewer, followee_id=user_id).exists()
    )
    from .models import Creator, CreatorStatus

    return {
        "id": user.pk,
        "nickname": user.nickname,
        "avatar": user.avatar,
        "bio": profile.bio,
        "followers": profile.followers,
        "following": profile.following,
        "notes": profile.notes,
        "likes_received": profile.likes_received,
        "is_creator": Creator.objects.filter(user=user, status=CreatorStatus.APPROVED).exists(),
        "followed_by_me": following,
    }


def follow_list(*, user_id: int, direction: str, cursor: str | None, limit: int | None):
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound("not_found", "no such user")
    if direction == "followers":
        qs = Follow.objects.filter(followee_id=user_id).select_related("follower")

        def out(row: Follow) -> dict[str, Any]:
            return _author(row.follower) | {"since": row.created_at}
    else:
        qs = Follow.objects.filter(follower_id=user_id).select_related("followee")

        def out(row: Follow) -> dict[str, Any]:
            return _author(row.followee) | {"since": row.created_at}

    return paginate(qs, cursor=cursor, limit=limit, serialize=out)
