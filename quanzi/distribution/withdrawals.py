"""Withdrawals (提现): request → (audit) → payout through the gateway → paid | rejected.

* A request takes ``amount`` out of the available balance at once (ledger:
  ``commission_available`` → ``withdrawals_pending``), with the user's account row
  locked and a ``no_overdraw`` leg, so two requests at the same moment can never
  withdraw the same money twice. It checks the minimum, the fee (``amount × fee_bp``,
  kept by the platform; the person receives ``amount − fee``) and the daily limit
  (today's requests, rejected ones excluded, local time).
* It names its payout gateway (default: the operator's ``payout_gateway``) and the payee
  that gateway needs (``payees``: WeChat openid and, from 2,000 yuan, the real name;
  Alipay account and real name), checked before any money moves and kept on the
  withdrawal for every retry.
* At or below ``withdraw_audit_above`` the request is approved at once and paid out;
  above it the operator approves or rejects it. Rejected money returns to available.
* The payout runs after the commit, outside any transaction, through the gateway's
  ``payout`` (idempotent on the withdrawal's ``payout_no``), and is retried by a sweep
  until the gateway answers for good. Paid: ``withdrawals_pending`` → the operator's
  payout balance at that gateway (money out, ``payout_funding``) and the fee → platform
  revenue; customers' payments (``gateway:<gw>``) are never touched by a payout.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    InvalidTransition,
    NotFound,
    QuanziError,
)
from quanzi.core.logging import get_logger
from quanzi.core.money import apply_bp
from quanzi.core.platform_settings import get_settings
from quanzi.core.tasks import enqueue
from quanzi.distribution import books
from quanzi.distribution.commission import status_of
from quanzi.distribution.models import (
    Commission,
    DistributorProfile,
    Withdrawal,
    WithdrawalStatus,
)
from quanzi.distribution.payees import OPENID_RE, mask_ref, payee_for
from quanzi.distribution.payout_funding import payout_fund
from quanzi.ledger import accounts as chart
from quanzi.ledger.models import Account
from quanzi.ledger.services import Leg, entry_post
from quanzi.payments.gateways.base import PayoutResult
from quanzi.payments.models import Payout

log = get_logger("quanzi.distribution")

W = WithdrawalStatus
OPEN = (W.REQUESTED, W.APPROVED, W.PROCESSING)
RETRY_SECONDS = 60
PAYOUT_TASK = "quanzi.distribution.withdrawals.withdrawal_payout"


def _day_start(now):
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def withdrawal_fee(amount: int, fee_bp: int) -> int:
    return apply_bp(amount, fee_bp)


def withdrawal_request(
    *,
    user: User,
    amount: int,
    gateway: str | None = None,
    payee_account: str = "",
    payee_name: str = "",
) -> Withdrawal:
    """Request a withdrawal of ``amount`` paid through ``gateway`` (the operator's
    ``payout_gateway`` when not given) to the payee that gateway needs (``payees``)."""
    settings = get_settings().distribution
    gateway = gateway or settings.payout_gateway
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < settings.withdraw_min:
        raise Invalid(
            "below_minimum",
            f"withdraw at least {settings.withdraw_min} fen",
            {"minimum": settings.withdraw_min},
        )
    fee = withdrawal_fee(amount, settings.withdraw_fee_bp)
    if fee >= amount:
        raise Invalid("below_minimum", "the fee would take the whole amount")
    _payout_gateway_check(gateway)
    payee = payee_for(
        user=user, gateway=gateway, net=amount - fee, account=payee_account, name=payee_name
    )
    risk = _risk_ask(user=user, gateway=gateway, payee_ref=payee.ref)
    with transaction.atomic():
        # The user's account row serializes this user's withdrawals.
        account = (
            Account.objects.select_for_update().filter(code=books.available_code(user.pk)).first()
        )
        available = -account.balance if account is not None else 0
        if available < amount:
            raise Conflict(
                "insufficient_balance",
                "not enough available commission",
                {"available": max(available, 0), "amount": amount},
            )
        now = timezone.now()
        today = (
            Withdrawal.objects.filter(user=user, created_at__gte=_day_start(now))
            .exclude(status=W.REJECTED)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        if today + amount > settings.withdraw_daily_limit:
            raise Invalid(
                "daily_limit_exceeded",
                "this would pass today's withdrawal limit",
                {"limit": settings.withdraw_daily_limit, "used": today},
            )
        withdrawal = Withdrawal.objects.create(
            user=user,
            amount=amount,
            fee=fee,
            gateway=gateway,
            payee_ref=payee.ref,
            payee_name=payee.name,
        )
        entry_post(
            key=f"withdrawal:{withdrawal.pk}:request",
            kind="withdrawal_request",
            legs=[
                books.available_leg(user.pk, amount, no_overdraw=True),
                Leg(books.PENDING, -amount),
            ],
            memo=f"withdrawal {withdrawal.pk}",
        )
        if risk is not None:
            risk.subject_set(risk.event_id, f"withdrawal:{withdrawal.pk}")
        if amount <= settings.withdraw_audit_above and (risk is None or risk.allowed):
            withdrawal.auto_approved = True
            _approve(withdrawal, operator=None)
    log.info(
        "withdrawal requested",
        extra={
            "withdrawal_id": withdrawal.pk,
            "user_id": user.pk,
            "amount": amount,
            "fee": fee,
            "gateway": gateway,
            "payee": mask_ref(payee.ref),
        },
    )
    return withdrawal


class _RiskAnswer:
    def __init__(self, decision, subject_set):
        self.event_id, self.allowed, self.subject_set = (
            decision.event_id,
            decision.allowed,
            subject_set,
        )


def _risk_ask(*, user: User, gateway: str, payee_ref: str) -> _RiskAnswer | None:
    """Risk control is asked before any money moves (and before the transaction, so a
    refusal stays in its log): ``deny`` refuses, ``hold`` waits for the operator's audit
    whatever the amount."""
    try:
        from quanzi.risk.services import DENY, RiskInput, risk_check, risk_event_subject_set
    except ImportError:  # pragma: no cover - risk control not installed
        return None
    decision = risk_check(
        RiskInput(
            kind="withdrawal",
            user_id=user.pk,
            subject=f"withdrawal_of:{user.pk}",
            payment_account=f"{gateway}:{payee_ref}" if payee_ref else "",
        )
    )
    if decision.action == DENY:
        raise Forbidden(
            "risk_denied",
            "this withdrawal was refused by risk control",
            {"reason": decision.reason},
        )
    return _RiskAnswer(decision, risk_event_subject_set)


def _payout_gateway_check(gateway: str) -> None:
    """The gateway must exist and be set up here (422 otherwise), before money moves."""
    from quanzi.payments.gateways import get_gateway

    get_gateway(gateway)


def withdrawal_gateways() -> list[str]:
    """The gateways a withdrawal may be paid through here, the operator's default first."""
    from quanzi.payments.gateways import gateway_names

    default = get_settings().distribution.payout_gateway
    usable = []
    for name in sorted(gateway_names(), key=lambda name: name != default):
        try:
            _payout_gateway_check(name)
        except QuanziError:
            continue
        usable.append(name)
    return usable


