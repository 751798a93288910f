"""Joining and leaving circles.

Every change of membership locks the circle row first (``select_for_update``), re-reads
the person's membership under that lock, and changes the membership and the circle's
``member_count`` in the same transaction: the count is exact and never passes the cap,
whatever the number of parallel joins. Joining pays no one, in any configuration: no
ledger entry, no points, no commission is made here.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.circles.models import (
    Circle,
    CircleStatus,
    EventKind,
    Invite,
    JoinPolicy,
    Membership,
    MembershipEvent,
    MemberStatus,
    Role,
)
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.logging import get_logger

log = get_logger("quanzi.circles")


def _lock_circle(circle_id: int) -> Circle:
    circle = Circle.objects.select_for_update().filter(pk=circle_id).first()
    if circle is None:
        raise NotFound("not_found", "no such circle")
    return circle


def _admit(circle: Circle, membership: Membership, *, now) -> None:
    """Make ``membership`` a member of the locked ``circle`` (cap checked here)."""
    if circle.cap is not None and circle.member_count >= circle.cap:
        raise Conflict("circle_full", "this circle is full", {"cap": circle.cap})
    membership.status = MemberStatus.MEMBER
    membership.joined_at = now
    membership.left_at = None
    membership.muted = False
    if membership.first_joined_at is None:
        membership.first_joined_at = now
    membership.save()
    Circle.objects.filter(pk=circle.pk).update(member_count=F("member_count") + 1)
    circle.member_count += 1
    MembershipEvent.objects.create(
        circle=circle, user_id=membership.user_id, kind=EventKind.JOIN, at=now
    )


SHARE_TARGET = "circle"
SHARE_PATH = "/circles/{id}/?invite={token}"


def invite_create(*, circle_id: int, user: User) -> Invite:
    """A member's invitation link is a share link of the circle (``/s/<token>``): opening
    it is a share visit (the share tree, attribution and the distribution binding rules
    apply as to any share), and its token admits to the circle. The same member gets the
    same link again."""
    from quanzi.social.services import share_create

    if not Membership.objects.filter(
        circle_id=circle_id, user=user, status=MemberStatus.MEMBER
    ).exists():
        raise Conflict("not_a_member", "only members invite")
    link = share_create(sharer=user, target=SHARE_TARGET, target_id=circle_id, channel="invite")
    invite, _ = Invite.objects.get_or_create(
        token=link.token, defaults={"circle_id": circle_id, "inviter": user}
    )
    return invite


def circle_shareable(circle_id: int) -> bool:
    return Circle.objects.filter(pk=circle_id, status=CircleStatus.ACTIVE).exists()


@transaction.atomic
def circle_join(
    *, circle_id: int, user: User, invite_token: str = "", answer: str = ""
) -> Membership:
    """Join (open, or invitation with a valid token) or ask to join (approval)."""
    circle = _lock_circle(circle_id)
    if not circle.is_active:
        raise Conflict("circle_suspended", "this circle is suspended")
    membership = Membership.objects.filter(circle=circle, user=user).first()
    if membership is not None and membership.status == MemberStatus.MEMBER:
        return membership  # joining twice is joining once
    if membership is not None and membership.status == MemberStatus.REMOVED:
        raise Forbidden("removed_from_circle", "the owner removed you from this circle")
    invite = None
    if invite_token:
        invite = Invite.objects.filter(token=invite_token, circle=circle).first()
        if invite is None:
            raise Invalid("invalid_invite", "this invitation link is not valid")
    if circle.join_policy == JoinPolicy.INVITE and invite is None:
        raise Forbidden("invite_required", "this circle takes members by invitation only")
    if membership is None:
        membership = Membership(circle=circle, user=user)
    if invite is not None:
        membership.invited_by_id = invite.inviter_id
        Invite.objects.filter(pk=invite.pk).update(uses=F("uses") + 1)
    now = timezone.now()
    if circle.join_policy == JoinPolicy.APPROVAL and invite is None:
        if circle.question and not answer.strip():
            raise Invalid("answer_required", "answer the owner's question", {"field": "answer"})
        membership.status = MemberStatus.PENDING
        membership.answer = answer.strip()[:200]
        membership.save()
        return membership
    _admit(circle, membership, now=now)
    log.info("circle joined", extra={"circle_id": circle.pk, "user_id": user.pk})
    return membership


def _drop(circle: Circle, membership: Membership, *, kind: str, status: str, now) -> None:
    membership.status = status
    membership.left_at = now
    membership.role = Role.MEMBER
    membership.save()
    Circle.objects.filter(pk=circle.pk).update(member_count=F("member_count") - 1)
    circle.member_count -= 1
    MembershipEvent.objects.create(circle=circle, user_id=membership.user_id, kind=kind, at=now)


@transaction.atomic
def circle_leave(*, circle_id: int, user: User) -> Membership:
    circle = _lock_circle(circle_id)
    membership = Membership.objects.filter(circle=circle, user=user).first()
    if membership is None or membership.status not in (MemberStatus.MEMBER, MemberStatus.PENDING):
        raise Conflict("not_a_member", "you are not in this circle")
    if membership.role == Role.OWNER:
        raise Conflict("owner_cannot_leave", "the owner stays with the circle")
    if membership.status == MemberStatus.PENDING:
        membership.status = MemberStatus.LEFT
        membership.save(update_fields=["status"])
        return membership
    _drop(circle, membership, kind=EventKind.LEAVE, status=MemberStatus.LEFT, now=timezone.now())
    log.info("circle left", extra={"circle_id": circle.pk, "user_id": user.pk})
    return membership


def _managed(circle: Circle, actor: User, user_id: int) -> Membership:
    """The membership of ``user_id``, for an owner or admin of the locked circle."""
    mine = Membership.objects.filter(circle=circle, user=actor, status=MemberStatus.MEMBER).first()
    if mine is None or mine.role not in (Role.OWNER, Role.ADMIN):
        raise Forbidden("not_circle_admin", "only the owner and admins manage members")
    target = Membership.objects.filter(circle=circle, user_id=user_id).first()
    if target is None:
        raise NotFound("not_found", "no such member")
    if target.role == Role.OWNER or (target.role == Role.ADMIN and mine.role != Role.OWNER):
        raise Forbidden("not_circle_owner", "only the owner manages admins")
    return target


@transaction.atomic
def member_decide(*, circle_id: int, actor: User, user_id: int, approve: bool) -> Membership:
    circle = _lock_circle(circle_id)
    target = _managed(circle, actor, user_id)
    if target.status != MemberStatus.PENDING:
        raise Conflict("not_pending", "no request to join from this person")
    if approve:
        _admit(circle, target, now=timezone.now())
    else:
        target.status = MemberStatus.REJECTED
        target.save(update_fields=["status"])
    return target


@transaction.atomic
def member_remove(*, circle_id: int, actor: User, user_id: int) -> Membership:
    circle = _lock_circle(circle_id)
    target = _managed(circle, actor, user_id)
    if target.status != MemberStatus.MEMBER:
        raise Conflict("not_a_member", "this person is not a member")
    _drop(circle, target, kind=EventKind.REMOVE, status=MemberStatus.REMOVED, now=timezone.now())
    return target


@transaction.atomic
def member_mute(*, circle_id: int, actor: User, user_id: int, muted: bool) -> Membership:
    circle = _lock_circle(circle_id)
    target = _managed(circle, actor, user_id)
    if target.status != MemberStatus.MEMBER:
        raise Conflict("not_a_member", "this person is not a member")
    target.muted = muted
    target.save(update_fields=["muted"])
    return target


@transaction.atomic
def member_set_admin(*, circle_id: int, actor: User, user_id: int, admin: bool) -> Membership:
    circle = _lock_circle(circle_id)
    if circle.owner_id != actor.pk:
        raise Forbidden("not_circle_owner", "only the owner names admins")
    target = _managed(circle, actor, user_id)
    if target.status != MemberStatus.MEMBER:
        raise Conflict("not_a_member", "this person is not a member")
    target.role = Role.ADMIN if admin else Role.MEMBER
    target.save(update_fields=["role"])
    return target


def membership_of(*, circle_id: int, user: User | None) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(circle_id=circle_id, user=user).first()


def is_member(*, circle_id: int, user: User | None) -> bool:
    m = membership_of(circle_id=circle_id, user=user)
    return m is not None and m.status == MemberStatus.MEMBER
