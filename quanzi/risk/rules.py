"""The rules, their defaults, and the operator's settings of them.

Each rule has a threshold (what "too many" means), a window (how far back it looks) and
an action per event kind (``*`` for any other kind): ``allow`` (the rule only notes),
``hold`` (an operator reviews it), ``verify`` (the person must verify, e.g. by SMS,
before it counts) or ``deny``. An operator's ``RiskRule`` row overrides any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALLOW, HOLD, DENY, VERIFY = "allow", "hold", "deny", "verify"
ACTIONS = (ALLOW, HOLD, DENY, VERIFY)
SEVERITY = {ALLOW: 0, VERIFY: 1, HOLD: 2, DENY: 3}
# Kinds that pay someone: reward payouts, commissions, withdrawals.
PAYING = ("reward_referral", "reward_grant", "commission", "withdrawal", "group_reward")


@dataclass(frozen=True)
class Rule:
    code: str
    description: str
    actions: dict[str, str]
    threshold: int | None = None
    window_seconds: int | None = None
    enabled: bool = True
    extra: dict = field(default_factory=dict)

    def action_for(self, kind: str) -> str:
        return self.actions.get(kind, self.actions.get("*", ALLOW))


DEFAULTS: dict[str, Rule] = {
    r.code: r
    for r in [
        Rule(
            "related_device",
            "the actor and the one who benefits were ever seen on one device",
            {"*": DENY},
        ),
        Rule(
            "related_phone",
            "a phone of one account (its own or on an address) belongs to the other",
            {"*": DENY},
        ),
        Rule(
            "related_payment",
            "the actor and the one who benefits paid with one payment account",
            {"*": DENY},
        ),
        Rule(
            "related_address",
            "the actor and the one who benefits share a delivery address (normalised); a "
            "household helping a bargain or joining a group is allowed",
            {"*": DENY, "bargain_help": ALLOW, "group_join": ALLOW},
        ),
        Rule(
            "related_member",
            "the actor shares a device, phone or payment account with another member of the "
            "group it joins",
            {"*": HOLD},
        ),
        Rule(
            "related_ip_fresh",
            "a fresh account (younger than threshold hours) acts for someone seen on its IP, "
            "an IP with few accounts (a carrier's shared address tells nothing)",
            {"*": HOLD},
            threshold=72,
            extra={"ip_accounts_max": 20},
        ),
        Rule(
            "crowded_device",
            "more than threshold accounts were seen on the actor's device",
            {"*": HOLD, "reward_grant": ALLOW},
            threshold=None,  # the risk settings' device_accounts_max
        ),
        Rule(
            "crowded_ip",
            "more than threshold accounts made within the window were seen on the actor's IP, "
            "an IP with few accounts (a farm behind one connection, not a carrier)",
            {"*": HOLD, "coupon_claim": VERIFY, "sign_in": VERIFY},
            threshold=4,
            window_seconds=7 * 86400,
        ),
        Rule(
            "crowded_address",
            "more than threshold accounts deliver to the actor's address",
            {"*": HOLD, "bargain_help": ALLOW, "reward_grant": ALLOW},
            threshold=3,
        ),
        Rule(
            "crowded_payment",
            "more than threshold accounts paid with the actor's payment account",
            {"*": HOLD},
            threshold=2,
        ),
        Rule(
            "burst",
            "the actor asked for more than threshold events of one kind within the window",
            {"*": HOLD, "bargain_help": DENY},
            threshold=None,  # the risk settings' burst_max and burst_window_seconds
        ),
        Rule(
            "claim_burst",
            "threshold claims or sign-ins within the window (羊毛党) by the account or any "
            "account on its device, or by threshold accounts on one quiet IP or one address; "
            "a place caught in a burst stays watched for a week unless an operator clears it",
            {"*": ALLOW, "reward_grant": HOLD, "coupon_claim": HOLD, "sign_in": HOLD},
            threshold=3,
            window_seconds=600,
            extra={"memory_seconds": 7 * 86400},
        ),
        Rule(
            "ring",
            "at least threshold of a group's or bargain's other members are fresh accounts "
            "tied (device, IP, address, payment) to the one who benefits",
            {"*": HOLD},
            threshold=2,
            extra={"fresh_hours": 72},
        ),
        Rule(
            "refund_after_reward",
            "a rewarded account refunded at least threshold % of its paid orders (three or more)",
            {"*": ALLOW, **{k: HOLD for k in PAYING}},
            threshold=50,
            window_seconds=90 * 86400,
            extra={"min_orders": 3},
        ),
        Rule(
            "reregister",
            "the account's phone, device or payment account belonged to a deleted account",
            {"*": HOLD, "bargain_help": ALLOW, "group_join": ALLOW},
        ),
    ]
}


def rules_effective() -> dict[str, Rule]:
    """The defaults with the operator's settings (and the risk settings) applied."""
    from quanzi.core.platform_settings import get_settings
    from quanzi.risk.models import RiskRule

    settings = get_settings().risk
    out = dict(DEFAULTS)
    out["crowded_device"] = _replace(out["crowded_device"], threshold=settings.device_accounts_max)
    out["burst"] = _replace(
        out["burst"], threshold=settings.burst_max, window_seconds=settings.burst_window_seconds
    )
    for row in RiskRule.objects.all():
        rule = out.get(row.code)
        if rule is None:
            continue
        out[row.code] = _replace(
            rule,
            enabled=row.enabled,
            threshold=row.threshold if row.threshold is not None else rule.threshold,
            window_seconds=row.window_seconds
            if row.window_seconds is not None
            else rule.window_seconds,
            actions={**rule.actions, **(row.actions or {})},
        )
    return out


def _replace(rule: Rule, **changes) -> Rule:
    from dataclasses import replace

    return replace(rule, **changes)
