from __future__ import annotations

from django.db import models


class Notification(models.Model):
    """One message in a person's in-app inbox (站内信).

    The inbox always works, whatever push channels a person opted into: apps write the
    row in the same transaction as the state change it reports, so a message is never
    sent for a change that rolled back, nor lost for one that committed.
    """

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=120)
    body = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-id"]),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id}: {self.title}"
