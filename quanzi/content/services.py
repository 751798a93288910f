"""Writes: notes, follows, likes, favourites, comments, creators.

Counters are exact under concurrency: a counter moves only when the row it counts was
really inserted (a unique constraint refuses the second like of the same person) or
really deleted (``delete()`` says how many rows went), with an ``F()`` update in the same
transaction. Two profiles are always updated in user-id order, so two people following
each other at once never deadlock.

Notes: ``draft → published → (edited) → deleted``; only the author edits or deletes.
Every text people publish is checked by ``quanzi.core.moderation`` (the sensitive-word
list, WeChat's check…): refused text is a ``422 content_refused``; held text is stored
``held`` and shown to nobody but its author until the operator restores it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.catalog.models import SKU, Product
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import text_require_publishable

from .media import media_owned
from .models import (
    Comment,
    Creator,
    CreatorStatus,
    Favourite,
    Follow,
    Like,
    Note,
    NoteClick,
    NoteMedia,
    NoteProduct,
    NoteStatus,
    NoteTouch,
    Profile,
    Visibility,
)
from .readers import may_read

log = get_logger("quanzi.content")

MAX_IMAGES = 9
MAX_PRODUCTS = 10
MAX_TOPICS = 10


# ---------------------------------------------------------------- helpers


def _insert_once(model, **fields) -> bool:
    """Insert one row; False when a unique constraint says it exists already."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:
        return False
    return True


def profiles_ensure(user_ids: Iterable[int]) -> None:
    Profile.objects.bulk_create(
        [Profile(user_id=uid) for uid in sorted(set(user_ids))], ignore_conflicts=True
    )


def _profile_add(changes: dict[int, dict[str, int]]) -> None:
    """Add to profile counters, one user at a time in id order (the lock order)."""
    profiles_ensure(changes)
    for user_id in sorted(changes):
        delta = {name: F(name) + amount for name, amount in changes[user_id].items() if amount}
        if delta:
            Profile.objects.filter(user_id=user_id).update(**delta)


def _note_for_reader(note_id: int, user=None) -> Note:
    """A note the reader may act on: public, or the reader's own (404 otherwise)."""
    note = Note.objects.filter(pk=note_id).exclude(status=NoteStatus.DELETED).first()
    own = note is not None and user is not None and note.author_id == user.pk
    if note is None or not (note.is_public or own) or not (own or may_read(note, user)):
        raise NotFound("not_found", "no such note")
    return note


def _check_text(text: str, *, kind: str, user: User, field_name: str):
    return text_require_publishable(text, kind=kind, user_id=user.pk, field_name=field_name)


# ---------------------------------------------------------------- notes


def _tags(*, product_ids: list[int], sku_ids: list[int]) -> list[tuple[Product, SKU | None]]:
    skus = {s.pk: s for s in SKU.objects.filter(pk__in=sku_ids, is_active=True)}
    missing_skus = [i for i in sku_ids if i not in skus]
    if missing_skus:
        raise Invalid("invalid_sku", "no such SKU", {"sku_ids": missing_skus})
    ids = list(dict.fromkeys([*product_ids, *(s.product_id for s in skus.values())]))
    if len(ids) > MAX_PRODUCTS:
        raise Invalid(
            "too_many_products", f"at most {MAX_PRODUCTS} products", {"max": MAX_PRODUCTS}
        )
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids, is_active=True)}
    missing = [i for i in ids if i not in products]
    if missing:
        raise Invalid("invalid_product", "no such product", {"product_ids": missing})
    sku_of = {s.product_id: s for s in skus.values()}
    return [(products[i], sku_of.get(i)) for i in ids]


def _topics(topics: list[str]) -> list[str]:
    clean = []
    for topic in topics:
        topic = topic.strip().lstrip("#").strip()
        if topic and topic not in clean:
            clean.append(topic[:20])
    if len(clean) > MAX_TOPICS:
        raise Invalid("too_many_topics", f"at most {MAX_TOPICS} topics", {"max": MAX_TOPICS})
    return clean


