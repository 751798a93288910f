"""Content commerce API: media, notes, feeds, follows, comments, reviews, creators,
reports and the operator's moderation (see docs/content.md)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from pydantic import Field

from quanzi.core.auth import require_operator
from quanzi.core.schemas import Datetime, ErrorOut, Id, Schema

from . import centre, moderation, reviews, selectors, services
from .media import media_out, media_upload

router = Router(tags=["content"])


def _viewer(request):
    """The logged-in user on endpoints anyone may read (session or bearer token)."""
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
        return user
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from quanzi.accounts.services import token_authenticate

        return token_authenticate(raw=header.removeprefix("Bearer ").strip())
    return None


# ---------------------------------------------------------------- media


class MediaOut(Schema):
    id: int
    url: str
    thumb_url: str
    width: int
    height: int


@router.post(
    "/media",
    response={201: MediaOut, 413: ErrorOut, 415: ErrorOut, 422: ErrorOut},
    summary="Upload an image (JPEG, PNG or WebP; EXIF is removed)",
)
def media_create(request, file: UploadedFile = File(None)):
    return Status(201, media_out(media_upload(owner=request.auth, upload=file)))


class AvatarIn(Schema):
    media_id: Id


class AvatarOut(Schema):
    avatar: str


@router.put("/me/avatar", response={200: AvatarOut, 422: ErrorOut})
def avatar_set(request, body: AvatarIn):
    """Use one of your uploads (``POST /media``) as your avatar (its thumbnail)."""
    return {"avatar": services.avatar_set(user=request.auth, media_id=body.media_id)}


# ---------------------------------------------------------------- notes


class NoteIn(Schema):
    title: str = Field(min_length=1, max_length=60)
    body: str = Field(default="", max_length=2000)
    media_ids: list[Id] = Field(default_factory=list, max_length=9)
    product_ids: list[Id] = Field(default_factory=list, max_length=10)
    sku_ids: list[Id] = Field(default_factory=list, max_length=10)
    topics: list[str] = Field(default_factory=list, max_length=10)
    publish: bool = True


class NotePatch(Schema):
    title: str | None = Field(default=None, max_length=60)
    body: str | None = Field(default=None, max_length=2000)
    media_ids: list[Id] | None = Field(default=None, max_length=9)
    product_ids: list[Id] | None = Field(default=None, max_length=10)
    sku_ids: list[Id] | None = Field(default=None, max_length=10)
    topics: list[str] | None = Field(default=None, max_length=10)
    publish: bool | None = None


class NoteCreatedOut(Schema):
    id: int
    status: str
    visibility: str


class AuthorOut(Schema):
    id: int
    nickname: str
    avatar: str
    following: bool = False


class NoteProductOut(Schema):
    id: int
    title: str
    cover: str
    min_price: int
    sku_id: int | None


class NoteOut(Schema):
    id: int
    title: str
    body: str
    topics: list[str]
    status: str
    visibility: str
    author: AuthorOut
    images: list[MediaOut]
    products: list[NoteProductOut]
    like_count: int
    favourite_count: int
    comment_count: int
    view_count: int | None
    liked: bool
    favourited: bool
    is_author: bool
    published_at: Datetime | None
    edited_at: Datetime | None
    created_at: Datetime


class NoteCardOut(Schema):
    id: int
    title: str
    cover: str
    cover_width: int
    cover_height: int
    author: AuthorOut
    like_count: int
    liked: bool
    status: str
    visibility: str
    published_at: Datetime | None


class NoteCardPage(Schema):
    items: list[NoteCardOut]
    next_cursor: str | None


class CountsOut(Schema):
    id: int
    like_count: int
    favourite_count: int
    liked: bool
    favourited: bool


def _created(note) -> dict[str, Any]:
    return {"id": note.pk, "status": note.status, "visibility": note.visibility}


@router.post("/notes", response={201: NoteCreatedOut, 422: ErrorOut})
def note_create(request, body: NoteIn):
    note = services.note_create(author=request.auth, **body.dict())
    return Status(201, _created(note))


@router.get("/notes/{note_id}", auth=None, response={200: NoteOut, 404: ErrorOut})
def note_get(request, note_id: int):
    """Opening a note counts a view and, for a known reader, records the touch that
    attributes a later purchase of a tagged product to the note's creator."""
    user = _viewer(request)
    services.note_view(note_id=note_id, viewer=user)
    return selectors.note_detail(note_id=note_id, user=user)


