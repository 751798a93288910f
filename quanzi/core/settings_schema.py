"""The operator's settings: their shape, defaults and validation.

Each section is a pydantic model; unknown keys are refused and every value is range
checked, so a misspelled key fails loudly instead of silently paying 0 (a failure seen
in the open-source malls). Distribution is lawful by construction (docs/distribution.md,
"Lawful by construction"): ``levels`` above 2 is refused with ``pyramid_forbidden``
(Quanzi never pays a third level), and a qualification that asks for a purchase with
``entry_fee_forbidden``. Ranks have no head-count rule to set.
"""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
)

DAY = 86_400


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Unlawful(ValueError):
    """A setting that would make distribution unlawful; ``code`` is the API's error code."""

    code = "unlawful_setting"


class PyramidForbidden(Unlawful):
    code = "pyramid_forbidden"


class EntryFeeForbidden(Unlawful):
    code = "entry_fee_forbidden"


class DistributionSettings(_Section):
    enabled: bool = True
    levels: int = Field(default=2, ge=1)
    level1_rate_bp: int = Field(default=1000, ge=0, le=10_000)
    level2_rate_bp: int = Field(default=500, ge=0, le=10_000)
    bind_on: Literal["first_visit", "first_order"] = "first_visit"
    bind_days: int = Field(default=0, ge=0, le=3650)  # 0 = permanent
    # Who earns: every account, or those the operator approved. Never "after a
    # purchase": buying to earn is an entry fee in disguise (认购商品变相交费).
    qualification: Literal["everyone", "approval"] = "everyone"
    max_commission_share_bp: int = Field(default=3000, ge=0, le=10_000)
    withdraw_min: int = Field(default=100, ge=1)
    withdraw_fee_bp: int = Field(default=0, ge=0, le=5_000)
    withdraw_daily_limit: int = Field(default=5_000_000, ge=1)
    withdraw_audit_above: int = Field(default=50_000, ge=0)
    # Where withdrawals are paid out (the gateway's ``payout``).
    payout_gateway: Literal["sandbox", "wechatpay", "alipay"] = "sandbox"
    # A distributor reaching the rank of this level is detached (剥离) from its
    # upline's upline; 0 = nobody is ever detached.
    detach_rank_level: int = Field(default=0, ge=0, le=100)

    @field_validator("levels")
    @classmethod
    def _two_levels_at_most(cls, value: int) -> int:
        if value > 2:
            raise PyramidForbidden("at most two commission levels (more is a pyramid scheme)")
        return value

    @field_validator("qualification", mode="before")
    @classmethod
    def _no_entry_fee(cls, value):
        if value == "first_purchase":
            raise EntryFeeForbidden(
                "earning commissions may never require a purchase: buying to qualify is an "
                "entry fee in disguise (认购商品变相交费)"
            )
        return value


class PointsSettings(_Section):
    earn_per_yuan: int = Field(default=1, ge=0, le=1000)
    yuan_per_100_points: int = Field(default=1, ge=0, le=100)
    max_deduct_share_bp: int = Field(default=5000, ge=0, le=10_000)
    sign_in_points: int = Field(default=10, ge=0, le=100_000)
    # Streaks (连续签到): the last day of every ``sign_in_streak_days`` days in a row earns
    # ``sign_in_streak_bonus`` more points (0 days: no streak bonus).
    sign_in_streak_days: int = Field(default=7, ge=0, le=31)
    sign_in_streak_bonus: int = Field(default=20, ge=0, le=100_000)
    allow_free_orders: bool = False
    expire_after_days: int = Field(default=365, ge=1, le=3650)


class ShippingSettings(_Section):
    fee: int = Field(default=0, ge=0, le=100_000)
    free_above: int = Field(default=0, ge=0)  # 0 = always charge ``fee``


class RiskSettings(_Section):
    """Simple risk rules (see quanzi/risk): bursts per user and accounts per device."""

    enabled: bool = True
    burst_window_seconds: int = Field(default=3600, ge=60, le=7 * DAY)
    burst_max: int = Field(default=30, ge=1, le=100_000)  # events of one kind per user
    device_accounts_max: int = Field(default=3, ge=1, le=1000)  # accounts on one device


class StorefrontSettings(_Section):
    """What the H5 shop shows on its home page (the operator edits it in the dashboard)."""

    shop_name: str = Field(default="圈子优选", min_length=1, max_length=30)
    notice: str = Field(default="", max_length=120)
    banners: list[str] = Field(default_factory=list, max_length=8)  # image URLs on this server
    # 客服: where the 客服 button sends a shopper (any of them; none hides the button)
    service_wechat: str = Field(default="", max_length=40)
    service_phone: str = Field(default="", max_length=20, pattern=r"^[0-9+\- ]*$")
    service_url: str = Field(default="", max_length=200, pattern=r"^(https://\S+)?$")