def _note_public_changed(note: Note, was_public: bool) -> None:
    """Keep the author's counters to what others can see."""
    now_public = note.is_public
    if was_public == now_public:
        return
    sign = 1 if now_public else -1
    _profile_add({note.author_id: {"notes": sign, "likes_received": sign * note.like_count}})


def _moderate(note: Note, *, author: User) -> None:
    verdict = _check_text(
        f"{note.title}\n{note.body}\n{' '.join(note.topics)}",
        kind="note",
        user=author,
        field_name="body",
    )
    if note.visibility == Visibility.HIDDEN:
        return  # the operator's decision stands until the operator changes it
    if verdict.held:
        note.visibility = Visibility.HELD
        note.moderation_reasons = list(verdict.reasons)
    else:
        note.visibility = Visibility.VISIBLE
        note.moderation_reasons = []


@transaction.atomic
def note_create(
    *,
    author: User,
    title: str,
    body: str = "",
    media_ids: list[int] | None = None,
    product_ids: list[int] | None = None,
    sku_ids: list[int] | None = None,
    topics: list[str] | None = None,
    publish: bool = True,
) -> Note:
    title = title.strip()
    if not title:
        raise Invalid("validation_error", "a note needs a title", {"field": "title"})
    media = media_owned(owner=author, media_ids=media_ids or [], limit=MAX_IMAGES)
    if publish and not media:
        raise Invalid("note_needs_image", "a published note shows at least one image")
    tags = _tags(product_ids=product_ids or [], sku_ids=sku_ids or [])
    note = Note(author=author, title=title, body=body.strip(), topics=_topics(topics or []))
    _moderate(note, author=author)
    if publish:
        note.status = NoteStatus.PUBLISHED
        note.published_at = timezone.now()
    note.save()
    _links_set(note, media, tags)
    _note_public_changed(note, False)
    log.info(
        "note created",
        extra={
            "note_id": note.pk,
            "author_id": author.pk,
            "status": note.status,
            "visibility": note.visibility,
        },
    )
    return note


def _links_set(note: Note, media, tags) -> None:
    NoteMedia.objects.filter(note=note).delete()
    NoteProduct.objects.filter(note=note).delete()
    NoteMedia.objects.bulk_create(
        [NoteMedia(note=note, media=m, position=i) for i, m in enumerate(media)]
    )
    NoteProduct.objects.bulk_create(
        [NoteProduct(note=note, product=p, sku=s, position=i) for i, (p, s) in enumerate(tags)]
    )


def _own_note_locked(*, author: User, note_id: int) -> Note:
    note = Note.objects.select_for_update().filter(pk=note_id).first()
    if note is None or note.status == NoteStatus.DELETED:
        raise NotFound("not_found", "no such note")
    if note.author_id != author.pk:
        raise Forbidden("not_author", "only the author may change this note")
    return note


@transaction.atomic
def note_update(
    *,
    author: User,
    note_id: int,
    title: str | None = None,
    body: str | None = None,
    media_ids: list[int] | None = None,
    product_ids: list[int] | None = None,
    sku_ids: list[int] | None = None,
    topics: list[str] | None = None,
    publish: bool | None = None,
) -> Note:
    note = _own_note_locked(author=author, note_id=note_id)
    was_public = note.is_public
    if title is not None:
        if not title.strip():
            raise Invalid("validation_error", "a note needs a title", {"field": "title"})
        note.title = title.strip()
    if body is not None:
        note.body = body.strip()
    if topics is not None:
        note.topics = _topics(topics)
    media = tags = None
    if media_ids is not None:
        media = media_owned(owner=author, media_ids=media_ids, limit=MAX_IMAGES)
    if product_ids is not None or sku_ids is not None:
        tags = _tags(product_ids=product_ids or [], sku_ids=sku_ids or [])
    publishing = publish and note.status == NoteStatus.DRAFT
    has_media = bool(media) if media is not None else note.media_links.exists()
    if (publishing or note.status == NoteStatus.PUBLISHED) and not has_media:
        raise Invalid("note_needs_image", "a published note shows at least one image")
    _moderate(note, author=author)
    if publishing:
        note.status = NoteStatus.PUBLISHED
        note.published_at = timezone.now()
    elif note.status == NoteStatus.PUBLISHED:
        note.edited_at = timezone.now()
    note.save()
    if media is not None:
        NoteMedia.objects.filter(note=note).delete()
        NoteMedia.objects.bulk_create(
            [NoteMedia(note=note, media=m, position=i) for i, m in enumerate(media)]
        )
    if tags is not None:
        NoteProduct.objects.filter(note=note).delete()
        NoteProduct.objects.bulk_create(
            [NoteProduct(note=note, product=p, sku=s, position=i) for i, (p, s) in enumerate(tags)]
        )
    _note_public_changed(note, was_public)
    return note


