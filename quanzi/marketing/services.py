"""Coupons (优惠券): templates, issuing (claim, operator grant, new-user gift, rewards),
applying one coupon to an order, using, returning and expiring.

Issuing never exceeds the template's total: the ``issued`` counter moves by a conditional
UPDATE (``issued < total``). A claim also respects the per-user limit, counted while the
claiming user's row is locked, so two claims of one person at once are counted one after
the other. Operator grants and rewards respect the total, not the per-user limit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound, QuanziError
from quanzi.core.logging import get_logger
from quanzi.core.money import BP
from quanzi.marketing.models import (
    Coupon,
    CouponKind,
    CouponScope,
    CouponStatus,
    CouponTemplate,
    SignIn,
)
from quanzi.marketing.points import points_balance, sign_in_credit
from quanzi.orders.hooks import CouponApplication
from quanzi.risk.services import RiskInput, risk_check_or_refuse

log = get_logger("quanzi.coupons")

MAX_FEN = 100_000_000
MAX_TOTAL = 10_000_000
MAX_GRANT = 1000


# --- templates -------------------------------------------------------------------


def _int(data: dict[str, Any], key: str, *, low: int, high: int, default=None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(
            "invalid_coupon", f"{key} must be a whole number in [{low}, {high}]", {"field": key}
        )
    return value


def _clean_template(data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 60:
        raise Invalid(
            "invalid_coupon", "a coupon needs a name of at most 60 characters", {"field": "name"}
        )
    kind = data.get("kind")
    if kind not in CouponKind.values:
        raise Invalid("invalid_coupon", "kind is amount_off or percent_off", {"field": "kind"})
    clean: dict[str, Any] = {"name": name, "kind": kind}
    if kind == CouponKind.AMOUNT_OFF:
        clean["amount"] = _int(data, "amount", low=1, high=MAX_FEN)
        if clean["amount"] is None:
            raise Invalid(
                "invalid_coupon", "an amount_off coupon needs an amount", {"field": "amount"}
            )
        clean["percent_bp"], clean["cap"] = 0, None
    else:
        clean["percent_bp"] = _int(data, "percent_bp", low=1, high=BP - 1)
        if clean["percent_bp"] is None:
            raise Invalid(
                "invalid_coupon", "a percent_off coupon needs percent_bp", {"field": "percent_bp"}
            )
        clean["cap"] = _int(data, "cap", low=1, high=MAX_FEN)
        clean["amount"] = 0
    clean["threshold"] = _int(data, "threshold", low=0, high=MAX_FEN, default=0)
    scope = data.get("scope") or CouponScope.ALL
    if scope not in CouponScope.values:
        raise Invalid("invalid_coupon", "scope is all, products or categories", {"field": "scope"})
    ids = data.get("scope_ids") or []
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids
    ):
        raise Invalid("invalid_coupon", "scope_ids is a list of ids", {"field": "scope_ids"})
    if scope == CouponScope.ALL:
        ids = []
    elif not ids or len(ids) > 500:
        raise Invalid(
            "invalid_coupon",
            "a scoped coupon names 1 to 500 products or categories",
            {"field": "scope_ids"},
        )
    if ids:
        from quanzi.catalog.models import Category, Product

        model = Product if scope == CouponScope.PRODUCTS else Category
        missing = set(ids) - set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise Invalid(
                "invalid_reference",
                f"no such {'product' if model is Product else 'category'}",
                {"field": "scope_ids", "ids": sorted(missing)[:20]},
            )
    clean["scope"], clean["scope_ids"] = scope, sorted(set(ids))
    valid_days = _int(data, "valid_days", low=1, high=3650)
    valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
    if valid_days is not None:
        if valid_from is not None or valid_until is not None:
            raise Invalid(
                "invalid_coupon",
                "give valid_days or a fixed window, not both",
                {"field": "valid_days"},
            )
    else:
        if not isinstance(valid_until, datetime):
            raise Invalid(
                "invalid_coupon",
                "give valid_days or valid_until (and valid_from)",
                {"field": "valid_until"},
            )
        if valid_from is not None and (
            not isinstance(valid_from, datetime) or valid_from >= valid_until
        ):
            raise Invalid(
                "invalid_coupon",
                "valid_from must come before valid_until",
                {"field": "valid_from"},
            )
    clean["valid_days"], clean["valid_from"], clean["valid_until"] = (
        valid_days,
        valid_from,
        valid_until,
    )
    clean["total"] = _int(data, "total", low=1, high=MAX_TOTAL)
    if clean["total"] is None:
        raise Invalid("invalid_coupon", "total is required", {"field": "total"})
    clean["per_user_limit"] = _int(data, "per_user_limit", low=1, high=1000, default=1)
    for flag, default in (("claimable", True), ("new_user_gift", False)):
        value = data.get(flag, default)
        if not isinstance(value, bool):
            raise Invalid("invalid_coupon", f"{flag} is true or false", {"field": flag})
        clean[flag] = value
    return clean


def coupon_template_create(*, data: dict[str, Any]) -> CouponTemplate:
    return CouponTemplate.objects.create(**_clean_template(data))


@transaction.atomic
def coupon_template_update(*, template_id: int, data: dict[str, Any]) -> CouponTemplate:
    """Switch a template on or off, or change who may get it; its terms stay as issued."""
    template = CouponTemplate.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        raise NotFound("coupon_template_not_found", "no such coupon template")
    for flag in ("is_active", "claimable", "new_user_gift"):
        value = data.get(flag)
        if value is not None:
            if not isinstance(value, bool):
                raise Invalid("invalid_coupon", f"{flag} is true or false", {"field": flag})
            setattr(template, flag, value)
    total = _int(data, "total", low=1, high=MAX_TOTAL)
    if total is not None:
        if total < template.issued:
            raise Invalid(
                "invalid_coupon",
                "total cannot go below what was issued already",
                {"field": "total", "issued": template.issued},
            )
        template.total = total
    template.save()
    return template


# --- issuing ---------------------------------------------------------------------


def _window(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    if template.valid_days:
        return now, now + timedelta(days=template.valid_days)
    return template.valid_from or now, template.valid_until


# Checks a person's claim of a coupon template must pass, registered from apps'
# ``ready()`` (circles: a circle-only template is claimed by its members only). A check is
# ``fn(user_id=, template_id=)`` and raises a ``QuanziError`` to refuse; it runs inside the
# claim's transaction.
claim_checks: list[Callable[..., None]] = []


def register_claim_check(check: Callable[..., None]) -> None:
    if check not in claim_checks:
        claim_checks.append(check)


def _issue(
    *, user_id: int, template_id: int, source: str, per_user_limit: bool, claim: bool = False
) -> Coupon:
    """Issue one copy (caller's transaction)."""
    now = timezone.now()
    template = CouponTemplate.objects.filter(pk=template_id).first()
    if template is None or (claim and not (template.claimable and template.is_active)):
        raise NotFound("coupon_template_not_found", "no such coupon")
    if not template.is_active:
        raise Conflict("coupon_inactive", "this coupon is no longer issued")
    if template.valid_until is not None and template.valid_until <= now:
        raise Conflict("coupon_ended", "this coupon's validity has ended")
    if claim:
        for check in claim_checks:
            check(user_id=user_id, template_id=template_id)
    if per_user_limit:
        # Counted under the person's row lock, which the claim took before asking risk
        # control (``coupon_claim``): claims of one person are counted one after the other.
        held = Coupon.objects.filter(template_id=template_id, user_id=user_id).count()
        if held >= template.per_user_limit:
            raise Conflict(
                "already_claimed",
                "you have claimed as many of this coupon as allowed",
                {"limit": template.per_user_limit},
            )
    taken = CouponTemplate.objects.filter(
        pk=template_id, is_active=True, issued__lt=F("total")
    ).update(issued=F("issued") + 1)
    if taken != 1:
        raise Conflict("sold_out", "this coupon is all gone")
    valid_from, valid_until = _window(template, now)
    coupon = Coupon.objects.create(
        template=template,
        user_id=user_id,
        source=(source or "grant")[:40],
        valid_from=valid_from,
        valid_until=valid_until,
    )
    log.info(
        "coupon issued",
        extra={
            "coupon_id": coupon.pk,
            "template_id": template_id,
            "user_id": user_id,
            "source": source,
        },
    )
    return coupon


def _claim_risk_ask(*, user: User, template_id: int) -> Forbidden | None:
    """Risk control is asked about a claim that could succeed (a refused one is answered
    by ``_issue`` without counting as a claim): a burst of claims by one account, device,
    quiet IP or address (羊毛党), a crowded device… is refused with ``403`` (``risk_denied``,
    ``risk_verify`` or ``risk_held``). Returns the refusal for the caller to raise once
    its transaction has committed, so that the refusal stays in the risk log."""
    template = CouponTemplate.objects.filter(pk=template_id, claimable=True, is_active=True).first()
    if template is None:
        return None
    held = Coupon.objects.filter(template_id=template_id, user_id=user.pk).count()
    if held >= template.per_user_limit:
        return None
    try:
        risk_check_or_refuse(
            RiskInput(kind="coupon_claim", user_id=user.pk, subject=f"coupon:{template_id}"),
            what="claim",
        )
    except Forbidden as refusal:
        return refusal
    return None


def coupon_claim(*, user: User, template_id: int) -> Coupon:
    """A user takes a coupon from the coupon centre (领券), once risk control allows it.

    The person's row is locked before risk control is asked, so a double tap is one
    claim and one ``already_claimed``: the second waits for the first and finds the
    coupon held, instead of both being asked and counted as a burst of claims."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("id").first()
        refusal = _claim_risk_ask(user=user, template_id=template_id)
        if refusal is None:
            return _issue(
                user_id=user.pk,
                template_id=template_id,
                source="claim",
                per_user_limit=True,
                claim=True,
            )
    raise refusal


def coupon_grant(*, user: User, template_id: int, source: str) -> Coupon:
    """Give a user one coupon (operator grant, membership month, lottery or share reward).

    Respects the template's total (409 ``sold_out``) and its validity, not the per-user
    limit. Runs in the caller's transaction when there is one.
    """
    with transaction.atomic():
        return _issue(user_id=user.pk, template_id=template_id, source=source, per_user_limit=False)


def coupons_grant(*, template_id: int, user_ids: list[int], source: str = "grant") -> dict:
    """The operator grants a coupon to several users; each grant stands alone."""
    if not user_ids or len(user_ids) > MAX_GRANT:
        raise Invalid("invalid_grant", f"name 1 to {MAX_GRANT} users", {"field": "user_ids"})
    if not CouponTemplate.objects.filter(pk=template_id).exists():
        raise NotFound("coupon_template_not_found", "no such coupon template")
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids, is_active=True)}
    granted, failed = [], []
    for user_id in sorted(set(user_ids)):
        user = users.get(user_id)
        if user is None:
            failed.append({"user_id": user_id, "code": "user_not_found"})
            continue
        try:
            coupon = coupon_grant(user=user, template_id=template_id, source=source)
        except QuanziError as exc:
            failed.append({"user_id": user_id, "code": exc.code})
            if exc.code in ("sold_out", "coupon_inactive", "coupon_ended"):
                failed.extend(
                    {"user_id": rest, "code": exc.code}
                    for rest in sorted(set(user_ids))
                    if rest > user_id
                )
                break
            continue
        granted.append({"user_id": user_id, "coupon_id": coupon.pk})
    return {"granted": granted, "failed": failed}


def coupons_new_user_gift(user: User) -> list[Coupon]:
    """Registration hook: the new-user red packet (新人红包), every active new-user gift.

    Given once per person: never twice to the same account (a retried hook finds its
    coupons), and not to a new account on a handset (device) whose earlier account has
    received it already, so signing up again does not collect it again. A gift that ran
    out is skipped and never blocks a sign-up."""
    template_ids = list(
        CouponTemplate.objects.filter(new_user_gift=True, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not template_ids:
        return []
    device = (getattr(user, "device_id", "") or "").strip()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("id").first()
        if device and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # sign-ups on one device, one at a time
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"new-user-gift:{device}"]
                )
        if Coupon.objects.filter(user_id=user.pk, source="new_user").exists():
            return []
        if (
            device
            and Coupon.objects.filter(source="new_user", user__device_id=device)
            .exclude(user_id=user.pk)
            .exists()
        ):
            log.info("new-user gift refused: device had one", extra={"user_id": user.pk})
            return []
        gifts = []
        for template_id in template_ids:
            try:
                with transaction.atomic():
                    gifts.append(
                        coupon_grant(user=user, template_id=template_id, source="new_user")
                    )
            except QuanziError as exc:
                log.info(
                    "new-user gift skipped",
                    extra={"user_id": user.pk, "template_id": template_id, "code": exc.code},
                )
        return gifts


# --- applying to an order ----------------------------------------------------------


def _category_closure(ids: list[int]) -> set[int]:
    from quanzi.catalog.models import Category

    children: dict[int | None, list[int]] = {}
    for cat_id, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(cat_id)
    seen, stack = set(), list(ids)
    while stack:
        cat_id = stack.pop()
        if cat_id not in seen:
            seen.add(cat_id)
            stack.extend(children.get(cat_id, []))
    return seen


def coupon_eligible(template: CouponTemplate, skus: list[Any]) -> list[int]:
    """Indexes of ``skus`` the template's scope covers (categories include sub-categories)."""
    if template.scope == CouponScope.ALL:
        return list(range(len(skus)))
    if template.scope == CouponScope.PRODUCTS:
        ids = set(template.scope_ids)
        return [i for i, sku in enumerate(skus) if sku.product_id in ids]
    closure = _category_closure(template.scope_ids)
    return [i for i, sku in enumerate(skus) if sku.product.category_id in closure]


def coupon_discount(template: CouponTemplate, eligible_total: int) -> int:
    """What the coupon takes off ``eligible_total`` (never more than it)."""
    if template.kind == CouponKind.AMOUNT_OFF:
        off = template.amount
    else:
        off = eligible_total * template.percent_bp // BP
        if template.cap is not None:
            off = min(off, template.cap)
    return max(0, min(off, eligible_total))


def _refuse(reason: str, message: str, **detail) -> Invalid:
    return Invalid("coupon_invalid", message, {"reason": reason, "field": "coupon_id", **detail})


def coupon_check(
    coupon: Coupon | None, *, user_id: int, lines: list[tuple[Any, int, int]], now=None
) -> CouponApplication:
    """Whether ``coupon`` applies to ``lines`` [(sku, qty, amount)] and what it takes off."""
    now = now or timezone.now()
    if coupon is None or coupon.user_id != user_id:
        raise _refuse("not_found", "no such coupon")
    if coupon.status == CouponStatus.USED:
        raise _refuse("used", "this coupon has been used")
    if coupon.status == CouponStatus.EXPIRED or coupon.valid_until <= now:
        raise _refuse("expired", "this coupon has expired")
    if coupon.valid_from > now:
        raise _refuse(
            "not_started",
            "this coupon cannot be used yet",
            valid_from=coupon.valid_from.isoformat(),
        )
    template = coupon.template
    eligible = coupon_eligible(template, [sku for sku, _, _ in lines])
    if not eligible:
        raise _refuse("not_applicable", "this coupon does not cover these items")
    eligible_total = sum(lines[i][2] for i in eligible)
    if eligible_total < template.threshold:
        raise _refuse(
            "threshold_not_met",
            "the items this coupon covers do not reach its threshold",
            threshold=template.threshold,
            eligible_total=eligible_total,
        )
    return CouponApplication(
        coupon_id=coupon.pk, discount=coupon_discount(template, eligible_total), eligible=eligible
    )


def coupon_apply(user, coupon_id: int, lines: list[tuple[Any, int, int]]) -> CouponApplication:
    """The pricing hook: validate the coupon for these lines (no writes)."""
    coupon = Coupon.objects.select_related("template").filter(pk=coupon_id).first()
    return coupon_check(coupon, user_id=user.pk, lines=lines)


def coupon_use(*, order) -> None:
    """Mark the order's coupon used (placement transaction). One order, one coupon."""
    if order.coupon_id is None:
        return
    now = timezone.now()
    taken = Coupon.objects.filter(
        pk=order.coupon_id,
        user_id=order.user_id,
        status=CouponStatus.UNUSED,
        valid_until__gt=now,
    ).update(status=CouponStatus.USED, order_id=order.pk, used_at=now)
    if taken != 1:
        raise Conflict(
            "coupon_invalid",
            "this coupon has just been used",
            {"reason": "used", "field": "coupon_id"},
        )


def coupon_return(*, order) -> bool:
    """Give an order's coupon back (order cancelled, or refunded in full before shipping).
    A coupon whose validity ended meanwhile comes back expired."""
    if order.coupon_id is None:
        return False
    coupon = (
        Coupon.objects.select_for_update()
        .filter(pk=order.coupon_id, order_id=order.pk, status=CouponStatus.USED)
        .first()
    )
    if coupon is None:
        return False
    now = timezone.now()
    coupon.status = CouponStatus.EXPIRED if coupon.valid_until <= now else CouponStatus.UNUSED
    coupon.order_id = None
    coupon.used_at = None
    coupon.save(update_fields=["status", "order_id", "used_at"])
    log.info("coupon returned", extra={"coupon_id": coupon.pk, "order_id": order.pk})
    return True


def coupons_expire_due(*, now=None) -> int:
    """Sweep: unused coupons past their validity become expired (idempotent)."""
    now = now or timezone.now()
    return Coupon.objects.filter(status=CouponStatus.UNUSED, valid_until__lte=now).update(
        status=CouponStatus.EXPIRED
    )


# --- daily sign-in -------------------------------------------------------------------


def sign_in(*, user: User) -> dict[str, Any]:
    """Sign in for today (签到): once per day (409 ``already_signed_in``), worth
    ``points.sign_in_points`` plus the streak bonus on the last day of each streak cycle
    (``quanzi.marketing.signin``). Risk control is asked first (a sign-in burst of one
    device, quiet IP or address farm is refused with ``403``)."""
    from quanzi.marketing.signin import sign_in_points_for, sign_in_streak

    day = timezone.localdate()
    refusal = None
    try:
        with transaction.atomic():
            # Taps at once are one sign-in: the second waits here and finds the first.
            User.objects.select_for_update().filter(pk=user.pk).values_list("id").first()
            if SignIn.objects.filter(user=user, day=day).exists():
                raise Conflict("already_signed_in", "you have signed in today already")
            try:
                risk_check_or_refuse(
                    RiskInput(
                        kind="sign_in", user_id=user.pk, subject=f"sign_in:{day.isoformat()}"
                    ),
                    what="sign-in",
                )
            except Forbidden as refused:
                refusal = refused  # raised once the risk event is committed
            else:
                streak = sign_in_streak(user_id=user.pk, ending=day - timedelta(days=1)) + 1
                points = sign_in_points_for(streak)
                SignIn.objects.create(user=user, day=day, points=points)
                sign_in_credit(user_id=user.pk, points=points, day=day)
    except IntegrityError as exc:
        raise Conflict("already_signed_in", "you have signed in today already") from exc
    if refusal is not None:
        raise refusal
    return {
        "day": day,
        "points": points,
        "balance": points_balance(user_id=user.pk),
        "streak": streak,
    }
