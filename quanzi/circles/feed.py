"""A circle's feed: notes posted to the circle (through the content app's services, so
its moderation, likes and comments apply) and the owner's pinned announcements."""

from __future__ import annotations

from django.db import transaction

from quanzi.accounts.models import User
from quanzi.circles.members import _lock_circle
from quanzi.circles.models import Announcement, Circle, Membership, MemberStatus, Post, Role
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.moderation import text_require_publishable


def _poster(circle: Circle, user: User) -> Membership:
    membership = Membership.objects.filter(
        circle=circle, user=user, status=MemberStatus.MEMBER
    ).first()
    if membership is None:
        raise Conflict("not_a_member", "only members post in this circle")
    if membership.muted:
        raise Forbidden("muted_in_circle", "the owner muted you in this circle")
    if not circle.is_active:
        raise Conflict("circle_suspended", "this circle is suspended")
    return membership


@transaction.atomic
def post_create(
    *,
    circle_id: int,
    author: User,
    title: str,
    body: str = "",
    media_ids: list[int] | None = None,
    product_ids: list[int] | None = None,
) -> Post:
    from quanzi.content.services import note_create

    circle = Circle.objects.filter(pk=circle_id).first()
    if circle is None:
        raise NotFound("not_found", "no such circle")
    _poster(circle, author)
    note = note_create(
        author=author,
        title=title,
        body=body,
        media_ids=media_ids or [],
        product_ids=product_ids or [],
        topics=[circle.name],
        publish=True,
    )
    return Post.objects.create(circle=circle, note=note, author=author)


@transaction.atomic
def announcement_create(*, circle_id: int, author: User, body: str) -> Announcement:
    circle = _lock_circle(circle_id)
    if not Membership.objects.filter(
        circle=circle, user=author, status=MemberStatus.MEMBER, role__in=[Role.OWNER, Role.ADMIN]
    ).exists():
        raise Forbidden("not_circle_admin", "only the owner and admins announce")
    _poster(circle, author)
    body = body.strip()
    if not body:
        raise Invalid("validation_error", "write something", {"field": "body"})
    text_require_publishable(body, kind="announcement", user_id=author.pk, field_name="body")
    return Announcement.objects.create(circle=circle, author=author, body=body[:500])


@transaction.atomic
def announcement_unpin(*, circle_id: int, author: User, announcement_id: int) -> Announcement:
    circle = _lock_circle(circle_id)
    if circle.owner_id != author.pk:
        raise Forbidden("not_circle_owner", "only the owner unpins")
    item = Announcement.objects.filter(pk=announcement_id, circle=circle).first()
    if item is None:
        raise NotFound("not_found", "no such announcement")
    item.pinned = False
    item.save(update_fields=["pinned"])
    return item


def members_only_reader(qs, viewer):
    """The content app's reader filter: a note posted to a circle whose feed is for its
    members is read only by its members (and its author, whom content lets through)."""
    hidden = Post.objects.filter(circle__members_only=True)
    if viewer is not None and getattr(viewer, "pk", None):
        mine = Membership.objects.filter(user_id=viewer.pk, status=MemberStatus.MEMBER)
        hidden = hidden.exclude(circle_id__in=mine.values("circle_id"))
    return qs.exclude(pk__in=hidden.values("note_id"))
