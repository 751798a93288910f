"""Circles and who may own them: owner applications, labels, creating, editing and
suspending circles. Each function is one transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.circles.models import (
    Circle,
    CircleStatus,
    JoinPolicy,
    Label,
    Membership,
    MembershipEvent,
    MemberStatus,
    OwnerApplication,
    OwnerStatus,
    Role,
)
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import text_require_publishable

log = get_logger("quanzi.circles")

MAX_LABELS = 5
MAX_TAGS = 8
MAX_CAP = 100_000


# ------------------------------------------------------------------ labels


def label_create(*, name: str, sort: int = 0) -> Label:
    name = name.strip()
    if not name or len(name) > 20:
        raise Invalid("validation_error", "a label is 1 to 20 characters", {"field": "name"})
    if Label.objects.filter(name=name).exists():
        raise Conflict("label_exists", "this label exists already")
    return Label.objects.create(name=name, sort=sort)


def label_set_active(*, label_id: int, active: bool) -> Label:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise NotFound("not_found", "no such label")
    label.is_active = active
    label.save(update_fields=["is_active"])
    return label


# ------------------------------------------------------------------ owners


def owner_apply(*, user: User, intro: str = "") -> OwnerApplication:
    app, created = OwnerApplication.objects.get_or_create(
        user=user, defaults={"intro": intro[:200]}
    )
    if not created and app.status == OwnerStatus.REJECTED:
        app.status, app.intro, app.decided_at = OwnerStatus.PENDING, intro[:200], None
        app.save(update_fields=["status", "intro", "decided_at"])
    return app


def owner_decide(*, user_id: int, approve: bool) -> OwnerApplication:
    app = OwnerApplication.objects.filter(user_id=user_id).first()
    if app is None:
        raise NotFound("not_found", "no such owner application")
    app.status = OwnerStatus.APPROVED if approve else OwnerStatus.REJECTED
    app.decided_at = timezone.now()
    app.save(update_fields=["status", "decided_at"])
    log.info("circle owner decided", extra={"user_id": user_id, "status": app.status})
    return app


def owner_is_approved(user: User) -> bool:
    if user.is_operator:
        return True
    return OwnerApplication.objects.filter(user=user, status=OwnerStatus.APPROVED).exists()


# ------------------------------------------------------------------ circles


def _labels(label_ids: list[int]) -> list[Label]:
    if len(label_ids) > MAX_LABELS:
        raise Invalid("too_many_labels", f"at most {MAX_LABELS} labels")
    labels = list(Label.objects.filter(pk__in=label_ids, is_active=True))
    if len(labels) != len(set(label_ids)):
        raise Invalid("unknown_label", "no such label", {"label_ids": label_ids})
    return labels


def _tags(tags: list[str]) -> list[str]:
    clean = []
    for tag in tags:
        tag = tag.strip().lstrip("#")[:20]
        if tag and tag not in clean:
            clean.append(tag)
    if len(clean) > MAX_TAGS:
        raise Invalid("too_many_tags", f"at most {MAX_TAGS} tags")
    return clean


def _check_fields(data: dict) -> None:
    policy = data.get("join_policy", JoinPolicy.OPEN)
    if policy not in JoinPolicy.values:
        raise Invalid("validation_error", "unknown join policy", {"field": "join_policy"})
    cap = data.get("cap")
    if cap is not None and not (1 <= cap <= MAX_CAP):
        raise Invalid("validation_error", f"the cap is 1 to {MAX_CAP}", {"field": "cap"})
    for field in ("name", "description", "rules", "question"):
        if data.get(field):
            text_require_publishable(data[field], kind="circle", user_id=None)


@transaction.atomic
def circle_create(
    *,
    owner: User,
    name: str,
    label_ids: list[int] | None = None,
    tags: list[str] | None = None,
    join_policy: str = JoinPolicy.OPEN,
    cap: int | None = None,
    description: str = "",
    rules: str = "",
    question: str = "",
    cover: str = "",
    members_only: bool = False,
    lat: float | None = None,
    lng: float | None = None,
) -> Circle:
    if not owner_is_approved(owner):
        raise Conflict("owner_not_approved", "the operator approves circle owners first")
    name = name.strip()
    if not name:
        raise Invalid("validation_error", "a circle needs a name", {"field": "name"})
    data = {
        "name": name,
        "join_policy": join_policy,
        "cap": cap,
        "description": description,
        "rules": rules,
        "question": question,
    }
    _check_fields(data)
    labels = _labels(label_ids or [])
    now = timezone.now()
    circle = Circle.objects.create(
        owner=owner,
        name=name[:40],
        description=description[:500],
        rules=rules[:2000],
        question=question[:120],
        cover=cover[:300],
        tags=_tags(tags or []),
        join_policy=join_policy,
        cap=cap,
        members_only=members_only,
        lat=lat,
        lng=lng,
        member_count=1,
    )
    circle.labels.set(labels)
    Membership.objects.create(
        circle=circle,
        user=owner,
        role=Role.OWNER,
        status=MemberStatus.MEMBER,
        joined_at=now,
        first_joined_at=now,
    )
    MembershipEvent.objects.create(circle=circle, user=owner, kind="join", at=now)
    log.info("circle created", extra={"circle_id": circle.pk, "owner_id": owner.pk})
    return circle


EDITABLE = ("name", "description", "rules", "question", "cover", "join_policy", "cap")


@transaction.atomic
def circle_update(*, circle_id: int, user: User, **changes) -> Circle:
    circle = Circle.objects.select_for_update().filter(pk=circle_id).first()
    if circle is None:
        raise NotFound("not_found", "no such circle")
    if circle.owner_id != user.pk:
        raise Forbidden("not_circle_owner", "only the owner changes the circle")
    _check_fields({k: v for k, v in changes.items() if k in EDITABLE and v is not None})
    if changes.get("cap") is not None and changes["cap"] < circle.member_count:
        raise Conflict("cap_below_members", "the circle already has more members")
    for field in (*EDITABLE, "members_only"):
        if changes.get(field) is not None:
            setattr(circle, field, changes[field])
    if changes.get("tags") is not None:
        circle.tags = _tags(changes["tags"])
    if changes.get("label_ids") is not None:
        circle.labels.set(_labels(changes["label_ids"]))
    circle.save()
    return circle


@transaction.atomic
def circle_suspend(*, circle_id: int, suspend: bool, reason: str = "") -> Circle:
    circle = Circle.objects.select_for_update().filter(pk=circle_id).first()
    if circle is None:
        raise NotFound("not_found", "no such circle")
    circle.status = CircleStatus.SUSPENDED if suspend else CircleStatus.ACTIVE
    circle.suspended_reason = reason[:200] if suspend else ""
    circle.save(update_fields=["status", "suspended_reason"])
    log.info("circle status", extra={"circle_id": circle.pk, "status": circle.status})
    return circle


def circle_get(circle_id: int) -> Circle:
    circle = Circle.objects.filter(pk=circle_id).first()
    if circle is None:
        raise NotFound("not_found", "no such circle")
    return circle
