from __future__ import annotations

from django.db import models
from django.utils import timezone


class RiskEvent(models.Model):
    """One decision of ``risk_check``: what was asked, about whom, the answer, and (for a
    hold or a verification) the operator's review of it."""

    ALLOW, HOLD, DENY, VERIFY = "allow", "hold", "deny", "verify"
    ACTIONS = [(ALLOW, "allow"), (HOLD, "hold"), (DENY, "deny"), (VERIFY, "verify")]
    # Review of a hold: open until an operator approves or denies it.
    NONE, OPEN, APPROVED, DENIED = "", "open", "approved", "denied"
    REVIEWS = [(NONE, "none"), (OPEN, "open"), (APPROVED, "approved"), (DENIED, "denied")]

    kind = models.CharField(max_length=40)  # bargain_help, reward_referral, reward_grant…
    user_id = models.BigIntegerField(help_text="who acts (the helper, the invitee…)")
    counterpart_id = models.BigIntegerField(null=True, help_text="who benefits from it")
    subject = models.CharField(max_length=60, blank=True)  # "bargain:12", "reward:3"
    device_id = models.CharField(max_length=64, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    action = models.CharField(max_length=6, choices=ACTIONS)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    review = models.CharField(max_length=8, choices=REVIEWS, default=NONE, blank=True)
    reviewed_by_id = models.BigIntegerField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "user_id", "created_at"]),
            models.Index(fields=["kind", "device_id", "created_at"]),
            models.Index(fields=["action", "-id"]),
            models.Index(fields=["review", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} user {self.user_id}: {self.action} {self.reason}"


class RiskSignal(models.Model):
    """An identifier seen with an account, with its history: first and last seen and how
    often. Kinds: device, ip, phone, address (normalised), payment (payment account)."""

    DEVICE, IP, PHONE, ADDRESS, PAYMENT = "device", "ip", "phone", "address", "payment"
    KINDS = [(k, k) for k in (DEVICE, IP, PHONE, ADDRESS, PAYMENT)]

    user_id = models.BigIntegerField()
    kind = models.CharField(max_length=8, choices=KINDS)
    value = models.CharField(max_length=160)
    source = models.CharField(max_length=30, blank=True)  # sign_up, login, order, claim…
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    seen = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "kind", "value"], name="risk_signal_once")
        ]
        indexes = [models.Index(fields=["kind", "value"])]


class RiskRule(models.Model):
    """The operator's settings of one rule (defaults live in code, ``rules.DEFAULTS``):
    on or off, its threshold and window, and the action it takes per event kind."""

    code = models.CharField(max_length=30, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.IntegerField(null=True, blank=True)
    window_seconds = models.IntegerField(null=True, blank=True)
    actions = models.JSONField(default=dict, blank=True)  # {event kind or "*": action}
    updated_at = models.DateTimeField(auto_now=True)
