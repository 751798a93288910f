"""The operator's side of partner channels: partners, signing keys and their rotation,
levels, channel prices and level-limited coupons. One transaction each."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.partners.models import (
    KeyKind,
    KeyStatus,
    Partner,
    PartnerCoupon,
    PartnerKey,
    PartnerLevel,
    PartnerPrice,
    PartnerStatus,
)
from quanzi.partners.signing import rsa_public_key_check

log = get_logger("quanzi.partners")

_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
_LEVEL = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
MAX_OVERLAP_HOURS = 24 * 30


def _partner(partner_id: int, *, lock: bool = False) -> Partner:
    qs = Partner.objects.select_for_update() if lock else Partner.objects
    partner = qs.filter(pk=partner_id).first()
    if partner is None:
        raise NotFound("partner_not_found", "no such partner")
    return partner


def _settings(partner: Partner, data: dict) -> None:
    for field, low, high in (
        ("token_max_age", 30, 86_400),
        ("clock_skew", 0, 600),
        ("level_days", 1, 3650),
    ):
        value = data.get(field)
        if value is None:
            continue
        if not low <= int(value) <= high:
            raise Invalid("invalid_value", f"{field} must be {low} to {high}", {"field": field})
        setattr(partner, field, int(value))


def partner_create(*, name: str, code: str, **data) -> Partner:
    name, code = (name or "").strip(), (code or "").strip().lower()
    if not name or len(name) > 60:
        raise Invalid(
            "invalid_value", "name the partner (60 characters at most)", {"field": "name"}
        )
    if not _CODE.match(code):
        raise Invalid(
            "partner_code_format",
            "a code of 2 to 32 lower-case letters, digits or -, starting with a letter",
            {"field": "code"},
        )
    partner = Partner(name=name, code=code)
    _settings(partner, data)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError as exc:
        raise Conflict("partner_code_taken", "another partner has this code") from exc
    log.info("partner created", extra={"partner_id": partner.pk, "code": code})
    return partner


def partner_update(*, partner_id: int, data: dict) -> Partner:
    with transaction.atomic():
        partner = _partner(partner_id, lock=True)
        if data.get("name"):
            partner.name = str(data["name"]).strip()[:60]
        status = data.get("status")
        if status is not None:
            if status not in PartnerStatus.values:
                raise Invalid("invalid_value", "active or suspended", {"field": "status"})
            partner.status = status
        _settings(partner, data)
        partner.save()
    return partner


def key_rotate(
    *, partner_id: int, kind: str, secret: str = "", public_key: str = "", overlap_hours: int = 24
) -> PartnerKey:
    """Install a new current key. The current one becomes ``previous`` and is still
    accepted for ``overlap_hours`` (0: refused at once); an older previous one retires."""
    if kind not in KeyKind.values:
        raise Invalid("invalid_value", "hmac or rsa", {"field": "kind"})
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise Invalid("invalid_value", "overlap of 0 to 720 hours", {"field": "overlap_hours"})
    if kind == KeyKind.HMAC:
        secret, public_key = (secret or "").strip(), ""
        if not 32 <= len(secret) <= 200:
            raise Invalid(
                "partner_key_invalid",
                "a shared secret of 32 to 200 characters",
                {"field": "secret"},
            )
    else:
        secret, public_key = "", (public_key or "").strip()
        rsa_public_key_check(public_key)
    now = timezone.now()
    with transaction.atomic():
        partner = _partner(partner_id, lock=True)
        PartnerKey.objects.filter(partner=partner, status=KeyStatus.PREVIOUS).update(
            status=KeyStatus.RETIRED
        )
        PartnerKey.objects.filter(partner=partner, status=KeyStatus.CURRENT).update(
            status=KeyStatus.PREVIOUS if overlap_hours else KeyStatus.RETIRED,
            retires_at=now + timedelta(hours=overlap_hours),
        )
        key = PartnerKey.objects.create(
            partner=partner, kind=kind, secret=secret, public_key=public_key
        )
    log.info("partner key rotated", extra={"partner_id": partner_id, "key_id": key.pk})
    return key


def keys_accepted(partner: Partner, *, now=None) -> list[tuple[str, str]]:
    """(kind, material) of every key the partner may sign with now."""
    now = now or timezone.now()
    keys = PartnerKey.objects.filter(partner=partner, status__in=("current", "previous"))
    return [
        (k.kind, k.secret if k.kind == KeyKind.HMAC else k.public_key)
        for k in keys
        if k.status == KeyStatus.CURRENT or (k.retires_at and k.retires_at > now)
    ]


def level_set(*, partner_id: int, code: str, name: str, rank: int) -> PartnerLevel:
    code, name = (code or "").strip(), (name or "").strip()
    if not _LEVEL.match(code):
        raise Invalid("invalid_value", "a level code of letters and digits", {"field": "code"})
    if not name or len(name) > 30:
        raise Invalid("invalid_value", "name the level (30 characters at most)", {"field": "name"})
    if not 1 <= int(rank) <= 100:
        raise Invalid("invalid_value", "rank 1 to 100", {"field": "rank"})
    with transaction.atomic():
        partner = _partner(partner_id, lock=True)
        level, _ = PartnerLevel.objects.update_or_create(
            partner=partner, code=code, defaults={"name": name, "rank": int(rank)}
        )
    return level


def _level(partner_id: int, level_id: int) -> PartnerLevel:
    level = PartnerLevel.objects.filter(pk=level_id, partner_id=partner_id).first()
    if level is None:
        raise NotFound("partner_level_not_found", "no such level of this partner")
    return level


def price_set(*, partner_id: int, level_id: int, sku_id: int, price: int) -> PartnerPrice:
    """A channel-only price: never above retail, never below the supply price (the
    partner channel is not a subsidy)."""
    from quanzi.catalog.models import SKU

    _partner(partner_id)
    level = _level(partner_id, level_id)
    sku = SKU.objects.filter(pk=sku_id).first()
    if sku is None:
        raise NotFound("sku_not_found", "no such item")
    if not sku.supply_price <= price <= sku.price:
        raise Invalid(
            "partner_price_out_of_range",
            "the price must lie between the supply price and the retail price",
            {"min": sku.supply_price, "max": sku.price},
        )
    with transaction.atomic():
        row, _ = PartnerPrice.objects.update_or_create(
            partner_id=partner_id,
            level=level,
            sku=sku,
            defaults={"price": price, "is_active": True},
        )
    return row


def price_remove(*, partner_id: int, price_id: int) -> None:
    removed = PartnerPrice.objects.filter(pk=price_id, partner_id=partner_id).update(
        is_active=False
    )
    if not removed:
        raise NotFound("partner_price_not_found", "no such price")


def coupon_limit(*, partner_id: int, level_id: int, template_id: int) -> PartnerCoupon:
    """Limit a coupon template to this partner's members at ``level`` or above. The
    template leaves the public coupon centre: it is claimed through the partner."""
    from quanzi.marketing.models import CouponTemplate

    _partner(partner_id)
    level = _level(partner_id, level_id)
    with transaction.atomic():
        template = CouponTemplate.objects.select_for_update().filter(pk=template_id).first()
        if template is None:
            raise NotFound("coupon_template_not_found", "no such coupon")
        row, _ = PartnerCoupon.objects.update_or_create(
            template=template, defaults={"partner_id": partner_id, "level": level}
        )
        if template.claimable:
            template.claimable = False
            template.save(update_fields=["claimable"])
    return row