class ContentSettings(_Section):
    """Content commerce (种草): creator commission on attributed sales, review points, feeds."""

    # A purchase this many days after the buyer last opened a note tagging the product
    # credits the note's approved creator (last touch wins).
    attribution_days: int = Field(default=7, ge=1, le=90)
    # The creator's commission: a share of what the line paid (a single payment to the
    # note's author, never passed up any chain; see docs/content.md).
    creator_rate_bp: int = Field(default=500, ge=0, le=10_000)
    review_points: int = Field(default=10, ge=0, le=100_000)
    discover_window_days: int = Field(default=7, ge=1, le=365)


class RateLimit(_Section):
    """At most ``limit`` attempts per ``window_seconds`` (a fixed window)."""

    limit: int = Field(ge=1, le=1_000_000)
    window_seconds: int = Field(ge=1, le=DAY)


class RateLimitSettings(_Section):
    """Attempts per client IP, phone or user before ``429 rate_limited`` (quanzi/core/ratelimit.py).

    Per-IP limits are generous: mobile carriers put many customers behind one address.
    """

    enabled: bool = True
    login_per_ip: RateLimit = RateLimit(limit=100, window_seconds=600)
    login_per_phone: RateLimit = RateLimit(limit=10, window_seconds=600)
    register_per_ip: RateLimit = RateLimit(limit=30, window_seconds=3600)
    register_per_phone: RateLimit = RateLimit(limit=5, window_seconds=3600)
    coupon_claim_per_ip: RateLimit = RateLimit(limit=120, window_seconds=60)
    coupon_claim_per_user: RateLimit = RateLimit(limit=20, window_seconds=60)
    bargain_help_per_ip: RateLimit = RateLimit(limit=120, window_seconds=60)
    bargain_help_per_user: RateLimit = RateLimit(limit=20, window_seconds=60)


# A secret is never shown back: the settings API masks it (``****`` and its last four
# characters) and a masked value written back keeps the stored secret.
SECRET_MASK = "****"
SECRET_FIELDS = ("app_secret",)


def mask_secret(value: str) -> str:
    return f"{SECRET_MASK}{value[-4:]}" if value else ""


class WechatApp(_Section):
    """One WeChat app: the mini-program (小程序) or the official account (公众号)."""

    app_id: str = Field(default="", max_length=32, pattern=r"^(wx[0-9A-Za-z]{6,30})?$")
    app_secret: str = Field(default="", max_length=64)

    @field_serializer("app_secret")
    def _masked(self, value: str, info: SerializationInfo) -> str:
        if info.context and info.context.get("mask_secrets"):
            return mask_secret(value)
        return value


class SubscribeTemplate(_Section):
    """A subscribe-message (订阅消息) template chosen in the mini-program console.

    ``fields`` maps the template's keywords (``thing1``, ``character_string2``…) to what
    Quanzi fills in: ``title``, ``body``, ``order_id``, ``amount``, ``time``.
    """

    template_id: str = Field(default="", max_length=64)
    page: str = Field(default="", max_length=200)
    fields: dict[str, Literal["title", "body", "order_id", "amount", "time"]] = Field(
        default_factory=dict, max_length=10
    )


class WechatSettings(_Section):
    """WeChat (see docs/wechat.md). Anything left empty is off; ``QUANZI_WECHAT_*``
    environment variables take precedence over the app ids and secrets set here."""

    mini: WechatApp = WechatApp()
    mp: WechatApp = WechatApp()
    # Check nicknames (and later notes, comments) with WeChat's text security API.
    content_check: bool = False
    # The mini-program page a poster's code opens (its ``scene`` is the share token);
    # empty: the mini-program's home page.
    share_page: str = Field(default="", max_length=120, pattern=r"^([a-z0-9_/-]+)?$")
    # Topic → template: order_shipped, group_succeeded, group_failed, bargain_done,
    # commission_available.
    subscribe_templates: dict[
        Literal[
            "order_shipped",
            "group_succeeded",
            "group_failed",
            "bargain_done",
            "commission_available",
            "promotions",
            "recommendations",
        ],
        SubscribeTemplate,
    ] = Field(default_factory=dict)


class Settings(_Section):
    payment_timeout_seconds: int = Field(default=900, ge=60, le=7 * DAY)
    auto_confirm_seconds: int = Field(default=7 * DAY, ge=60, le=60 * DAY)
    after_sales_seconds: int = Field(default=7 * DAY, ge=0, le=60 * DAY)
    refund_retry_seconds: int = Field(default=60, ge=1, le=DAY)
    shipping: ShippingSettings = ShippingSettings()
    distribution: DistributionSettings = DistributionSettings()
    points: PointsSettings = PointsSettings()
    risk: RiskSettings = RiskSettings()
    storefront: StorefrontSettings = StorefrontSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    wechat: WechatSettings = WechatSettings()
    content: ContentSettings = ContentSettings()


def validate_settings(data: dict) -> Settings:
    """Validate a full settings document; raises ``ValidationError``."""
    return Settings.model_validate(data)


def unlawful_of(exc: ValidationError) -> Unlawful | None:
    """The first setting refused because it would make distribution unlawful."""
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, Unlawful):
            return ctx_error
    return None


def error_code(exc: ValidationError) -> str:
    unlawful = unlawful_of(exc)
    return unlawful.code if unlawful is not None else "invalid_setting"
