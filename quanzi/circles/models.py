"""Circles (圈子): labelled communities with an owner, members, a feed, deals and health.

The member count is a counter on the circle row, changed only under that row's lock in
the same transaction as the membership, so it is exact and never above the cap.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Label(models.Model):
    """An operator-managed label (标签: 母婴, 户外 …) circles are found by."""

    name = models.CharField(max_length=20, unique=True)
    sort = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.name


class OwnerStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class OwnerApplication(models.Model):
    """A person asking to own circles (群主); the operator approves."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="+")
    intro = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=OwnerStatus.choices, default=OwnerStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)


class JoinPolicy(models.TextChoices):
    OPEN = "open"
    INVITE = "invite"
    APPROVAL = "approval"


class CircleStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Circle(models.Model):
    owner = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=40)
    cover = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=500, blank=True)
    rules = models.TextField(max_length=2000, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="circles")
    tags = models.JSONField(default=list, blank=True)  # free tags
    join_policy = models.CharField(
        max_length=10, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    question = models.CharField(max_length=120, blank=True)  # asked when approval is needed
    cap = models.PositiveIntegerField(null=True, blank=True)  # member cap, empty = none
    members_only = models.BooleanField(default=False)  # feed visible to members only
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CircleStatus.choices, default=CircleStatus.ACTIVE
    )
    suspended_reason = models.CharField(max_length=200, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(member_count__lte=models.F("cap")),
                name="circle_member_count_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == CircleStatus.ACTIVE


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MemberStatus(models.TextChoices):
    MEMBER = "member"
    PENDING = "pending"
    LEFT = "left"
    REMOVED = "removed"
    REJECTED = "rejected"


class Membership(models.Model):
    """One person in one circle (one row, reused on rejoin)."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(max_length=10, choices=MemberStatus.choices)
    muted = models.BooleanField(default=False)
    answer = models.CharField(max_length=200, blank=True)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    first_joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "user"], name="circle_member_once"),
        ]
        indexes = [models.Index(fields=["user", "status"])]


class EventKind(models.TextChoices):
    JOIN = "join"
    LEAVE = "leave"
    REMOVE = "remove"


class MembershipEvent(models.Model):
    """Joins and leaves as they happened: the history health and cohorts are built from."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["circle", "at"])]


class Invite(models.Model):
    """An invitation link to a circle (any member may make one)."""

    token = models.CharField(max_length=24, unique=True)
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="invites")
    inviter = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    uses = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class Post(models.Model):
    """A content note posted to a circle's feed."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="posts")
    note = models.OneToOneField("content.Note", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["circle", "-id"])]


class Announcement(models.Model):
    """A text the owner pins on top of the circle's feed."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    body = models.CharField(max_length=500)
    pinned = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)


class DealKind(models.TextChoices):
    GROUP = "group"  # a group-buy campaign
    BARGAIN = "bargain"  # a bargain campaign
    COUPON = "coupon"  # a coupon template


class Deal(models.Model):
    """A campaign or coupon template limited to the members of this circle."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="deals")
    kind = models.CharField(max_length=10, choices=DealKind.choices)
    ref_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "kind", "ref_id"], name="circle_deal_once"),
        ]
        indexes = [models.Index(fields=["kind", "ref_id"])]


class Sale(models.Model):
    """An order placed through a circle deal by a member: the owner's level-1 place."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="+")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="sales")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()  # fen payable
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["circle", "paid_at"])]


class HealthDay(models.Model):
    """One circle's figures for one day, written by the daily job."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    members = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    active_7d = models.PositiveIntegerField(default=0)
    active_30d = models.PositiveIntegerField(default=0)
    posts = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    gmv = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "day"], name="circle_health_day_once"),
        ]


class Cohort(models.Model):
    """Members who first joined in one week, and how many stayed / stayed active after."""

    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()  # a Monday
    joined = models.PositiveIntegerField(default=0)
    members = models.JSONField(default=list)  # still a member at the end of week W+0 … W+8
    active = models.JSONField(default=list)  # active during week W+0 … W+8
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "week_start"], name="circle_cohort_once"),
        ]


class Snapshot(models.Model):
    """The latest health summary of a circle (top contributors, churn alert)."""

    circle = models.OneToOneField(Circle, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    top_contributors = models.JSONField(default=list)
    churn_alert = models.BooleanField(default=False)
    churn_lost = models.PositiveIntegerField(default=0)
    churn_base = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)