@transaction.atomic
def note_delete(*, author: User, note_id: int) -> None:
    note = _own_note_locked(author=author, note_id=note_id)
    was_public = note.is_public
    note.status = NoteStatus.DELETED
    note.save(update_fields=["status"])
    _note_public_changed(note, was_public)
    log.info("note deleted", extra={"note_id": note.pk, "author_id": author.pk})


def note_view(*, note_id: int, viewer: User | None, source: str = "open") -> Note:
    """A reader opened the note: count the view and record the touch (attribution)."""
    note = _note_for_reader(note_id, viewer)
    if viewer is not None and viewer.pk == note.author_id:
        return note
    with transaction.atomic():
        Note.objects.filter(pk=note.pk).update(view_count=F("view_count") + 1)
        if viewer is not None and note.is_public:
            NoteTouch.objects.create(user=viewer, note=note, source=source, at=timezone.now())
    return note


def note_click(*, note_id: int, product_id: int, user: User | None) -> None:
    """A reader went from the note to one of its tagged products."""
    note = _note_for_reader(note_id, user)
    if not NoteProduct.objects.filter(note=note, product_id=product_id).exists():
        raise NotFound("not_found", "the note does not tag this product")
    if user is not None and user.pk == note.author_id:
        return
    with transaction.atomic():
        NoteClick.objects.create(note=note, product_id=product_id, user=user)
        Note.objects.filter(pk=note.pk).update(click_count=F("click_count") + 1)


# ---------------------------------------------------------------- likes, favourites


@transaction.atomic
def note_like(*, user: User, note_id: int) -> Note:
    note = _note_for_reader(note_id, user)
    if _insert_once(Like, user=user, note=note):
        Note.objects.filter(pk=note.pk).update(like_count=F("like_count") + 1)
        if note.is_public:
            _profile_add({note.author_id: {"likes_received": 1}})
    return note


@transaction.atomic
def note_unlike(*, user: User, note_id: int) -> Note:
    note = _note_for_reader(note_id, user)
    deleted, _ = Like.objects.filter(user=user, note=note).delete()
    if deleted:
        Note.objects.filter(pk=note.pk).update(like_count=F("like_count") - 1)
        if note.is_public:
            _profile_add({note.author_id: {"likes_received": -1}})
    return note


@transaction.atomic
def note_favourite(*, user: User, note_id: int) -> Note:
    note = _note_for_reader(note_id, user)
    if _insert_once(Favourite, user=user, note=note):
        Note.objects.filter(pk=note.pk).update(favourite_count=F("favourite_count") + 1)
    return note


@transaction.atomic
def note_unfavourite(*, user: User, note_id: int) -> Note:
    note = _note_for_reader(note_id, user)
    deleted, _ = Favourite.objects.filter(user=user, note=note).delete()
    if deleted:
        Note.objects.filter(pk=note.pk).update(favourite_count=F("favourite_count") - 1)
    return note


# ---------------------------------------------------------------- comments


@transaction.atomic
def comment_create(
    *, author: User, note_id: int, body: str, reply_to: int | None = None
) -> Comment:
    note = _note_for_reader(note_id, author)
    body = body.strip()
    if not body:
        raise Invalid("validation_error", "write something", {"field": "body"})
    parent = None
    if reply_to is not None:
        parent = Comment.objects.filter(
            pk=reply_to, note=note, deleted=False, visibility=Visibility.VISIBLE
        ).first()
        if parent is None:
            raise NotFound("not_found", "no such comment on this note")
        if parent.reply_to_id is not None:
            parent = parent.reply_to  # one level of replies, as the apps show them
    verdict = _check_text(body, kind="comment", user=author, field_name="body")
    comment = Comment.objects.create(
        note=note,
        author=author,
        body=body,
        reply_to=parent,
        visibility=Visibility.HELD if verdict.held else Visibility.VISIBLE,
        moderation_reasons=list(verdict.reasons),
    )
    if comment.visibility == Visibility.VISIBLE:
        Note.objects.filter(pk=note.pk).update(comment_count=F("comment_count") + 1)
    return comment


