from __future__ import annotations

from django.db import models


class RiskEvent(models.Model):
    """One decision of ``risk_check``: what was asked, about whom, and the answer."""

    ALLOW, HOLD, DENY = "allow", "hold", "deny"
    ACTIONS = [(ALLOW, "allow"), (HOLD, "hold"), (DENY, "deny")]

    kind = models.CharField(max_length=40)  # bargain_help, reward_referral, reward_grant…
    user_id = models.BigIntegerField(help_text="who acts (the helper, the invitee…)")
    counterpart_id = models.BigIntegerField(null=True, help_text="who benefits from it")
    subject = models.CharField(max_length=60, blank=True)  # "bargain:12", "reward:3"
    device_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=5, choices=ACTIONS)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "user_id", "created_at"]),
            models.Index(fields=["action", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} user {self.user_id}: {self.action} {self.reason}"
