"""Share links: create, open, and record what they bring (registrations, paid orders).

Rules, all decided from recorded facts:

* A sharer asking twice for a link to the same target through the same channel gets the
  same link (and so the same token).
* A link's **parent** is the link through which its sharer arrived: the link the sharer
  registered through if there is one, otherwise the first link of someone else the
  sharer opened while known (logged in). Links of sharers who came on their own are
  roots, ``depth`` 1; a child's depth is its parent's plus one.
* Opening a link records the visit (a known user, or the anonymous session), and binds
  the visitor's referrer when the operator's ``distribution.bind_on`` is ``first_visit``
  (see ``quanzi.distribution.binding``). Registrations and paid orders through a link
  are conversions; a sharer's own visits and orders never count.
"""

from __future__ import annotations

import re
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.social.models import ConversionKind, ShareConversion, ShareLink, ShareTarget, ShareVisit
from quanzi.social.targets import known_target, target_exists

log = get_logger("quanzi.social")

CHANNEL_RE = re.compile(r"^[a-z0-9_-]{0,20}$")


def _new_token() -> str:
    return secrets.token_urlsafe(12)[:16]


def _arrival_link(user: User) -> ShareLink | None:
    """The link through which ``user`` arrived (None when it came on its own)."""
    registered = (
        ShareConversion.objects.filter(user=user, kind=ConversionKind.REGISTER)
        .exclude(link__sharer=user)
        .select_related("link")
        .first()
    )
    if registered is not None:
        return registered.link
    visit = (
        ShareVisit.objects.filter(visitor=user)
        .exclude(link__sharer=user)
        .select_related("link")
        .order_by("first_at", "id")
        .first()
    )
    return visit.link if visit is not None else None


def share_create(*, sharer: User, target: str, target_id: int, channel: str = "") -> ShareLink:
    if target not in ShareTarget.values and not known_target(target):
        raise Invalid("invalid_share_target", "share a product, group, bargain, note or shop")
    if not isinstance(target_id, int) or target_id < 1:
        raise Invalid("invalid_share_target", "target_id is a positive id")
    channel = (channel or "").strip().lower()
    if not CHANNEL_RE.match(channel):
        raise Invalid("invalid_share_channel", "a channel is up to 20 letters, digits, '-' or '_'")
    if target_exists(target, target_id) is False:
        raise NotFound("share_target_not_found", f"no such {target} to share")
    existing = (
        ShareLink.objects.filter(sharer=sharer, target=target, target_id=target_id, channel=channel)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    parent = _arrival_link(sharer)
    for _ in range(5):
        try:
            with transaction.atomic():
                link = ShareLink.objects.create(
                    token=_new_token(),
                    sharer=sharer,
                    target=target,
                    target_id=target_id,
                    channel=channel,
                    parent=parent,
                    root=(parent.root or parent) if parent is not None else None,
                    depth=parent.depth + 1 if parent is not None else 1,
                )
        except IntegrityError:  # a token collision: draw again
            continue
        log.info(
            "share link created",
            extra={
                "share_id": link.pk,
                "user_id": sharer.pk,
                "target": target,
                "depth": link.depth,
            },
        )
        return link
    raise Invalid("share_token_exhausted", "could not make a share link; try again")


def _visit_record(link: ShareLink, *, visitor: User | None, session_key: str) -> None:
    if visitor is not None:
        match = {"link": link, "visitor": visitor}
    elif session_key:
        match = {"link": link, "visitor": None, "session_key": session_key}
    else:
        return
    if ShareVisit.objects.filter(**match).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            ShareVisit.objects.create(
                link=link, visitor=visitor, session_key=session_key if visitor is None else ""
            )
    except IntegrityError:  # the same visitor at the same moment
        ShareVisit.objects.filter(**match).update(count=F("count") + 1)


def share_open(*, token: str, visitor: User | None, session_key: str = "") -> ShareLink:
    """Someone opened ``/s/<token>``: record it and bind on first visit."""
    from quanzi.distribution.binding import referrer_bind_by_share

    link = ShareLink.objects.filter(token=token).first()
    if link is None:
        raise NotFound("share_not_found", "this share link does not exist")
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(opens=F("opens") + 1)
        _visit_record(link, visitor=visitor, session_key=session_key)
        if visitor is not None and visitor.pk != link.sharer_id:
            referrer_bind_by_share(user=visitor, sharer_id=link.sharer_id, trigger="visit")
    return link


def _claim_session_visits(*, user: User, session_key: str) -> None:
    """Visits an anonymous session made become the (now known) user's."""
    if not session_key:
        return
    for visit in ShareVisit.objects.filter(session_key=session_key, visitor__isnull=True):
        mine = ShareVisit.objects.filter(link_id=visit.link_id, visitor=user).first()
        if mine is None:
            visit.visitor = user
            visit.save(update_fields=["visitor"])
        else:
            ShareVisit.objects.filter(pk=mine.pk).update(count=F("count") + visit.count)
            visit.delete()


def share_register_attribute(*, user: User, token: str, session_key: str = "") -> bool:
    """``user`` just registered with ``token`` in its session: record the conversion and
    bind the sharer as referrer when the operator binds on first visit.

    The storefront calls this right after sign-up. Returns False when the token is
    unknown, is the user's own, or the user was already attributed.
    """
    from quanzi.distribution.binding import referrer_bind_by_share

    link = ShareLink.objects.filter(token=(token or "")[:24]).first()
    with transaction.atomic():
        _claim_session_visits(user=user, session_key=session_key)
        if link is None or link.sharer_id == user.pk:
            return False
        try:
            with transaction.atomic():
                ShareConversion.objects.create(link=link, user=user, kind=ConversionKind.REGISTER)
        except IntegrityError:
            return False
        referrer_bind_by_share(user=user, sharer_id=link.sharer_id, trigger="register")
    log.info("registered through share", extra={"share_id": link.pk, "user_id": user.pk})
    return True


def share_order_convert(*, order) -> ShareLink | None:
    """A paid order carried a share token: record the conversion (in the payment's
    transaction). Returns the link, or None when the token is unknown or the buyer's own."""
    token = (order.share_token or "").strip()
    if not token:
        return None
    link = ShareLink.objects.filter(token=token[:24]).first()
    if link is None or link.sharer_id == order.user_id:
        return None
    if not ShareConversion.objects.filter(kind=ConversionKind.ORDER, order_id=order.pk).exists():
        try:
            with transaction.atomic():
                ShareConversion.objects.create(
                    link=link,
                    user_id=order.user_id,
                    kind=ConversionKind.ORDER,
                    order_id=order.pk,
                    amount=order.payable,
                )
        except IntegrityError:
            pass
    return link