@transaction.atomic
def comment_delete(*, user: User, comment_id: int) -> None:
    comment = Comment.objects.select_for_update().filter(pk=comment_id, deleted=False).first()
    if comment is None:
        raise NotFound("not_found", "no such comment")
    if comment.author_id != user.pk:
        raise Forbidden("not_author", "only the author may delete this comment")
    comment.deleted = True
    comment.save(update_fields=["deleted"])
    if comment.visibility == Visibility.VISIBLE:
        Note.objects.filter(pk=comment.note_id).update(comment_count=F("comment_count") - 1)


# ---------------------------------------------------------------- follows


@transaction.atomic
def follow(*, follower: User, followee_id: int) -> bool:
    if follower.pk == followee_id:
        raise Invalid("follow_self", "you cannot follow yourself")
    if not User.objects.filter(pk=followee_id, is_active=True).exists():
        raise NotFound("not_found", "no such user")
    created = _insert_once(Follow, follower=follower, followee_id=followee_id)
    if created:
        _profile_add({follower.pk: {"following": 1}, followee_id: {"followers": 1}})
    return created


@transaction.atomic
def unfollow(*, follower: User, followee_id: int) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee_id=followee_id).delete()
    if deleted:
        _profile_add({follower.pk: {"following": -1}, followee_id: {"followers": -1}})
    return bool(deleted)


# ---------------------------------------------------------------- avatars


def avatar_set(*, user: User, media_id: int) -> str:
    """Use one of the user's uploads as its avatar (the thumbnail: small, no EXIF)."""
    from .media import media_url

    (media,) = media_owned(owner=user, media_ids=[media_id], limit=1)
    user.avatar = media_url(media.thumb_path)[:300]
    user.save(update_fields=["avatar"])
    return user.avatar


# ---------------------------------------------------------------- creators


@transaction.atomic
def creator_apply(*, user: User, intro: str = "") -> Creator:
    creator = Creator.objects.select_for_update().filter(user=user).first()
    if creator is not None and creator.status != CreatorStatus.REJECTED:
        raise Conflict("already_applied", f"your application is {creator.status}")
    _check_text(intro, kind="other", user=user, field_name="intro")
    if creator is None:
        creator = Creator(user=user)
    creator.status = CreatorStatus.APPLIED
    creator.intro = intro.strip()[:200]
    creator.applied_at = timezone.now()
    creator.decided_at = None
    creator.save()
    return creator


@transaction.atomic
def creator_decide(*, user_id: int, operator: User, approve: bool, note: str = "") -> Creator:
    creator = Creator.objects.select_for_update().filter(user_id=user_id).first()
    if creator is None:
        raise NotFound("not_found", "no application from this user")
    if creator.status != CreatorStatus.APPLIED and not (
        approve is False and creator.status == CreatorStatus.APPROVED
    ):
        raise Conflict("invalid_transition", f"the application is {creator.status}")
    creator.status = CreatorStatus.APPROVED if approve else CreatorStatus.REJECTED
    creator.decision_note = note[:200]
    creator.decided_at = timezone.now()
    creator.decided_by_id = operator.pk
    creator.save()
    user = User.objects.get(pk=user_id)
    if user.is_creator != approve:
        user.is_creator = approve
        user.save(update_fields=["is_creator"])
    log.info(
        "creator decided",
        extra={"user_id": user_id, "approved": approve, "operator_id": operator.pk},
    )
    return creator


def creator_is_approved(user_id: int) -> bool:
    return Creator.objects.filter(user_id=user_id, status=CreatorStatus.APPROVED).exists()
