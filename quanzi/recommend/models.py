"""Interactions, trained models, precomputed lists, and each person's push choices."""

from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    VIEW = "view", "view"
    LIKE = "like", "like"
    FAVOURITE = "favourite", "favourite"
    CART = "cart", "cart"
    SHARE = "share", "share"
    NOTE_OPEN = "note_open", "note open"
    ORDER = "order", "order"


class Event(models.Model):
    """One interaction of a person with a product. Written in batches after commit and
    pruned by age (``recommend.prune_events``); no foreign keys, so writing it never
    locks a user or product row."""

    user_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    weight = models.FloatField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user_id", "-created_at"]),
            models.Index(fields=["product_id", "kind"]),
        ]


class ModelVersion(models.Model):
    """A trained collaborative-filtering model. Exactly one is active: serving reads the
    active one, training writes a new row and swaps ``is_active`` in one transaction."""

    algorithm = models.CharField(max_length=20)
    data = models.BinaryField()
    users = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    interactions = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    is_active = models.BooleanField(default=False)
    trained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="recommend_one_active_model",
            )
        ]


class Precomputed(models.Model):
    """A person's blended list, computed by the ``recommend.precompute`` sweep."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="+")
    items = models.JSONField(default=list)  # [[product_id, score, [reasons]], ...]
    model_version = models.BigIntegerField(null=True)
    computed_at = models.DateTimeField()


class Hidden(models.Model):
    """A product the person said they do not want recommended again."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    product_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "product_id"], name="recommend_hide_once")
        ]


TOPICS = ("orders", "groups", "bargains", "commissions", "promotions", "recommendations")
# Topics sent only to people who opted in; quiet hours drop them instead of deferring.
MARKETING_TOPICS = ("promotions", "recommendations")


class Preference(models.Model):
    """What a person wants pushed. Nothing marketing is sent without ``topics[t] = True``."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="+")
    topics = models.JSONField(default=dict)  # topic -> bool
    follow_keywords = models.JSONField(default=list)
    never_keywords = models.JSONField(default=list)
    frequency = models.CharField(max_length=10, default="weekly")  # daily | weekly
    quiet_start = models.PositiveSmallIntegerField(default=22)  # hour, local time
    quiet_end = models.PositiveSmallIntegerField(default=8)
    daily_cap = models.PositiveSmallIntegerField(default=3)
    # Topics also texted to the account's phone (topic -> bool); none unless turned on.
    sms_topics = models.JSONField(default=dict, blank=True)
    # Friends may see this person's avatar under "friends bought this".
    show_purchases = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)


class PushLog(models.Model):
    """Every push decision: sent, skipped (with why) or deferred. ``key`` is unique per
    message, so a retried job never sends twice."""

    SENT, SKIPPED, DEFERRED = "sent", "skipped", "deferred"
    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=20)
    status = models.CharField(max_length=10)
    reason = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=120, blank=True)
    body = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "status", "sent_at"]),
            models.Index(fields=["status", "due_at"]),
        ]
