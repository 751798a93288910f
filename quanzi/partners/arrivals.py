"""A partner's user arrives: a signed token or a one-time code, verified, then linked to
one Quanzi user.

Checks, in order (each refusal names itself): the token's shape, the partner (known,
active, the one in the address), the signature (current key, or the previous one during
its overlap), the times (``exp - iat`` within the partner's ``token_max_age``; not issued
in the future nor expired, within ``clock_skew``), the level (one the partner declared),
then the nonce: it is inserted under a unique constraint in the same transaction as the
link, so of two parallel uses of one token exactly one succeeds.

The link: a partner ``uid`` is one Quanzi user, never two (unique). A signed-in person
links their own account (refused if the uid is someone else's, or if they already hold
another uid of this partner); anyone else is signed in to the uid's account, created at
the first arrival as accounts does for an external sign-up. Every arrival stores the
level asserted now (lower or higher) and its expiry, ``level_days`` later.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from quanzi.core.logging import get_logger
from quanzi.partners.models import (
    Partner,
    PartnerCode,
    PartnerLevel,
    PartnerMember,
    PartnerNonce,
    PartnerStatus,
)
from quanzi.partners.services import keys_accepted
from quanzi.partners.signing import b64url_decode, request_string, verify_any

log = get_logger("quanzi.partners")

MAX_TOKEN = 4096
CODE_TTL_MAX = 7 * 86_400


@dataclass
class Arrival:
    member: PartnerMember
    user: object
    created: bool  # a new Quanzi account
    linked: bool  # the uid was linked by this arrival


def _invalid(reason: str, message: str) -> Invalid:
    return Invalid("partner_token_invalid", message, {"reason": reason})


def partner_by_code(code: str) -> Partner:
    partner = Partner.objects.filter(code=(code or "").strip().lower()).first()
    if partner is None:
        raise NotFound("partner_not_found", "no such partner")
    if partner.status != PartnerStatus.ACTIVE:
        raise Forbidden("partner_suspended", "this partner channel is suspended")
    return partner


def token_payload(token: str) -> tuple[str, dict, bytes]:
    """Split and decode a token: (signed part, payload, signature); no checks yet."""
    token = (token or "").strip()
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        raise _invalid("format", "not a partner token")
    body, sig = token.split(".")
    try:
        payload = json.loads(b64url_decode(body))
        signature = b64url_decode(sig)
    except ValueError as exc:
        raise _invalid("format", "not a partner token") from exc
    if not isinstance(payload, dict):
        raise _invalid("format", "not a partner token")
    for name, kind in (
        ("partner", str),
        ("uid", str),
        ("level", str),
        ("iat", int),
        ("exp", int),
        ("nonce", str),
    ):
        value = payload.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _invalid("format", f"the token's {name} is missing or of the wrong type")
    if not 1 <= len(payload["uid"]) <= 64 or not 8 <= len(payload["nonce"]) <= 64:
        raise _invalid("format", "uid of 1 to 64 and nonce of 8 to 64 characters")
    return body, payload, signature


def _level(partner: Partner, code: str) -> PartnerLevel:
    level = PartnerLevel.objects.filter(partner=partner, code=code).first()
    if level is None:
        raise Forbidden(
            "partner_level_not_allowed", "this partner may not assert that level", {"level": code}
        )
    return level


def token_verify(*, partner: Partner, token: str, now: float | None = None) -> dict:
    """The payload of a token this partner signed and that is valid now (not its nonce)."""
    body, payload, signature = token_payload(token)
    if payload["partner"] != partner.code:
        raise _invalid("partner", "the token is for another partner")
    if not verify_any(keys_accepted(partner), body.encode("ascii"), signature):
        raise _invalid("signature", "the token's signature is not valid")
    now = time.time() if now is None else now
    iat, exp = payload["iat"], payload["exp"]
    if exp <= iat or exp - iat > partner.token_max_age:
        raise _invalid("lifetime", "the token lives longer than the partner's maximum")
    if iat > now + partner.clock_skew:
        raise _invalid("not_yet_valid", "the token is issued in the future")
    if exp < now - partner.clock_skew:
        raise _invalid("expired", "the token has expired")
    return payload


def _nonce_use(partner: Partner, nonce: str, forget_after) -> None:
    try:
        with transaction.atomic():
            PartnerNonce.objects.create(partner=partner, nonce=nonce, forget_after=forget_after)
    except IntegrityError as exc:
        raise Conflict("partner_token_replayed", "this token has been used already") from exc


def _link(*, partner: Partner, uid: str, level: PartnerLevel, user, source: str) -> Arrival:
    """Find or make the member of ``uid`` (caller's transaction)."""
    from quanzi.accounts.models import User
    from quanzi.accounts.services import user_register_external

    now = timezone.now()
    expires = now + timedelta(days=partner.level_days)
    created = linked = False
    caller = user
    member = PartnerMember.objects.select_for_update().filter(partner=partner, uid=uid).first()
    if member is None:
        if user is not None and PartnerMember.objects.filter(partner=partner, user=user).exists():
            raise Conflict(
                "partner_user_linked",
                "your account is linked to another member of this partner",
            )
        try:
            with transaction.atomic():
                if user is None:
                    user = user_register_external(nickname=f"{partner.name}用户"[:40])
                    created = True
                member = PartnerMember.objects.create(
                    partner=partner,
                    uid=uid,
                    user=user,
                    level=level,
                    level_expires_at=expires,
                    source=source,
                    last_arrived_at=now,
                )
                linked = True
        except IntegrityError:
            # The uid arrived twice at once: the other arrival linked it; take that one.
            created, user = False, caller
            member = (
                PartnerMember.objects.select_for_update().filter(partner=partner, uid=uid).first()
            )
            if member is None:
                raise Conflict(
                    "partner_user_linked",
                    "your account is linked to another member of this partner",
                ) from None
    if not linked:
        if user is not None and member.user_id != user.pk:
            raise Conflict(
                "partner_uid_linked",
                "this partner account is linked to another Quanzi account",
            )
        if caller is None:
            linked_user = User.objects.get(pk=member.user_id)
            if linked_user.is_operator or linked_user.is_staff or linked_user.is_superuser:
                # A partner vouches for shoppers; the shop's own staff sign in themselves.
                raise Forbidden(
                    "partner_sign_in_refused",
                    "this account signs in with its password; open the link signed in",
                )
        member.level = level
        member.level_expires_at = expires
        member.last_arrived_at = now
        member.save(update_fields=["level", "level_expires_at", "last_arrived_at"])
        user = User.objects.get(pk=member.user_id)
    log.info(
        "partner arrival",
        extra={
            "partner_id": partner.pk,
            "member_id": member.pk,
            "user_id": member.user_id,
            "level": level.code,
            "source": source,
            "new_account": created,
        },
    )
    return Arrival(member=member, user=user, created=created, linked=linked)


def arrival_by_token(*, partner_code: str, token: str, user=None) -> Arrival:
    partner = partner_by_code(partner_code)
    payload = token_verify(partner=partner, token=token)
    level = _level(partner, payload["level"])
    forget = timezone.now() + timedelta(seconds=partner.token_max_age + 2 * partner.clock_skew)
    with transaction.atomic():
        _nonce_use(partner, "t:" + payload["nonce"], forget)
        return _link(partner=partner, uid=payload["uid"], level=level, user=user, source="token")


def code_issue(*, partner: Partner, uid: str, level: str, ttl_seconds: int = 1800) -> PartnerCode:
    """The partner asks for a one-time code for its user ``uid`` at ``level``."""
    uid = (uid or "").strip()
    if not 1 <= len(uid) <= 64:
        raise Invalid("invalid_value", "uid of 1 to 64 characters", {"field": "uid"})
    if not 60 <= ttl_seconds <= CODE_TTL_MAX:
        raise Invalid("invalid_value", "ttl of 60 seconds to 7 days", {"field": "ttl_seconds"})
    found = _level(partner, level)
    code = PartnerCode.objects.create(
        partner=partner,
        code=secrets.token_urlsafe(12),
        uid=uid,
        level=found,
        expires_at=timezone.now() + timedelta(seconds=ttl_seconds),
    )
    log.info("partner code issued", extra={"partner_id": partner.pk, "code_id": code.pk})
    return code


def arrival_by_code(*, partner_code: str, code: str, user=None) -> Arrival:
    partner = partner_by_code(partner_code)
    now = timezone.now()
    with transaction.atomic():
        row = (
            PartnerCode.objects.select_for_update()
            .select_related("level")
            .filter(partner=partner, code=(code or "").strip())
            .first()
        )
        if row is None:
            raise Invalid("partner_code_invalid", "no such code")
        if row.used_at is not None:
            raise Conflict("partner_code_used", "this code has been used already")
        if row.expires_at <= now:
            raise Invalid("partner_code_expired", "this code has expired")
        arrival = _link(partner=partner, uid=row.uid, level=row.level, user=user, source="code")
        taken = PartnerCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
            used_at=now, used_by=arrival.user
        )
        if taken != 1:
            raise Conflict("partner_code_used", "this code has been used already")
        return arrival


