"""Content commerce (内容电商 / 种草): media, notes, the social graph around them, verified
reviews (买家秀), creators and their attributed sales, and moderation.

Counters (likes, favourites, comments, followers…) live on the rows people read, kept
exact by writing them only when the fact they count was really inserted or deleted
(see services.py), so a page never has to count.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class Media(models.Model):
    """One uploaded image, re-encoded (no EXIF) with its thumbnail, in the default storage."""

    owner = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=200)
    thumb_path = models.CharField(max_length=200)
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class Visibility(models.TextChoices):
    VISIBLE = "visible"
    HELD = "held"  # waiting for the operator (a sensitive word asked for review)
    HIDDEN = "hidden"  # the operator hid it


class NoteStatus(models.TextChoices):
    DRAFT = "draft"
    PUBLISHED = "published"
    DELETED = "deleted"


class Note(models.Model):
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="notes")
    title = models.CharField(max_length=60)
    body = models.TextField(max_length=2000, blank=True)
    topics = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    moderation_reasons = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    like_count = models.PositiveIntegerField(default=0)
    favourite_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["status", "visibility", "-published_at", "-id"]),
            models.Index(fields=["author", "status", "-published_at"]),
        ]

    @property
    def is_public(self) -> bool:
        return self.status == NoteStatus.PUBLISHED and self.visibility == Visibility.VISIBLE


class NoteMedia(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="media_links")
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["note", "position"], name="note_media_position"),
        ]


class NoteProduct(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="product_links")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(
        "catalog.SKU", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["note", "product"], name="note_product_once"),
        ]
        indexes = [models.Index(fields=["product", "note"])]


class Profile(models.Model):
    """A person's public counters (followers, following, published notes, likes received)."""

    user = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="content_profile"
    )
    followers = models.PositiveIntegerField(default=0)
    following = models.PositiveIntegerField(default=0)
    notes = models.PositiveIntegerField(default=0)
    likes_received = models.PositiveIntegerField(default=0)
    bio = models.CharField(max_length=120, blank=True)


class Follow(models.Model):
    follower = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    followee = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "-id"])]


class Like(models.Model):
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "note"], name="like_once")]
        indexes = [models.Index(fields=["note", "created_at"])]


class Favourite(models.Model):
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "note"], name="favourite_once")]


class Comment(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    body = models.CharField(max_length=500)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    moderation_reasons = models.JSONField(default=list, blank=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["note", "id"])]


class NoteTouch(models.Model):
    """Someone opened a note (in the app, or through a share link): the attribution facts."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, default="open")  # open | share
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-at"]), models.Index(fields=["note", "at"])]


class NoteClick(models.Model):
    """A click from a note to one of its products (the creator centre counts them)."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["note", "at"])]


class CreatorStatus(models.TextChoices):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"


class Creator(models.Model):
    """A creator (达人) application; only approved creators earn commission."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="creator")
    status = models.CharField(
        max_length=10, choices=CreatorStatus.choices, default=CreatorStatus.APPLIED
    )
    intro = models.CharField(max_length=200, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)
    applied_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "applied_at"])]


class Review(models.Model):
    """A verified-purchase review (买家秀) of one completed order line."""

    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField()
    body = models.CharField(max_length=1000, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE
    )
    moderation_reasons = models.JSONField(default=list, blank=True)
    # Counted in the product's rating (visible and its order not refunded in full).
    counted = models.BooleanField(default=False)
    points_granted = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            )
        ]
        indexes = [models.Index(fields=["product", "visibility", "-id"])]


class ReviewMedia(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="media_links")
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]


class ProductRating(models.Model):
    product = models.OneToOneField("catalog.Product", on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)

    @property
    def average(self) -> float:
        return round(self.total / self.count, 1) if self.count else 0.0


class CreatorCommission(models.Model):
    """What a note's creator earns on one attributed order line (one payment, no levels).

    ``amount`` is fixed at payment; refunds add to ``reversed_amount``; ``settled_at`` is
    set when the order settles and the net goes to the creator's commission balance.
    """

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    line = models.OneToOneField("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="+")
    creator = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    touched_at = models.DateTimeField()
    base = models.BigIntegerField()
    rate_bp = models.PositiveIntegerField()
    capped = models.BooleanField(default=False)
    amount = models.BigIntegerField()
    reversed_amount = models.BigIntegerField(default=0)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(reversed_amount__gte=0)
                & Q(reversed_amount__lte=F("amount")),
                name="creator_commission_amounts_within",
            ),
            models.CheckConstraint(
                condition=~Q(creator=F("buyer")), name="creator_commission_not_to_buyer"
            ),
        ]
        indexes = [models.Index(fields=["creator", "-id"]), models.Index(fields=["order"])]

    @property
    def net(self) -> int:
        return self.amount - self.reversed_amount

    @property
    def status(self) -> str:
        if self.amount == 0:
            return "no_commission"  # attributed, but nothing left to pay the creator
        if self.net <= 0:
            return "reversed"
        return "available" if self.settled_at else "frozen"


class CreatorClawback(models.Model):
    """A reversal of a creator commission by one refund (booked when after settlement)."""

    commission = models.ForeignKey(
        CreatorCommission, on_delete=models.PROTECT, related_name="clawbacks"
    )
    refund_id = models.BigIntegerField()
    amount = models.BigIntegerField()
    after_settlement = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)


class WordAction(models.TextChoices):
    REFUSE = "refuse"
    HOLD = "hold"


class SensitiveWord(models.Model):
    word = models.CharField(max_length=40, unique=True)
    action = models.CharField(max_length=10, choices=WordAction.choices, default=WordAction.HOLD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class ReportTarget(models.TextChoices):
    NOTE = "note"
    COMMENT = "comment"
    REVIEW = "review"


class Report(models.Model):
    reporter = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=10, choices=ReportTarget.choices)
    target_id = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=10, blank=True)  # hidden | restored
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "target", "target_id"], name="report_once_per_reporter"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "target", "target_id"])]
