"""Accounts: registration, login, tokens, roles, addresses, referrer binding."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.accounts.models import ROLES, Address, AuthToken, User
from quanzi.core.errors import Conflict, Invalid, NotFound, Unauthorized
from quanzi.core.logging import get_logger
from quanzi.core.moderation import ContentRefused, text_require_publishable

log = get_logger("quanzi.accounts")

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# The phone of an account made through another provider before a number is bound
# (``x`` + 18 hex digits: never a mobile number, unique like one).
PLACEHOLDER_PHONE_PREFIX = "x"

# Called with the new user at the end of ``user_register``, in its transaction (new-user
# coupons, invite rewards…). Feature apps append to it from ``AppConfig.ready()``, so
# accounts never imports them.
on_registered: list[Callable[[User], None]] = []
# Called before those with the share link the person signed up through
# (``user=, token=, session_key=``): the social app records the conversion and binds the
# sharer, so the ``on_registered`` hooks already see the referrer.
on_registered_from_share: list[Callable[..., object]] = []


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))


def phone_validate(phone: str) -> str:
    phone = (phone or "").strip()
    if not PHONE_RE.match(phone):
        raise Invalid("invalid_phone", "a mainland mobile number has 11 digits and starts with 1")
    return phone


def nickname_check(nickname: str, *, user_id: int | None = None) -> None:
    """Ask the moderation checkers (``quanzi.core.moderation``) about a nickname. A name
    is shown everywhere at once and cannot wait in a queue, so one a checker would hold
    for review is refused like a refused one (``422 content_refused``)."""
    verdict = text_require_publishable(
        nickname, kind="nickname", user_id=user_id, field_name="nickname"
    )
    if verdict.held:
        raise ContentRefused(
            message="this nickname cannot be used",
            detail={"field": "nickname", "reasons": list(verdict.reasons)},
        )


def user_create(
    *,
    phone: str,
    password: str,
    nickname: str = "",
    roles: tuple[str, ...] = (),
    device_id: str = "",
) -> User:
    phone = phone_validate(phone)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise Invalid("weak_password", " ".join(exc.messages)) from exc
    given = (nickname or "").strip()
    nickname = given or f"用户{phone[-4:]}"
    if len(nickname) > 40:
        raise Invalid("invalid_nickname", "a nickname has at most 40 characters")
    if given:
        nickname_check(given)
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise Invalid("invalid_role", f"unknown role: {', '.join(sorted(unknown))}")
    flags = {f"is_{role}": True for role in roles}
    if "operator" in roles:
        flags["is_staff"] = True
    for _ in range(5):
        try:
            with transaction.atomic():
                if User.objects.filter(phone=phone).exists():
                    raise Conflict("phone_taken", "this phone number is already registered")
                return User.objects.create_user(
                    phone,
                    password,
                    nickname=nickname,
                    invite_code=_new_invite_code(),
                    device_id=device_id[:64],
                    **flags,
                )
        except IntegrityError as exc:
            if User.objects.filter(phone=phone).exists():
                raise Conflict("phone_taken", "this phone number is already registered") from exc
    raise Conflict("invite_code_exhausted", "could not allot an invite code; try again")


def user_nickname_set(*, user: User, nickname: str) -> User:
    """Change the nickname; the moderation checkers see it first (a nickname shows at
    once, so one they would hold for review is refused like one they refuse)."""
    nickname = (nickname or "").strip()
    if not nickname or len(nickname) > 40:
        raise Invalid("invalid_nickname", "a nickname has 1 to 40 characters")
    nickname_check(nickname, user_id=user.pk)
    user.nickname = nickname
    user.save(update_fields=["nickname"])
    return user


def user_roles_set(*, user: User, roles: tuple[str, ...]) -> User:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise Invalid("invalid_role", f"unknown role: {', '.join(sorted(unknown))}")
    for role in ROLES:
        setattr(user, f"is_{role}", role in roles)
    user.is_staff = "operator" in roles or user.is_superuser
    user.save()
    return user


def token_issue(*, user: User) -> str:
    raw = secrets.token_urlsafe(32)
    AuthToken.objects.create(user=user, key_hash=_hash(raw), prefix=raw[:8])
    return raw


def _token_cache_key(digest: str) -> str:
    return f"quanzi:auth:{digest}"


def _token_id_key(digest: str) -> str:
    return f"quanzi:auth-id:{digest}"


def token_id_cache_key(*, raw: str) -> str:
    """The token cache's key of the token's user id alone (an integer, which the Redis
    cache stores as its digits, not pickled): what the async front reads to know the
    buyer without unpickling a user. Filled and dropped with the user's own entry."""
    return _token_id_key(_hash(raw))


