"""Text messages (短信) sent to people who opted in."""

from __future__ import annotations

from django.db import models


class SmsSend(models.Model):
    """One text message for one event and person, and what the provider answered.

    ``key`` (topic, event, person) is unique and the row is written, then locked, before
    the provider is called: a retried task or an event seen twice finds it and never sends
    again; a failed send is retried on the same row.
    """

    SKIPPED, PENDING, SENT, FAILED = "skipped", "pending", "sent", "failed"

    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=20)
    phone = models.CharField(max_length=20, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    template_code = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    message_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_try_at"])]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