def payout_account_set(*, user: User, wechat_openid: str) -> DistributorProfile:
    from quanzi.distribution.distributors import profile_lock

    openid = (wechat_openid or "").strip()
    if not OPENID_RE.match(openid):
        raise Invalid("invalid_openid", "a WeChat openid has 6 to 64 letters, digits, - or _")
    with transaction.atomic():
        profile = profile_lock(user_id=user.pk)
        profile.wechat_openid = openid
        profile.save(update_fields=["wechat_openid"])
        return profile


def _approve(withdrawal: Withdrawal, *, operator: User | None) -> None:
    withdrawal.status = W.APPROVED
    withdrawal.approved_at = timezone.now()
    withdrawal.next_attempt_at = withdrawal.approved_at
    withdrawal.decided_by_id = operator.pk if operator else None
    withdrawal.save()
    enqueue(PAYOUT_TASK, withdrawal_id=withdrawal.pk)


def _lock(withdrawal_id: int) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound("withdrawal_not_found", "no such withdrawal")
    return withdrawal


def withdrawal_approve(*, withdrawal_id: int, operator: User) -> Withdrawal:
    """The operator approves a request: the payout goes out. Approving twice pays once."""
    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.status == W.REJECTED:
            raise InvalidTransition("invalid_transition", "this withdrawal was rejected")
        if withdrawal.status == W.REQUESTED:
            _approve(withdrawal, operator=operator)
        return withdrawal


