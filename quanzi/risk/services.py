"""Risk control (风控), kept simple: one question, ``risk_check(event) -> Decision``.

Every reward payout and every bargain help asks it first. The rules:

* **related accounts** — the actor and the one who benefits share a device id, a phone
  (their own or one on any of their addresses, deleted ones included: the history
  counts) or a delivery address. This is how one person farms rewards with a second
  account, or fills its own bargain (刷单).
* **burst** — the actor asked for the same kind of event too often within the window.
* **shared device** — more accounts than allowed were registered on the actor's device.

Each rule has an action per event kind (``allow`` / ``hold`` / ``deny``); the most severe
hit decides. Every decision is logged as a ``RiskEvent`` in the caller's transaction,
so a caller that must keep the log of a refusal asks before its own transaction starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from quanzi.accounts.models import Address, User
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings
from quanzi.risk.models import RiskEvent

log = get_logger("quanzi.risk")

ALLOW, HOLD, DENY = RiskEvent.ALLOW, RiskEvent.HOLD, RiskEvent.DENY
_SEVERITY = {ALLOW: 0, HOLD: 1, DENY: 2}

# What each rule does to each kind of event.
DEFAULT_POLICY = {"related": DENY, "burst": HOLD, "shared_device": HOLD}
POLICIES: dict[str, dict[str, str]] = {
    # A help cannot be reviewed later: a burst is refused; a crowded device still
    # helps, but without the new-user bonus (the caller reads ``hold`` that way).
    "bargain_help": {"related": DENY, "burst": DENY, "shared_device": HOLD},
    "reward_referral": DEFAULT_POLICY,
    "reward_grant": {"related": DENY, "burst": HOLD, "shared_device": ALLOW},
}


@dataclass(frozen=True)
class RiskInput:
    """What is being asked: ``user_id`` acts, ``counterpart_id`` would benefit."""

    kind: str
    user_id: int
    counterpart_id: int | None = None
    subject: str = ""
    # An address the event uses besides the accounts' own (e.g. the order's delivery).
    address: dict[str, str] | None = None


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""
    event_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.action == ALLOW


def _place(address: dict[str, str] | Address) -> str:
    if isinstance(address, Address):
        address = address.snapshot()
    parts = [address.get(key, "") for key in ("province", "city", "district", "detail")]
    return "".join("".join(parts).split()).lower()


def accounts_related(*, user: User, other: User, address: dict[str, str] | None = None) -> str:
    """The first tie between two accounts (``same_device``, ``same_phone``,
    ``same_address``), or ``""`` when none is recorded."""
    if user.pk == other.pk:
        return "same_account"
    if user.device_id and user.device_id == other.device_id:
        return "same_device"
    mine = list(Address.objects.filter(user=user))  # deleted ones too: the history
    theirs = list(Address.objects.filter(user=other))
    extra = [address] if address else []
    my_phones = {user.phone} | {a.phone for a in mine} | {a.get("phone", "") for a in extra}
    their_phones = {other.phone} | {a.phone for a in theirs}
    if (my_phones & their_phones) - {""}:
        return "same_phone"
    my_places = {_place(a) for a in mine} | {_place(a) for a in extra}
    their_places = {_place(a) for a in theirs}
    if (my_places & their_places) - {""}:
        return "same_address"
    return ""


def risk_check(event: RiskInput) -> Decision:
    """Decide on ``event`` and log the decision (a ``RiskEvent`` row)."""
    settings = get_settings().risk
    policy = POLICIES.get(event.kind, DEFAULT_POLICY)
    user = User.objects.filter(pk=event.user_id).first()
    hits: list[tuple[str, str]] = []  # (action, reason)
    if user is None:
        hits.append((DENY, "unknown_user"))
    elif settings.enabled:
        if event.counterpart_id is not None:
            other = User.objects.filter(pk=event.counterpart_id).first()
            if other is not None:
                tie = accounts_related(user=user, other=other, address=event.address)
                if tie:
                    hits.append((policy["related"], tie))
        since = timezone.now() - timedelta(seconds=settings.burst_window_seconds)
        recent = RiskEvent.objects.filter(
            kind=event.kind, user_id=event.user_id, created_at__gte=since
        ).count()
        if recent >= settings.burst_max:
            hits.append((policy["burst"], "burst"))
        if (
            user.device_id
            and User.objects.filter(device_id=user.device_id).count() > settings.device_accounts_max
        ):
            hits.append((policy["shared_device"], "shared_device"))
    hits = [hit for hit in hits if hit[0] != ALLOW]
    action, reason = max(hits, key=lambda hit: _SEVERITY[hit[0]]) if hits else (ALLOW, "")
    detail = {"hits": [{"action": a, "reason": r} for a, r in hits]}
    row = RiskEvent.objects.create(
        kind=event.kind[:40],
        user_id=event.user_id,
        counterpart_id=event.counterpart_id,
        subject=event.subject[:60],
        device_id=(user.device_id if user else "")[:64],
        action=action,
        reason=reason,
        detail=detail,
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
