from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

ROLES = ("operator", "supplier", "leader", "creator")


class UserManager(BaseUserManager):
    def create_user(self, phone: str, password: str | None = None, **extra):
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_operator", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Everyone is a customer; the flags add roles."""

    phone = models.CharField(max_length=20, unique=True)
    nickname = models.CharField(max_length=40)
    avatar = models.CharField(max_length=300, blank=True)
    invite_code = models.CharField(max_length=12, unique=True)
    device_id = models.CharField(max_length=64, blank=True, db_index=True)
    is_operator = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    is_leader = models.BooleanField(default=False)
    is_creator = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The upline (上级) for distribution: set once, by invite code or share link.
    referrer = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="downlines"
    )
    referrer_source = models.CharField(max_length=20, blank=True)
    referrer_bound_at = models.DateTimeField(null=True, blank=True)
    referrer_expires_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["nickname"]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("id")), name="user_not_own_referrer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.nickname} ({self.phone})"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # API requests may hold this user in the token cache: let them read it afresh.
        from quanzi.accounts.services import user_tokens_forget

        user_tokens_forget(user_id=self.pk)

    @property
    def roles(self) -> list[str]:
        return ["customer"] + [role for role in ROLES if getattr(self, f"is_{role}")]

    def has_role(self, role: str) -> bool:
        return role == "customer" or bool(getattr(self, f"is_{role}", False))


class AuthToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals no token."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True)
    revoked_at = models.DateTimeField(null=True)


class Address(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=40)
    phone = models.CharField(max_length=20)
    province = models.CharField(max_length=40)
    city = models.CharField(max_length=40)
    district = models.CharField(max_length=40)
    detail = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def snapshot(self) -> dict[str, str]:
        return {
            "name": self.name,
            "phone": self.phone,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "detail": self.detail,
        }

    def one_line(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.detail}"