def token_user_cached(*, raw: str) -> User | None:
    """The user of a token when the token cache has it, else None (no database read:
    the fast paths in front of the API hand a miss to ``token_authenticate``)."""
    if not settings.AUTH_TOKEN_CACHE_SECONDS:
        return None
    try:
        return cache.get(_token_cache_key(_hash(raw)))
    except Exception:  # noqa: BLE001 - the cache is an accelerator
        return None


def token_authenticate(*, raw: str) -> User | None:
    """The active user of a live token, or None (served from the cache when it has it)."""
    digest = _hash(raw)
    ttl = settings.AUTH_TOKEN_CACHE_SECONDS
    if ttl:
        try:
            user = cache.get(_token_cache_key(digest))
        except Exception:  # noqa: BLE001 - the cache is an accelerator: fall back to the DB
            log.warning("token cache unavailable", exc_info=True)
            ttl, user = 0, None
        if user is not None:
            return user
    token = (
        AuthToken.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if ttl:
        try:
            cache.set_many(
                {_token_cache_key(digest): token.user, _token_id_key(digest): token.user.pk}, ttl
            )
        except Exception:  # noqa: BLE001
            log.warning("token cache unavailable", exc_info=True)
    return token.user


def token_revoke(*, raw: str) -> None:
    digest = _hash(raw)
    AuthToken.objects.filter(key_hash=digest, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _tokens_forget([digest])


def user_tokens_forget(*, user_id: int) -> None:
    """Drop a user's cached sign-ins: the next request reads the user afresh.

    Called by ``User.save()`` (roles, deactivation, password, profile), at once and
    again when the transaction commits, so no request keeps a stale user for long.
    """
    if not settings.AUTH_TOKEN_CACHE_SECONDS:
        return
    digests = list(
        AuthToken.objects.filter(user_id=user_id, revoked_at__isnull=True).values_list(
            "key_hash", flat=True
        )
    )
    _tokens_forget(digests)
    transaction.on_commit(lambda: _tokens_forget(digests))


def _tokens_forget(digests: list[str]) -> None:
    if not settings.AUTH_TOKEN_CACHE_SECONDS or not digests:
        return
    try:
        cache.delete_many([key(d) for d in digests for key in (_token_cache_key, _token_id_key)])
    except Exception:  # noqa: BLE001 - the entries expire on their own
        log.warning("token cache unavailable", exc_info=True)


def user_register(
    *,
    phone: str,
    password: str,
    nickname: str = "",
    invite_code: str = "",
    device_id: str = "",
    share_token: str = "",
    session_key: str = "",
) -> tuple[User, str]:
    """Sign up; an invite code binds the new user's referrer (an unknown code is refused).

    ``share_token``: the share link the person arrived through (an unknown one is
    ignored: a deleted link must not stop a sign-up); ``session_key``: the anonymous
    web session whose share visits become the new user's."""
    with transaction.atomic():
        referrer = _referrer_by_invite_code(invite_code)
        user = user_create(phone=phone, password=password, nickname=nickname, device_id=device_id)
        _signed_up(user, referrer=referrer, share_token=share_token, session_key=session_key)
        return user, token_issue(user=user)


def phone_is_placeholder(phone: str) -> bool:
    """True for the stand-in number of someone who signed up without a phone."""
    return phone.startswith(PLACEHOLDER_PHONE_PREFIX)


def user_register_external(
    *,
    nickname: str = "",
    avatar: str = "",
    invite_code: str = "",
    device_id: str = "",
    share_token: str = "",
    session_key: str = "",
) -> User:
    """Sign up someone who logs in through another provider (a WeChat app), in the
    caller's transaction: no password, no phone yet (a placeholder until one is bound
    with ``user_phone_bind``), the invite code and share link applied exactly as on a
    phone sign-up."""
    referrer = _referrer_by_invite_code(invite_code)
    nickname = (nickname or "").strip()[:40]
    for _ in range(5):
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    PLACEHOLDER_PHONE_PREFIX + secrets.token_hex(9),
                    None,
                    nickname=nickname or "微信用户",
                    avatar=avatar[:300],
                    invite_code=_new_invite_code(),
                    device_id=device_id[:64],
                )
                break
        except IntegrityError:
            continue
    else:
        raise Conflict("invite_code_exhausted", "could not allot an invite code; try again")
    _signed_up(user, referrer=referrer, share_token=share_token, session_key=session_key)
    return user


def user_phone_bind(*, user: User, phone: str) -> User:
    """Give the user a (verified) phone number; one already on another account is a
    ``409 phone_taken`` for the operator to merge, never taken over."""
    phone = phone_validate(phone)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.phone == phone:
            return locked
        other = User.objects.filter(phone=phone).exclude(pk=user.pk).values_list("pk", flat=True)
        if other:
            raise Conflict(
                "phone_taken",
                "this phone number belongs to another account; the operator can merge them",
                {"other_user_id": other[0], "merge": "operator"},
            )
        locked.phone = phone
        try:
            with transaction.atomic():
                locked.save(update_fields=["phone"])
        except IntegrityError as exc:
            raise Conflict(
                "phone_taken", "this phone number belongs to another account", {}
            ) from exc
    user.phone = phone
    return locked


def _referrer_by_invite_code(invite_code: str) -> User | None:
    if not invite_code:
        return None
    referrer = User.objects.filter(invite_code=invite_code.strip().upper()).first()
    if referrer is None:
        raise Invalid("invalid_invite_code", "no one has this invite code")
    return referrer


def _signed_up(user: User, *, referrer: User | None, share_token: str, session_key: str) -> None:
    if referrer is not None:
        from quanzi.core.platform_settings import get_settings

        referrer_bind(
            user=user,
            referrer=referrer,
            source="invite_code",
            bind_days=get_settings().distribution.bind_days,
        )
    if share_token or session_key:
        for hook in on_registered_from_share:
            hook(user=user, token=share_token, session_key=session_key)
    for hook in on_registered:
        hook(user)


def user_login(*, phone: str, password: str) -> tuple[User, str]:
    user = User.objects.filter(phone=(phone or "").strip()).first()
    if user is None or not user.is_active or not user.check_password(password):
        raise Unauthorized("invalid_credentials", "wrong phone number or password")
    return user, token_issue(user=user)


def referrer_is_valid(user: User, *, now=None) -> bool:
    if user.referrer_id is None:
        return False
    now = now or timezone.now()
    return user.referrer_expires_at is None or user.referrer_expires_at > now


class _ChainMoved(Exception):
    """An upline chain changed between reading it and locking it: read it again."""


_BIND_ATTEMPTS = 5


def referrer_bind(*, user: User, referrer: User, source: str, bind_days: int = 0) -> bool:
    """Bind ``referrer`` as the user's upline. Returns False when the rules say no.

    Never to oneself, never forming a cycle, never re-bound while a binding is valid.
    Two bindings at the same moment may close a loop from both ends (A binds to B while
    B binds to A, or around a longer chain), so the cycle check runs under row locks:
    the user and every upline of the referrer, locked in primary-key order (no
    deadlock between binders), the chain then read again under the locks. Any two
    bindings that could close a loop together both lock the two users being bound, so
    the second waits for the first and sees its binding. When the chain grew between
    the read and the lock, the locks are released (a savepoint) and it starts again.
    """
    if referrer.pk == user.pk:
        return False
    for _ in range(_BIND_ATTEMPTS):
        try:
            with transaction.atomic():
                return _referrer_bind_locked(user, referrer, source, bind_days)
        except _ChainMoved:
            continue
    raise Conflict("binding_busy", "the referral chain keeps changing; try again")


def _upline_ids(user_id: int) -> list[int]:
    """``user_id`` and its uplines, nearest first (read without locks; stops on a loop)."""
    chain = [user_id]
    cursor = User.objects.filter(pk=user_id).values_list("referrer_id", flat=True).first()
    while cursor is not None and cursor not in chain:
        chain.append(cursor)
        cursor = User.objects.filter(pk=cursor).values_list("referrer_id", flat=True).first()
    return chain


def _referrer_bind_locked(user: User, referrer: User, source: str, bind_days: int) -> bool:
    wanted = sorted({user.pk, *_upline_ids(referrer.pk)})
    rows = {
        row.pk: row
        for row in User.objects.select_for_update(no_key=True).filter(pk__in=wanted).order_by("pk")
    }
    locked = rows[user.pk]
    if referrer_is_valid(locked):
        return False
    # A cycle: the referrer's own chain of uplines (read under the locks) reaches the user.
    seen: set[int] = set()
    cursor: int | None = referrer.pk
    while cursor is not None and cursor not in seen:
        if cursor == user.pk:
            return False
        if cursor not in rows:
            raise _ChainMoved
        seen.add(cursor)
        cursor = rows[cursor].referrer_id
    now = timezone.now()
    locked.referrer = referrer
    locked.referrer_source = source
    locked.referrer_bound_at = now
    locked.referrer_expires_at = now + timedelta(days=bind_days) if bind_days else None
    locked.save(
        update_fields=["referrer", "referrer_source", "referrer_bound_at", "referrer_expires_at"]
    )
    user.referrer_id = referrer.pk
    user.referrer_source = source
    user.referrer_bound_at = now
    user.referrer_expires_at = locked.referrer_expires_at
    return True


def _address_fields(data: dict) -> dict:
    fields = {}
    limits = {"name": 40, "phone": 20, "province": 40, "city": 40, "district": 40, "detail": 200}
    for key, limit in limits.items():
        value = str(data.get(key) or "").strip()
        if not value:
            raise Invalid("invalid_address", f"{key} is required", {"field": key})
        if len(value) > limit:
            raise Invalid(
                "invalid_address", f"{key} has at most {limit} characters", {"field": key}
            )
        fields[key] = value
    phone_validate(fields["phone"])
    return fields


@transaction.atomic
def address_create(*, user: User, data: dict, is_default: bool = False) -> Address:
    fields = _address_fields(data)
    first = not Address.objects.filter(user=user, is_deleted=False).exists()
    if is_default or first:
        Address.objects.filter(user=user, is_default=True).update(is_default=False)
    return Address.objects.create(user=user, is_default=is_default or first, **fields)


def address_get(*, user: User, address_id: int) -> Address:
    address = Address.objects.filter(pk=address_id, user=user, is_deleted=False).first()
    if address is None:
        raise NotFound("address_not_found", "no such address")
    return address


@transaction.atomic
def address_update(*, user: User, address_id: int, data: dict) -> Address:
    address = address_get(user=user, address_id=address_id)
    for key, value in _address_fields(data).items():
        setattr(address, key, value)
    address.save()
    return address


def address_delete(*, user: User, address_id: int) -> None:
    address = address_get(user=user, address_id=address_id)
    address.is_deleted = True
    address.is_default = False
    address.save(update_fields=["is_deleted", "is_default"])