def withdrawal_reject(*, withdrawal_id: int, operator: User, reason: str = "") -> Withdrawal:
    """Reject a request (or an approved one whose payout failed): the money returns to
    the available balance."""
    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.status == W.REJECTED:
            return withdrawal
        failed_payout = withdrawal.status == W.APPROVED and withdrawal.attempts > 0
        if withdrawal.status != W.REQUESTED and not failed_payout:
            raise InvalidTransition(
                "invalid_transition",
                f"a {withdrawal.status} withdrawal cannot be rejected",
                {"status": withdrawal.status},
            )
        if withdrawal.payout_id:
            Payout.objects.filter(pk=withdrawal.payout_id).update(
                status="cancelled", finished_at=timezone.now()
            )
        entry_post(
            key=f"withdrawal:{withdrawal.pk}:reject",
            kind="withdrawal_reject",
            legs=[
                Leg(books.PENDING, withdrawal.amount),
                books.available_leg(withdrawal.user_id, -withdrawal.amount),
            ],
            memo=f"withdrawal {withdrawal.pk} rejected",
        )
        withdrawal.status = W.REJECTED
        withdrawal.rejected_at = timezone.now()
        withdrawal.reject_reason = (reason or "")[:200]
        withdrawal.decided_by_id = operator.pk
        withdrawal.save()
    log.info("withdrawal rejected", extra={"withdrawal_id": withdrawal.pk})
    return withdrawal


