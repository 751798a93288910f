from __future__ import annotations

from django.db import models


class PlatformSettings(models.Model):
    """The operator's settings: one row, a JSON document validated by ``settings_schema``."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="platform_settings_singleton")
        ]


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying an ``Idempotency-Key``, replayed for repeats."""

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=128)
    route = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key")
        ]


class JobRun(models.Model):
    """One run of a sweep: when it ran, how much it did, whether it finished."""

    name = models.CharField(max_length=80)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    processed = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["name", "-started_at"])]


class RateLimitCounter(models.Model):
    """One rate-limit window's count for one key, when no shared cache holds it.

    Written with one ``INSERT … ON CONFLICT DO UPDATE`` per attempt, so every process of
    every server counts into the same row; rows past ``expires_at`` are deleted as new
    windows open.
    """

    key = models.CharField(max_length=64, primary_key=True)
    count = models.IntegerField(default=1)
    expires_at = models.DateTimeField(db_index=True)
