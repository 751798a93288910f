"""Share links (分享) and what they bring: who shared, through which channel, who opened
the link, and who then registered or paid an order through it.

Links form the share tree (裂变树): a link's ``parent`` is the link through which its
sharer themself arrived, so the tree can be walked for its depth and K-factor.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ShareTarget(models.TextChoices):
    PRODUCT = "product"
    GROUP = "group"
    BARGAIN = "bargain"
    NOTE = "note"
    SHOP = "shop"


class ShareLink(models.Model):
    token = models.CharField(max_length=24, unique=True)
    sharer = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="share_links"
    )
    target = models.CharField(max_length=10, choices=ShareTarget.choices)
    target_id = models.BigIntegerField()
    # Where the sharer posted it: wechat, moments, poster, qr, link, shop…
    channel = models.CharField(max_length=20, blank=True)
    # The link through which the sharer arrived (recorded facts, see services.py).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    depth = models.PositiveIntegerField(default=1)
    opens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["sharer", "target", "target_id", "channel"]),
            models.Index(fields=["root"]),
            models.Index(fields=["target", "target_id"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(depth__gte=1), name="share_depth_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.target}:{self.target_id} by {self.sharer_id} ({self.token})"


class ShareVisit(models.Model):
    """One visitor of one link (a known user, or an anonymous session), with how many
    times it opened the link."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="visits")
    visitor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    session_key = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "visitor"],
                condition=Q(visitor__isnull=False),
                name="share_visit_once_per_user",
            ),
            models.UniqueConstraint(
                fields=["link", "session_key"],
                condition=Q(visitor__isnull=True),
                name="share_visit_once_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=["visitor", "first_at"]),
            models.Index(fields=["session_key"]),
        ]


class ConversionKind(models.TextChoices):
    REGISTER = "register"
    ORDER = "order"


class ShareConversion(models.Model):
    """Someone registered, or paid an order, through a link."""

    link = models.ForeignKey(ShareLink, on_delete=models.PROTECT, related_name="conversions")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ConversionKind.choices)
    order_id = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A person registers once, so it is brought in by one link at most.
            models.UniqueConstraint(
                fields=["user"], condition=Q(kind="register"), name="share_register_once"
            ),
            models.UniqueConstraint(
                fields=["order_id"], condition=Q(kind="order"), name="share_order_once"
            ),
        ]
        indexes = [models.Index(fields=["link", "kind"])]