def withdrawal_payout(*, withdrawal_id: int) -> Withdrawal:
    """Send an approved withdrawal through its gateway (retried until it answers)."""
    from quanzi.payments.gateways import get_gateway

    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.status not in (W.APPROVED, W.PROCESSING):
            return withdrawal
        withdrawal.status = W.PROCESSING
        withdrawal.attempts += 1
        backoff = min(RETRY_SECONDS * (2 ** min(withdrawal.attempts - 1, 8)), 86_400)
        withdrawal.next_attempt_at = timezone.now() + timedelta(seconds=backoff)
        if withdrawal.payout_id is None:
            withdrawal.payout, _ = Payout.objects.get_or_create(
                payout_no=withdrawal.payout_no,
                defaults={
                    "gateway": withdrawal.gateway,
                    "user_id": withdrawal.user_id,
                    "amount": withdrawal.amount - withdrawal.fee,
                },
            )
        withdrawal.save()
        payout = withdrawal.payout
    try:
        result = get_gateway(payout.gateway).payout(
            payout_no=payout.payout_no,
            user_ref=withdrawal.payee_ref or f"user:{withdrawal.user_id}",
            amount=payout.amount,
            description=f"Quanzi commission withdrawal {withdrawal.pk}",
            payee_name=withdrawal.payee_name,
        )
    except QuanziError as exc:  # gateway disabled or not configured
        result = PayoutResult(succeeded=False, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - a network error: ask again later
        log.exception("payout call failed", extra={"withdrawal_id": withdrawal.pk})
        result = PayoutResult(succeeded=False, pending=True, error=repr(exc)[:300])
    if result.succeeded:
        return withdrawal_book_paid(withdrawal_id=withdrawal.pk, gateway_ref=result.gateway_ref)
    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.status == W.PROCESSING:
            withdrawal.last_error = (result.error or "pending")[:300]
            if not result.pending:
                # A definite refusal: the operator may reject it now, or the sweep retries.
                withdrawal.status = W.APPROVED
                Payout.objects.filter(pk=withdrawal.payout_id).update(status="failed")
            withdrawal.save(update_fields=["status", "last_error"])
    log.warning(
        "payout not confirmed",
        extra={"withdrawal_id": withdrawal.pk, "error": result.error, "pending": result.pending},
    )
    return withdrawal


def withdrawal_book_paid(*, withdrawal_id: int, gateway_ref: str = "") -> Withdrawal:
    """The gateway paid: book the money out and the fee; mark commissions withdrawn."""
    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.status == W.PAID:
            return withdrawal
        if withdrawal.status not in (W.APPROVED, W.PROCESSING):
            raise InvalidTransition(
                "invalid_transition", f"a {withdrawal.status} withdrawal cannot be paid"
            )
        net = withdrawal.amount - withdrawal.fee
        # The gateway paid from the operator's payout balance there, not from customers'
        # payments: book where the money came from (see payout_funding).
        payout_fund(
            gateway=withdrawal.gateway,
            amount=net,
            key=f"withdrawal:{withdrawal.pk}:funding",
            memo=f"withdrawal {withdrawal.pk}: payout balance topped up by the operator",
        )
        entry_post(
            key=f"withdrawal:{withdrawal.pk}:paid",
            kind="withdrawal_paid",
            legs=[
                Leg(books.PENDING, withdrawal.amount),
                Leg(books.payout_funding_code(withdrawal.gateway), -net),
                Leg(chart.PLATFORM_REVENUE, -withdrawal.fee),
            ],
            memo=f"withdrawal {withdrawal.pk} paid",
        )
        now = timezone.now()
        Payout.objects.filter(pk=withdrawal.payout_id).update(
            status="succeeded", gateway_ref=gateway_ref[:80], finished_at=now
        )
        withdrawal.status = W.PAID
        withdrawal.paid_at = now
        withdrawal.last_error = ""
        withdrawal.save()
        _allocate(user_id=withdrawal.user_id, amount=withdrawal.amount)
    log.info("withdrawal paid", extra={"withdrawal_id": withdrawal.pk, "amount": withdrawal.amount})
    return withdrawal


def _allocate(*, user_id: int, amount: int) -> None:
    """Mark settled commissions withdrawn, oldest first, up to ``amount``."""
    left = amount
    candidates = (
        Commission.objects.select_for_update()
        .filter(beneficiary_id=user_id, settled_at__isnull=False, held=False)
        .filter(withdrawn_amount__lt=F("amount") - F("reversed_amount"))
        .order_by("id")
    )
    for commission in candidates:
        if left <= 0:
            break
        take = min(left, commission.net - commission.withdrawn_amount)
        commission.withdrawn_amount += take
        commission.status = status_of(commission)
        commission.save(update_fields=["withdrawn_amount", "status"])
        left -= take


def withdrawals_retry(*, now=None, batch: int = 200) -> int:
    """Sweep: push approved or stuck withdrawals whose retry time has come."""
    now = now or timezone.now()
    ids = list(
        Withdrawal.objects.filter(status__in=[W.APPROVED, W.PROCESSING], next_attempt_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    done = 0
    for withdrawal_id in ids:
        try:
            if withdrawal_payout(withdrawal_id=withdrawal_id).status == W.PAID:
                done += 1
        except Exception:  # noqa: BLE001 - one bad payout must not stop the others
            log.exception("payout retry failed", extra={"withdrawal_id": withdrawal_id})
    return done
