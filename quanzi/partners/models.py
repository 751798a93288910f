"""Partner channels (异业合作): banks, carriers, couriers bringing their users.

* ``Partner``: the organization, with its code (in links and tokens), its status, the
  longest life it may give a token, the clock skew tolerated and how long a level it
  asserts lasts.
* ``PartnerKey``: how the partner signs (HMAC-SHA256 shared secret or RSA public key).
  One key is ``current``; after a rotation the old one stays ``previous`` (still
  accepted) until ``retires_at``.
* ``PartnerLevel``: the levels the partner may assert (its own code, e.g. ``gold``),
  each mapped to a Quanzi rank: a higher rank sees every price of the lower ranks.
* ``PartnerMember``: one partner user (``uid``) linked to one Quanzi user, never two
  (unique), with the level last asserted and when it runs out.
* ``PartnerNonce``: every token nonce (and server-to-server request nonce) used, unique
  per partner, so a token or a request is accepted once.
* ``PartnerCode``: a one-time code the partner issued server-to-server; used once.
* ``PartnerPrice``: channel-only prices per SKU per level; ``PartnerCoupon``: a coupon
  template limited to a partner level.
* ``PartnerOrder``: the attribution of an order of the ``partner`` channel.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class PartnerStatus(models.TextChoices):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Partner(models.Model):
    name = models.CharField(max_length=60)
    code = models.SlugField(max_length=32, unique=True)
    status = models.CharField(
        max_length=12, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE
    )
    token_max_age = models.PositiveIntegerField(
        default=600, help_text="seconds between a token's iat and exp, at most"
    )
    clock_skew = models.PositiveIntegerField(default=60, help_text="seconds tolerated")
    level_days = models.PositiveIntegerField(
        default=30, help_text="days an asserted level lasts after the arrival"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(token_max_age__gte=30, token_max_age__lte=86_400),
                name="partner_token_max_age_range",
            ),
            models.CheckConstraint(
                condition=Q(clock_skew__lte=600), name="partner_clock_skew_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeyKind(models.TextChoices):
    HMAC = "hmac"  # HMAC-SHA256 over the shared secret
    RSA = "rsa"  # RSASSA-PKCS1-v1_5 with SHA-256, the partner's public key


class KeyStatus(models.TextChoices):
    CURRENT = "current"
    PREVIOUS = "previous"
    RETIRED = "retired"


class PartnerKey(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")
    kind = models.CharField(max_length=8, choices=KeyKind.choices)
    secret = models.CharField(max_length=200, blank=True, help_text="hmac: the shared secret")
    public_key = models.TextField(blank=True, help_text="rsa: the partner's public key, PEM")
    status = models.CharField(max_length=10, choices=KeyStatus.choices, default=KeyStatus.CURRENT)
    retires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner"],
                condition=Q(status="current"),
                name="partner_one_current_key",
            ),
        ]

    @property
    def fingerprint(self) -> str:
        import hashlib

        material = self.secret if self.kind == KeyKind.HMAC else self.public_key
        return hashlib.sha256(material.encode()).hexdigest()[:12]


class PartnerLevel(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="levels")
    code = models.CharField(max_length=32, help_text="what the partner asserts, e.g. gold")
    name = models.CharField(max_length=30, help_text="shown to shoppers, e.g. 金卡")
    rank = models.PositiveSmallIntegerField(help_text="Quanzi partner level; higher sees more")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "code"], name="partner_level_code_unique"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="partner_level_rank_positive"),
        ]
        ordering = ["partner_id", "rank"]

    def __str__(self) -> str:
        return self.name


class PartnerMember(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="members")
    uid = models.CharField(max_length=64, help_text="the partner's own user id")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(PartnerLevel, null=True, on_delete=models.SET_NULL, related_name="+")
    level_expires_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, help_text="token or code (the first arrival)")
    first_arrived_at = models.DateTimeField(auto_now_add=True)
    last_arrived_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "uid"], name="partner_member_uid_unique"),
            models.UniqueConstraint(fields=["partner", "user"], name="partner_member_user_unique"),
        ]
        indexes = [models.Index(fields=["user", "-last_arrived_at"])]


class PartnerNonce(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=80)
    used_at = models.DateTimeField(auto_now_add=True)
    forget_after = models.DateTimeField(help_text="past this the token is refused anyway")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "nonce"], name="partner_nonce_once"),
        ]
        indexes = [models.Index(fields=["forget_after"])]


class PartnerCode(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=32, unique=True)
    uid = models.CharField(max_length=64)
    level = models.ForeignKey(PartnerLevel, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(used_by__isnull=False),
                name="partner_code_used_by_someone",
            )
        ]


class PartnerPrice(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="prices")
    level = models.ForeignKey(PartnerLevel, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey("catalog.SKU", on_delete=models.PROTECT, related_name="+")
    price = models.PositiveIntegerField(help_text="fen per unit")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "level", "sku"], name="partner_price_unique"
            ),
            models.CheckConstraint(condition=Q(price__gte=1), name="partner_price_positive"),
        ]


class PartnerCoupon(models.Model):
    """A coupon template limited to the members of a partner at ``level`` or higher."""

    template = models.OneToOneField(
        "marketing.CouponTemplate", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="coupons")
    level = models.ForeignKey(PartnerLevel, on_delete=models.CASCADE, related_name="+")


class PartnerOrder(models.Model):
    """An order of the ``partner`` channel: whose user bought, at which level."""

    order = models.OneToOneField(
        "orders.Order", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="orders")
    member = models.ForeignKey(PartnerMember, on_delete=models.PROTECT, related_name="orders")
    uid = models.CharField(max_length=64)
    level_code = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["partner", "created_at"])]