def request_verify(
    *, partner_code: str, method: str, path: str, query: str, headers, body: bytes
) -> Partner:
    """The partner's server signed this request (see ``signing``); else 401."""
    partner = Partner.objects.filter(code=(partner_code or "").strip().lower()).first()
    refused = Unauthorized(
        "partner_signature_invalid", "sign the request with the partner's key (docs/partners.md)"
    )
    if partner is None or partner.status != PartnerStatus.ACTIVE:
        raise refused
    if headers.get("X-Partner-Code", "") != partner.code:
        raise refused
    timestamp = headers.get("X-Partner-Timestamp", "")
    nonce = headers.get("X-Partner-Nonce", "")
    try:
        signature = b64url_decode(headers.get("X-Partner-Signature", ""))
        stamp = int(timestamp)
    except ValueError:
        raise refused from None
    if not 8 <= len(nonce) <= 64:
        raise refused
    message = request_string(
        method=method, path=path, query=query, timestamp=timestamp, nonce=nonce, body=body
    )
    if not verify_any(keys_accepted(partner), message, signature):
        raise refused
    if abs(time.time() - stamp) > partner.clock_skew + 300:
        raise Unauthorized("partner_signature_expired", "the request's timestamp is too old")
    _nonce_use(
        partner, "r:" + nonce, timezone.now() + timedelta(seconds=2 * (partner.clock_skew + 300))
    )
    return partner
