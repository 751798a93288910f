"""The operator's review of holds: approve (the held thing goes on) or deny (it does not).

The app that asked knows what "goes on" means, so it registers a handler per event kind
(``review_handler_register``); risk registers the handlers of the apps that ask it
(rewards, distribution) from its ``ready()``, reading them lazily. A kind with no handler
is only marked reviewed (e.g. a bargain help, which already went on without its bonus).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from quanzi.core.errors import Conflict, NotFound
from quanzi.core.logging import get_logger
from quanzi.risk.models import RiskEvent

log = get_logger("quanzi.risk")

Handler = Callable[[RiskEvent, bool, object], None]
_HANDLERS: dict[str, Handler] = {}


def review_handler_register(kind: str, handler: Handler) -> None:
    _HANDLERS[kind] = handler


def review_decide(*, event_id: int, approve: bool, operator, note: str = "") -> RiskEvent:
    with transaction.atomic():
        event = RiskEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound("risk_event_not_found", "no such risk decision")
        if event.review != RiskEvent.OPEN:
            raise Conflict("not_open", "this decision is not waiting for review")
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(event, approve, operator)
        event.review = RiskEvent.APPROVED if approve else RiskEvent.DENIED
        event.reviewed_by_id = operator.pk
        event.reviewed_at = timezone.now()
        event.review_note = (note or "")[:200]
        event.save(update_fields=["review", "reviewed_by_id", "reviewed_at", "review_note"])
    log.info(
        "risk review",
        extra={"risk_event_id": event.pk, "kind": event.kind, "approve": approve},
    )
    return event


# --- the handlers of the apps that ask risk ---------------------------------------------


def _referral(event: RiskEvent, approve: bool, operator) -> None:
    from quanzi.rewards.invites import referral_review
    from quanzi.rewards.models import ReferralStatus, RewardReferral

    referral = RewardReferral.objects.filter(risk_event_id=event.pk).first()
    if referral is not None and referral.status == ReferralStatus.HELD:
        referral_review(referral_id=referral.pk, approve=approve)


def _grant(event: RiskEvent, approve: bool, operator) -> None:
    from quanzi.rewards.invites import grant_review
    from quanzi.rewards.models import GrantStatus, RewardGrant

    grant = RewardGrant.objects.filter(risk_event_id=event.pk).first()
    if grant is not None and grant.status == GrantStatus.HELD:
        grant_review(grant_id=grant.pk, approve=approve)


def _commission(event: RiskEvent, approve: bool, operator) -> None:
    from quanzi.distribution.models import Commission
    from quanzi.distribution.services import commission_release, commission_void

    if not event.subject.startswith("order:"):
        return
    order_id = int(event.subject.split(":", 1)[1])
    held = Commission.objects.filter(
        order_id=order_id, beneficiary_id=event.counterpart_id, held=True, reversed_amount=0
    )
    for commission in held:
        if approve:
            commission_release(commission_id=commission.pk, operator=operator)
        else:
            commission_void(commission_id=commission.pk, operator=operator)


def _withdrawal(event: RiskEvent, approve: bool, operator) -> None:
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.distribution.withdrawals import withdrawal_approve, withdrawal_reject

    if not event.subject.startswith("withdrawal:"):
        return
    withdrawal_id = int(event.subject.split(":", 1)[1])
    status = Withdrawal.objects.filter(pk=withdrawal_id).values_list("status", flat=True).first()
    if status != WithdrawalStatus.REQUESTED:
        return
    if approve:
        withdrawal_approve(withdrawal_id=withdrawal_id, operator=operator)
    else:
        withdrawal_reject(withdrawal_id=withdrawal_id, operator=operator, reason="risk")


def register_builtin_handlers() -> None:
    review_handler_register("reward_referral", _referral)
    review_handler_register("reward_grant", _grant)
    review_handler_register("commission", _commission)
    review_handler_register("withdrawal", _withdrawal)