@router.patch(
    "/notes/{note_id}", response={200: NoteCreatedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def note_update(request, note_id: int, body: NotePatch):
    note = services.note_update(author=request.auth, note_id=note_id, **body.dict())
    return _created(note)


@router.delete("/notes/{note_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def note_delete(request, note_id: int):
    services.note_delete(author=request.auth, note_id=note_id)
    return Status(204, None)


def _counts(note_id: int, user) -> dict[str, Any]:
    detail = selectors.note_detail(note_id=note_id, user=user)
    return {k: detail[k] for k in ("id", "like_count", "favourite_count", "liked", "favourited")}


@router.post("/notes/{note_id}/like", response={200: CountsOut, 404: ErrorOut})
def note_like(request, note_id: int):
    services.note_like(user=request.auth, note_id=note_id)
    return _counts(note_id, request.auth)


@router.delete("/notes/{note_id}/like", response={200: CountsOut, 404: ErrorOut})
def note_unlike(request, note_id: int):
    services.note_unlike(user=request.auth, note_id=note_id)
    return _counts(note_id, request.auth)


@router.post("/notes/{note_id}/favourite", response={200: CountsOut, 404: ErrorOut})
def note_favourite(request, note_id: int):
    services.note_favourite(user=request.auth, note_id=note_id)
    return _counts(note_id, request.auth)


@router.delete("/notes/{note_id}/favourite", response={200: CountsOut, 404: ErrorOut})
def note_unfavourite(request, note_id: int):
    services.note_unfavourite(user=request.auth, note_id=note_id)
    return _counts(note_id, request.auth)


class ClickIn(Schema):
    product_id: Id


@router.post("/notes/{note_id}/clicks", auth=None, response={204: None, 404: ErrorOut})
def note_click(request, note_id: int, body: ClickIn):
    services.note_click(note_id=note_id, product_id=body.product_id, user=_viewer(request))
    return Status(204, None)


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=500)
    reply_to: Id | None = None


class CommentAuthorOut(Schema):
    id: int
    nickname: str
    avatar: str


class CommentOut(Schema):
    id: int
    body: str
    author: CommentAuthorOut
    reply_to: int | None
    visibility: str
    created_at: Datetime


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


@router.post("/notes/{note_id}/comments", response={201: CommentOut, 404: ErrorOut, 422: ErrorOut})
def comment_create(request, note_id: int, body: CommentIn):
    comment = services.comment_create(
        author=request.auth, note_id=note_id, body=body.body, reply_to=body.reply_to
    )
    return Status(
        201,
        {
            "id": comment.pk,
            "body": comment.body,
            "author": {
                "id": request.auth.pk,
                "nickname": request.auth.nickname,
                "avatar": request.auth.avatar,
            },
            "reply_to": comment.reply_to_id,
            "visibility": comment.visibility,
            "created_at": comment.created_at,
        },
    )


@router.get("/notes/{note_id}/comments", auth=None, response={200: CommentPage, 404: ErrorOut})
def comment_list(request, note_id: int, cursor: str | None = None, limit: int | None = None):
    return selectors.comments_of(note_id=note_id, user=_viewer(request), cursor=cursor, limit=limit)


@router.delete("/comments/{comment_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def comment_delete(request, comment_id: int):
    services.comment_delete(user=request.auth, comment_id=comment_id)
    return Status(204, None)


@router.get("/feed", auth=None, response={200: NoteCardPage, 422: ErrorOut})
def feed(
    request,
    kind: Literal["following", "discover"] = "discover",
    sort: Literal["hot", "recent"] = "hot",
    cursor: str | None = None,
    limit: int | None = None,
):
    """``following``: notes of the people you follow, newest first. ``discover``: the
    window's notes (``content.discover_window_days``), most liked first (``sort=hot``) or
    newest first (``sort=recent``)."""
    return selectors.feed(user=_viewer(request), kind=kind, sort=sort, cursor=cursor, limit=limit)


@router.get("/me/notes", response=NoteCardPage)
def my_notes(request, cursor: str | None = None, limit: int | None = None):
    """Your notes, drafts and held ones included."""
    return selectors.notes_of(
        author_id=request.auth.pk, viewer=request.auth, cursor=cursor, limit=limit
    )


@router.get("/products/{product_id}/notes", auth=None, response=list[NoteCardOut])
def product_notes(request, product_id: int, limit: int = Query(6, ge=1, le=20)):
    notes = selectors.notes_for_product(product_id=product_id, limit=limit)
    return selectors.note_cards(notes, user=_viewer(request))


# ---------------------------------------------------------------- people


class ProfileOut(Schema):
    id: int
    nickname: str
    avatar: str
    bio: str
    followers: int
    following: int
    notes: int
    likes_received: int
    is_creator: bool
    followed_by_me: bool


class PersonOut(Schema):
    id: int
    nickname: str
    avatar: str
    since: Datetime


class PersonPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


@router.get("/users/{user_id}/profile", auth=None, response={200: ProfileOut, 404: ErrorOut})
def profile(request, user_id: int):
    return selectors.profile_of(user_id=user_id, viewer=_viewer(request))


@router.get("/users/{user_id}/notes", auth=None, response={200: NoteCardPage, 404: ErrorOut})
def user_notes(request, user_id: int, cursor: str | None = None, limit: int | None = None):
    return selectors.notes_of(
        author_id=user_id, viewer=_viewer(request), cursor=cursor, limit=limit
    )


@router.post("/users/{user_id}/follow", response={200: ProfileOut, 404: ErrorOut, 422: ErrorOut})
def follow(request, user_id: int):
    services.follow(follower=request.auth, followee_id=user_id)
    return selectors.profile_of(user_id=user_id, viewer=request.auth)


@router.delete("/users/{user_id}/follow", response={200: ProfileOut, 404: ErrorOut})
def unfollow(request, user_id: int):
    services.unfollow(follower=request.auth, followee_id=user_id)
    return selectors.profile_of(user_id=user_id, viewer=request.auth)


@router.get("/users/{user_id}/followers", auth=None, response={200: PersonPage, 404: ErrorOut})
def followers(request, user_id: int, cursor: str | None = None, limit: int | None = None):
    return selectors.follow_list(user_id=user_id, direction="followers", cursor=cursor, limit=limit)


@router.get("/users/{user_id}/following", auth=None, response={200: PersonPage, 404: ErrorOut})
def following(request, user_id: int, cursor: str | None = None, limit: int | None = None):
    return selectors.follow_list(user_id=user_id, direction="following", cursor=cursor, limit=limit)


# ---------------------------------------------------------------- reviews


class ReviewIn(Schema):
    rating: int = Field(ge=1, le=5)
    body: str = Field(default="", max_length=1000)
    media_ids: list[Id] = Field(default_factory=list, max_length=9)


class ReviewAuthorOut(Schema):
    id: int
    nickname: str


class ReviewOut(Schema):
    id: int
    rating: int
    body: str
    sku_name: str
    author: ReviewAuthorOut
    images: list[MediaOut]
    verified_purchase: bool
    created_at: Datetime


class ReviewCreatedOut(ReviewOut):
    visibility: str
    points: int


class RatingOut(Schema):
    average: float
    count: int


class ReviewPage(Schema):
    items: list[ReviewOut]
    next_cursor: str | None
    rating: RatingOut


@router.post(
    "/orders/{order_id}/lines/{line_id}/review",
    response={201: ReviewCreatedOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def review_create(request, order_id: int, line_id: int, body: ReviewIn):
    review = reviews.review_create(
        user=request.auth,
        order_id=order_id,
        line_id=line_id,
        rating=body.rating,
        body=body.body,
        media_ids=body.media_ids,
    )
    out = reviews.review_out(review) | {
        "visibility": review.visibility,
        "points": review.points_granted,
    }
    return Status(201, out)


@router.get("/products/{product_id}/reviews", auth=None, response=ReviewPage)
def product_reviews(request, product_id: int, cursor: str | None = None, limit: int | None = None):
    return reviews.reviews_of_product(product_id=product_id, cursor=cursor, limit=limit)


# ---------------------------------------------------------------- creators


class CreatorApplyIn(Schema):
    intro: str = Field(default="", max_length=200)


class CreatorOut(Schema):
    user_id: int
    nickname: str
    status: str
    intro: str
    decision_note: str
    applied_at: Datetime
    decided_at: Datetime | None


class CreatorPage(Schema):
    items: list[CreatorOut]
    next_cursor: str | None


class DecisionIn(Schema):
    note: str = Field(default="", max_length=200)


def _creator_out(creator) -> dict[str, Any]:
    return {
        "user_id": creator.user_id,
        "nickname": creator.user.nickname,
        "status": creator.status,
        "intro": creator.intro,
        "decision_note": creator.decision_note,
        "applied_at": creator.applied_at,
        "decided_at": creator.decided_at,
    }


@router.post("/me/creator", response={201: CreatorOut, 409: ErrorOut, 422: ErrorOut})
def creator_apply(request, body: CreatorApplyIn):
    """Apply to be a creator (达人): free; the operator approves. Everyone may post notes;
    only approved creators earn commission on the sales their notes bring."""
    return Status(201, _creator_out(services.creator_apply(user=request.auth, intro=body.intro)))


@router.get("/me/creator", response={200: CreatorOut, 404: ErrorOut})
def creator_me(request):
    from .models import Creator

    return _creator_out(Creator.objects.select_related("user").get(user=request.auth))


@router.get("/me/creator/centre", response=dict[str, Any])
def creator_centre(request, days: int = Query(30, ge=1, le=90)):
    """The creator centre: per note views, likes, clicks to products, orders and
    commission, and the same totals per day."""
    return centre.creator_centre(user=request.auth, days=days)


@router.get("/admin/creators", response={200: CreatorPage, 403: ErrorOut})
def creators_list(
    request,
    status: Literal["applied", "approved", "rejected"] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    require_operator(request)
    from quanzi.core.pagination import paginate

    from .models import Creator

    qs = Creator.objects.select_related("user")
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, cursor=cursor, limit=limit, serialize=_creator_out)


@router.post(
    "/admin/creators/{user_id}/approve",
    response={200: CreatorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def creator_approve(request, user_id: int, body: DecisionIn | None = None):
    operator = require_operator(request)
    creator = services.creator_decide(
        user_id=user_id, operator=operator, approve=True, note=body.note if body else ""
    )
    return _creator_out(creator)


@router.post(
    "/admin/creators/{user_id}/reject",
    response={200: CreatorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def creator_reject(request, user_id: int, body: DecisionIn | None = None):
    operator = require_operator(request)
    creator = services.creator_decide(
        user_id=user_id, operator=operator, approve=False, note=body.note if body else ""
    )
    return _creator_out(creator)


# ---------------------------------------------------------------- moderation


class ReportIn(Schema):
    target: Literal["note", "comment", "review"]
    target_id: Id
    reason: str = Field(default="", max_length=200)


class ReportOut(Schema):
    id: int
    target: str
    target_id: int
    created_at: Datetime


@router.post("/reports", response={201: ReportOut, 404: ErrorOut, 422: ErrorOut})
def report_create(request, body: ReportIn):
    report = moderation.report_create(
        reporter=request.auth, target=body.target, target_id=body.target_id, reason=body.reason
    )
    return Status(
        201,
        {
            "id": report.pk,
            "target": report.target,
            "target_id": report.target_id,
            "created_at": report.created_at,
        },
    )


class QueueItemOut(Schema):
    target: str
    target_id: int
    visibility: str
    text: str
    author: ReviewAuthorOut
    reasons: list[str]
    reports: int
    note_id: int | None
    created_at: Datetime


class QueueOut(Schema):
    items: list[QueueItemOut]


class ModeratedOut(Schema):
    target: str
    target_id: int
    visibility: str


@router.get("/admin/moderation/queue", response={200: QueueOut, 403: ErrorOut})
def moderation_queue(request):
    require_operator(request)
    return {"items": moderation.moderation_queue()}


@router.post(
    "/admin/moderation/{target}/{target_id}/{action}",
    response={200: ModeratedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def moderate(
    request,
    target: Literal["note", "comment", "review"],
    target_id: int,
    action: Literal["hide", "restore"],
):
    operator = require_operator(request)
    return moderation.moderate(operator=operator, target=target, target_id=target_id, action=action)


class WordIn(Schema):
    word: str = Field(min_length=1, max_length=40)
    action: Literal["refuse", "hold"] = "hold"


class WordOut(Schema):
    id: int
    word: str
    action: str


class WordList(Schema):
    items: list[WordOut]


@router.get("/admin/sensitive-words", response={200: WordList, 403: ErrorOut})
def words_list(request):
    require_operator(request)
    from .models import SensitiveWord

    return {"items": list(SensitiveWord.objects.order_by("word").values("id", "word", "action"))}


@router.post("/admin/sensitive-words", response={201: WordOut, 403: ErrorOut, 422: ErrorOut})
def word_add(request, body: WordIn):
    require_operator(request)
    row = moderation.word_add(word=body.word, action=body.action)
    return Status(201, {"id": row.pk, "word": row.word, "action": row.action})


@router.delete(
    "/admin/sensitive-words/{word_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def word_remove(request, word_id: int):
    require_operator(request)
    moderation.word_remove(word_id=word_id)
    return Status(204, None)
