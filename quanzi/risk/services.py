"""Risk control (风控): one question, ``risk_check(event) -> Decision``.

Every reward payout, every commission, every withdrawal and every bargain help asks it
first. The rules (``rules.py``, each configurable by the operator) read the identifiers
recorded with their history (``signals.py``): related accounts (device, phone, payment
account, address, a fresh account on the other's IP), crowded devices, addresses and
payment accounts, bursts (per kind, and claim / sign-in bursts per account and device),
rings of fresh related accounts filling a group or a bargain, refunds after rewards, and
accounts re-made after a deletion. The most severe hit decides; every decision is a
``RiskEvent`` with the evidence of each hit, and a hold or a verification opens a review
(``reviews.py``) for the operator.

Each decision is logged in the caller's transaction, so a caller that must keep the log
of a refusal asks before its own transaction starts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from quanzi.accounts.models import Address, User
from quanzi.core.errors import Forbidden
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.risk.context import risk_where
from quanzi.risk.models import RiskEvent, RiskSignal
from quanzi.risk.rules import ALLOW, DENY, HOLD, SEVERITY, VERIFY, Rule, rules_effective
from quanzi.risk.signals import accounts_with, normalise_address, signal_record, signals_of

log = get_logger("quanzi.risk")

__all__ = [
    "ALLOW",
    "DENY",
    "HOLD",
    "VERIFY",
    "Decision",
    "RiskInput",
    "risk_check",
    "risk_check_or_refuse",
]

_TIES = (
    (RiskSignal.DEVICE, "related_device", "same_device"),
    (RiskSignal.PHONE, "related_phone", "same_phone"),
    (RiskSignal.PAYMENT, "related_payment", "same_payment"),
    (RiskSignal.ADDRESS, "related_address", "same_address"),
)


@dataclass(frozen=True)
class RiskInput:
    """What is being asked: ``user_id`` acts, ``counterpart_id`` would benefit."""

    kind: str
    user_id: int
    counterpart_id: int | None = None
    subject: str = ""
    # An address the event uses besides the accounts' own (e.g. the order's delivery).
    address: dict[str, str] | None = None
    device_id: str = ""
    ip: str = ""
    payment_account: str = ""
    # The other people of the group or bargain the event belongs to.
    members: tuple[int, ...] = ()
    at: datetime | None = None  # when it happened (now unless replayed)


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""
    event_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.action == ALLOW

    @property
    def held(self) -> bool:
        """Waits for an operator (a hold) or for the person (a verification)."""
        return self.action in (HOLD, VERIFY)


def _identity(
    user: User, *, extra_address: dict | None = None, known: _Known | None = None
) -> dict[str, set[str]]:
    """Every identifier the account was ever seen with, its live rows included (a new
    dict each call; from ``known``'s rows when given, else read now)."""
    if known is not None and user.pk in known.ids:
        seen: dict[str, set[str]] = defaultdict(set)
        for kind, value in known.signals.get(user.pk, ()):
            seen[kind].add(value)
        addresses = list(known.addresses.get(user.pk, ()))
    else:
        seen = signals_of(user.pk)
        addresses = [a.snapshot() for a in Address.objects.filter(user=user)]  # deleted too
    seen[RiskSignal.PHONE].add(user.phone)
    if user.device_id:
        seen[RiskSignal.DEVICE].add(user.device_id)
    if extra_address:
        addresses.append(extra_address)
    for a in addresses:
        seen[RiskSignal.PHONE].add(a.get("phone", ""))
        seen[RiskSignal.ADDRESS].add(normalise_address(a))
    for kind in seen:
        seen[kind].discard("")
    return seen


class _Known:
    """The accounts one evaluation looks at (the actor, the other party, the other
    members of a group or bargain), their signals and addresses, read in three statements
    instead of two per account per rule."""

    def __init__(self, user: User, ids: set[int]):
        self.ids = set(ids) | {user.pk}
        others = self.ids - {user.pk}
        self.users = {user.pk: user}
        if others:
            self.users.update((u.pk, u) for u in User.objects.filter(pk__in=others))
        self.signals: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for user_id, kind, value in RiskSignal.objects.filter(user_id__in=self.ids).values_list(
            "user_id", "kind", "value"
        ):
            self.signals[user_id].append((kind, value))
        self.addresses: dict[int, list[dict]] = defaultdict(list)
        for address in Address.objects.filter(user_id__in=self.ids):  # deleted ones too
            self.addresses[address.user_id].append(address.snapshot())

    def users_of(self, ids) -> list[User]:
        """The accounts of ``ids`` that exist, in the order of their ids."""
        return [self.users[pk] for pk in sorted(set(ids)) if pk in self.users]


def _crowd(kind: str, values: set[str], *, device_of_users: bool = False) -> tuple[int, str]:
    """The most accounts seen with any one of ``values``, and that value."""
    crowds = accounts_with(kind, values)
    if device_of_users:
        for value in values:
            crowds[value] |= set(User.objects.filter(device_id=value).values_list("pk", flat=True))
    best = max(crowds.items(), key=lambda item: len(item[1]), default=("", set()))
    return len(best[1]), best[0]


def _fresh(user: User, at: datetime, hours: int | None) -> bool:
    return hours is not None and user.date_joined > at - timedelta(hours=hours)


def _record_event_signals(event: RiskInput, at: datetime) -> None:
    source = event.kind[:30]
    for kind, value in (
        (RiskSignal.DEVICE, event.device_id),
        (RiskSignal.IP, event.ip),
        (RiskSignal.PAYMENT, event.payment_account),
    ):
        signal_record(user_id=event.user_id, kind=kind, value=value, source=source, at=at)
    if event.address:
        signal_record(
            user_id=event.user_id,
            kind=RiskSignal.ADDRESS,
            value=normalise_address(event.address),
            source=source,
            at=at,
        )


BURST_REASONS = ("claim_burst", "farm_burst", "burst_before")


def _claim_burst(event, user, at, rule, rules, mine, hit) -> None:
    """Claims or sign-ins in a burst: by the account or its device (events), by a farm on
    one quiet IP or one address (distinct accounts), or by anyone of a place caught in a
    burst within the memory and not cleared by an operator (a farm stays watched)."""
    since = at - timedelta(seconds=rule.window_seconds or 600)
    recent_events = RiskEvent.objects.filter(
        kind=event.kind, created_at__gte=since, created_at__lte=at
    )
    devices = [d for d in (event.device_id, user.device_id) if d]
    who = Q(user_id=event.user_id)
    if devices:
        who |= Q(device_id__in=devices)
    recent = recent_events.filter(who).count()
    if recent >= rule.threshold:
        hit("claim_burst", "claim_burst", recent=recent, window_seconds=rule.window_seconds)
        return
    quiet = rules["related_ip_fresh"].extra.get("ip_accounts_max", 20)
    ips = {event.ip} - {""}
    ips = {ip for ip, ids in accounts_with(RiskSignal.IP, ips).items() if len(ids) <= quiet}
    neighbours = set().union(*accounts_with(RiskSignal.ADDRESS, mine[RiskSignal.ADDRESS]).values())
    where = Q(pk__in=[])
    if ips:
        where |= Q(ip__in=ips)
    if neighbours:
        where |= Q(user_id__in=neighbours)
    others = set(recent_events.filter(where).values_list("user_id", flat=True))
    accounts = len(others | {user.pk})
    if accounts >= rule.threshold:
        hit("claim_burst", "farm_burst", accounts=accounts, window_seconds=rule.window_seconds)
        return
    memory = rule.extra.get("memory_seconds", 0)
    if memory:
        caught = (
            RiskEvent.objects.filter(
                kind=event.kind,
                reason__in=BURST_REASONS,
                created_at__gte=at - timedelta(seconds=memory),
                created_at__lt=at,
            )
            .exclude(review=RiskEvent.APPROVED)
            .filter(who | where)
            .values_list("pk", flat=True)
            .first()
        )
        if caught is not None:
            hit("claim_burst", "burst_before", risk_event_id=caught)


def _evaluate(event: RiskInput, user: User, at: datetime, rules: dict[str, Rule]) -> list[dict]:
    hits: list[dict] = []

    def hit(code: str, reason: str, **evidence) -> None:
        rule = rules[code]
        if rule.enabled:
            hits.append(
                {
                    "rule": code,
                    "action": rule.action_for(event.kind),
                    "reason": reason,
                    "evidence": evidence,
                }
            )

    def wanted(code: str) -> bool:
        rule = rules[code]
        return rule.enabled and rule.action_for(event.kind) != ALLOW

    involved = set(event.members)
    if event.counterpart_id is not None:
        involved.add(event.counterpart_id)
    known = _Known(user, involved)
    mine = _identity(user, extra_address=event.address, known=known)
    other = None
    if event.counterpart_id is not None:
        other = known.users.get(event.counterpart_id)
    if other is not None:
        if other.pk == user.pk:
            hit("related_device", "same_account")
        theirs = _identity(other, known=known)
        for kind, code, reason in _TIES:
            shared = mine[kind] & theirs[kind]
            if shared:
                hit(code, reason, **{kind: sorted(shared)[:3]})
        rule = rules["related_ip_fresh"]
        shared_ip = mine[RiskSignal.IP] & theirs[RiskSignal.IP]
        if shared_ip and _fresh(user, at, rule.threshold):
            quiet = rule.extra.get("ip_accounts_max", 20)
            crowds = accounts_with(RiskSignal.IP, shared_ip)
            shared_ip = {ip for ip in shared_ip if len(crowds[ip]) <= quiet}
        if shared_ip and _fresh(user, at, rule.threshold):
            hit(
                "related_ip_fresh",
                "fresh_same_ip",
                ip=sorted(shared_ip)[:3],
                joined=user.date_joined.isoformat(),
            )

    if event.members and wanted("related_member"):
        # The actor tied to another member of the group or bargain (not the one who
        # benefits: the related_* rules ask that) by device, phone or payment account.
        ids = [m for m in event.members if m not in (user.pk, event.counterpart_id)]
        for member in known.users_of(ids):
            ident = _identity(member, known=known)
            tie = {
                kind: sorted(mine[kind] & ident[kind])[:3]
                for kind in (RiskSignal.DEVICE, RiskSignal.PHONE, RiskSignal.PAYMENT)
                if mine[kind] & ident[kind]
            }
            if tie:
                hit("related_member", "related_member", member=member.pk, **tie)
                break

    rule = rules["crowded_ip"]
    if wanted("crowded_ip") and rule.threshold is not None and mine[RiskSignal.IP]:
        quiet = rules["related_ip_fresh"].extra.get("ip_accounts_max", 20)
        since = at - timedelta(seconds=rule.window_seconds or 7 * 86400)
        for ip, ids in sorted(accounts_with(RiskSignal.IP, mine[RiskSignal.IP]).items()):
            if len(ids) > quiet:
                continue  # a carrier's shared address
            fresh = User.objects.filter(pk__in=ids, date_joined__gte=since, date_joined__lte=at)
            count = fresh.count()
            if count > rule.threshold:
                hit("crowded_ip", "crowded_ip", ip=ip, fresh_accounts=count)
                break

    for kind, code, reason in (
        (RiskSignal.DEVICE, "crowded_device", "shared_device"),
        (RiskSignal.ADDRESS, "crowded_address", "crowded_address"),
        (RiskSignal.PAYMENT, "crowded_payment", "shared_payment"),
    ):
        rule = rules[code]
        if not wanted(code) or rule.threshold is None or not mine[kind]:
            continue
        count, value = _crowd(kind, mine[kind], device_of_users=kind == RiskSignal.DEVICE)
        if count > rule.threshold:
            hit(code, reason, **{kind: value, "accounts": count})

    rule = rules["burst"]
    if wanted("burst") and rule.threshold:
        recent = RiskEvent.objects.filter(
            kind=event.kind,
            user_id=event.user_id,
            created_at__gte=at - timedelta(seconds=rule.window_seconds or 3600),
            created_at__lte=at,
        ).count()
        if recent >= rule.threshold:
            hit("burst", "burst", recent=recent, window_seconds=rule.window_seconds)

    rule = rules["claim_burst"]
    if wanted("claim_burst") and rule.threshold:
        _claim_burst(event, user, at, rule, rules, mine, hit)

    rule = rules["ring"]
    if wanted("ring") and rule.threshold and event.members and other is not None:
        hours = rule.extra.get("fresh_hours", 72)
        members = [m for m in known.users_of(event.members) if m.pk != other.pk]
        idents = {m.pk: _identity(m, known=known) for m in members}
        theirs = _identity(other, known=known)
        quiet = rules["related_ip_fresh"].extra.get("ip_accounts_max", 20)
        all_ips = set().union(theirs[RiskSignal.IP], *(i[RiskSignal.IP] for i in idents.values()))
        crowds = accounts_with(RiskSignal.IP, all_ips)
        loud = {ip for ip in all_ips if len(crowds[ip]) > quiet}
        for ident in [theirs, *idents.values()]:
            ident[RiskSignal.IP] -= loud
        tied = []
        for m in members:
            if not _fresh(m, at, hours):
                continue
            others = [theirs] + [idents[x.pk] for x in members if x.pk != m.pk]
            kinds = (RiskSignal.DEVICE, RiskSignal.IP, RiskSignal.ADDRESS, RiskSignal.PAYMENT)
            if any(idents[m.pk][k] & o[k] for o in others for k in kinds):
                tied.append(m.pk)
        if len(tied) >= rule.threshold:
            hit("ring", "fresh_ring", members=tied[:10])

    rule = rules["refund_after_reward"]
    if wanted("refund_after_reward") and rule.threshold is not None:
        since = at - timedelta(seconds=rule.window_seconds or 90 * 86400)
        rewarded = RiskEvent.objects.filter(
            Q(kind="reward_referral", counterpart_id=user.pk)
            | Q(kind="reward_grant", user_id=user.pk),
            action=ALLOW,
            created_at__gte=since,
            created_at__lte=at,
        ).exists()
        if rewarded:
            from quanzi.orders.models import Order

            paid = Order.objects.filter(user=user, paid_at__gte=since, paid_at__lte=at)
            n_paid = paid.count()
            n_refunded = paid.filter(refunded_amount__gt=0).count()
            if (
                n_paid >= rule.extra.get("min_orders", 3)
                and n_refunded * 100 >= rule.threshold * n_paid
            ):
                hit("refund_after_reward", "refund_abuse", paid=n_paid, refunded=n_refunded)

    if wanted("reregister"):
        for kind in (RiskSignal.PHONE, RiskSignal.DEVICE, RiskSignal.PAYMENT):
            crowds = accounts_with(kind, mine[kind])
            ids = set().union(*crowds.values()) - {user.pk} if crowds else set()
            if kind == RiskSignal.DEVICE and user.device_id:
                ids |= set(
                    User.objects.filter(device_id=user.device_id)
                    .exclude(pk=user.pk)
                    .values_list("pk", flat=True)
                )
            gone = list(
                User.objects.filter(pk__in=ids, is_active=False).values_list("pk", flat=True)[:5]
            )
            if gone:
                hit("reregister", "reregistered", **{kind: True, "deleted_accounts": gone})
                break
    return hits


# Asks the person may repeat after a refusal (a claim, a sign-in, a join): an operator's
# review of an earlier ask about the same thing decides the next one.
RETRIED = ("coupon_claim", "sign_in", "group_join")
REVIEW_VALID_DAYS = 7


def _reviewed(event: RiskInput, at: datetime) -> RiskEvent | None:
    if event.kind not in RETRIED or not event.subject:
        return None
    return (
        RiskEvent.objects.filter(
            kind=event.kind,
            user_id=event.user_id,
            subject=event.subject[:60],
            review__in=[RiskEvent.OPEN, RiskEvent.APPROVED, RiskEvent.DENIED],
            created_at__gte=at - timedelta(days=REVIEW_VALID_DAYS),
        )
        .order_by("-id")
        .first()
    )


def risk_check(event: RiskInput) -> Decision:
    """Decide on ``event`` and log the decision (a ``RiskEvent`` row).

    The IP and device of the request being served fill what the event does not carry
    (``risk.context``). A claim, sign-in or join asked again about the same thing while
    its review is open gets the open decision back; once reviewed, the operator's answer
    decides (approved: allowed, denied: denied)."""
    where = risk_where()
    if (where.ip and not event.ip) or (where.device_id and not event.device_id):
        event = replace(
            event, ip=event.ip or where.ip, device_id=event.device_id or where.device_id
        )
    settings = get_settings().risk
    at = event.at or timezone.now()
    user = User.objects.filter(pk=event.user_id).first()
    hits: list[dict] = []
    earlier = _reviewed(event, at) if user is not None and settings.enabled else None
    if earlier is not None and earlier.review == RiskEvent.OPEN:
        return Decision(
            action=earlier.action,
            reason=earlier.reason,
            event_id=earlier.pk,
            detail={**earlier.detail, "review": RiskEvent.OPEN},
        )
    if earlier is not None:
        _record_event_signals(event, at)
        approved = earlier.review == RiskEvent.APPROVED
        hits.append(
            {
                "rule": "",
                "action": ALLOW if approved else DENY,
                "reason": "review_approved" if approved else "review_denied",
                "evidence": {"risk_event_id": earlier.pk},
            }
        )
    elif user is None:
        hits.append({"rule": "", "action": DENY, "reason": "unknown_user", "evidence": {}})
    elif settings.enabled:
        _record_event_signals(event, at)
        hits = _evaluate(event, user, at, rules_effective())
    hits = [hit for hit in hits if hit["action"] != ALLOW]
    if hits:
        top = max(hits, key=lambda hit: SEVERITY[hit["action"]])
        action, reason = top["action"], top["reason"]
    else:
        action, reason = ALLOW, ""
    detail = {"hits": hits}
    row = RiskEvent.objects.create(
        kind=event.kind[:40],
        user_id=event.user_id,
        counterpart_id=event.counterpart_id,
        subject=event.subject[:60],
        device_id=(event.device_id or (user.device_id if user else ""))[:64],
        ip=event.ip[:45],
        action=action,
        reason=reason,
        detail=detail,
        review=RiskEvent.OPEN if action in (HOLD, VERIFY) else RiskEvent.NONE,
        created_at=at,
    )
    if action != ALLOW:
        log.info(
            "risk decision",
            extra={
                "risk_event_id": row.pk,
                "kind": event.kind,
                "user_id": event.user_id,
                "counterpart_id": event.counterpart_id,
                "subject": event.subject,
                "action": action,
                "reason": reason,
            },
        )
    return Decision(action=action, reason=reason, event_id=row.pk, detail=detail)


_REFUSALS = {
    DENY: ("risk_denied", "this {what} was refused by risk control"),
    VERIFY: ("risk_verify", "confirm it is you before this {what} counts"),
    HOLD: ("risk_held", "this {what} waits for an operator's review"),
}


def risk_check_or_refuse(event: RiskInput, *, what: str) -> Decision:
    """Ask, and refuse with a ``403`` unless allowed: ``risk_denied``, ``risk_verify``
    (the person must confirm who they are) or ``risk_held`` (an operator reviews it; once
    approved, asking again goes through). For claims, sign-ins and joins, which give
    nothing back that could wait. Ask before the caller's transaction, so that the
    refusal stays in the log."""
    decision = risk_check(event)
    if decision.allowed:
        return decision
    code, message = _REFUSALS[decision.action]
    raise Forbidden(
        code,
        message.format(what=what),
        {"reason": decision.reason, "risk_event_id": decision.event_id},
    )


def accounts_related(*, user: User, other: User, address: dict[str, str] | None = None) -> str:
    """The first tie between two accounts (``same_device``, ``same_phone``,
    ``same_payment``, ``same_address``), or ``""`` when none is recorded."""
    if user.pk == other.pk:
        return "same_account"
    mine, theirs = _identity(user, extra_address=address), _identity(other)
    for kind, _code, reason in _TIES:
        if mine[kind] & theirs[kind]:
            return reason
    return ""


def risk_event_subject_set(event_id: int | None, subject: str) -> None:
    """Name what a decision was about once the asker has made it (e.g. a withdrawal)."""
    if event_id is not None:
        RiskEvent.objects.filter(pk=event_id).update(subject=subject[:60])


def risk_rule_update(*, code: str, **changes) -> None:
    """The operator changes a rule: on / off, threshold, window, actions per event kind."""
    from quanzi.risk.models import RiskRule

    rule, _ = RiskRule.objects.get_or_create(code=code)
    for key in ("enabled", "threshold", "window_seconds"):
        if key in changes and (changes[key] is not None or key != "enabled"):
            setattr(rule, key, changes[key])
    if changes.get("actions") is not None:
        rule.actions = {**(rule.actions or {}), **changes["actions"]}
    rule.save()
    log.info("risk rule changed", extra={"rule": code, "changes": changes})
