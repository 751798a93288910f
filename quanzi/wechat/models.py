"""WeChat: who a person is in each WeChat app, the apps' tokens, consents and sends."""

from __future__ import annotations

from django.db import models

WECHAT_MINI = "wechat_mini"  # 小程序
WECHAT_MP = "wechat_mp"  # 公众号
PROVIDERS = ((WECHAT_MINI, "WeChat mini-program"), (WECHAT_MP, "WeChat official account"))


class UnionAccount(models.Model):
    """One unionid is one Quanzi user, whichever of the operator's apps they came from.

    The unique ``unionid`` is the arbiter when two first logins race: the second insert
    fails and its caller takes the user the first one created.
    """

    unionid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class Identity(models.Model):
    """A person's openid in one WeChat app (and the unionid WeChat gave with it)."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="wechat_identities"
    )
    provider = models.CharField(max_length=20, choices=PROVIDERS)
    app_id = models.CharField(max_length=32)
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True, db_index=True)
    # The mini-program's session key, encrypted with the server's key; never returned.
    session_key_enc = models.TextField(blank=True)
    session_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One identity is never on two users…
            models.UniqueConstraint(
                fields=["provider", "app_id", "openid"], name="wechat_identity_unique"
            ),
            # …and a user has at most one identity per app.
            models.UniqueConstraint(
                fields=["user", "provider", "app_id"], name="wechat_identity_one_per_app"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.openid} → {self.user_id}"


class AppToken(models.Model):
    """A cached credential of one app: its access token or its JS-SDK ticket.

    The row is also the lock of the embedded mode: whoever refreshes holds it
    (``select_for_update``), so one process at a time asks WeChat.
    """

    ACCESS_TOKEN, JSAPI_TICKET = "access_token", "jsapi_ticket"

    app_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=20)
    value = models.CharField(max_length=600, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refreshes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app_id", "kind"], name="wechat_app_token_unique")
        ]


class OAuthState(models.Model):
    """The ``state`` of a 公众号 OAuth redirect: used once, for one browser session."""

    state = models.CharField(max_length=64, unique=True)
    session_key = models.CharField(max_length=64, blank=True)
    next_url = models.CharField(max_length=300, blank=True)
    scope = models.CharField(max_length=20)
    share_token = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)


class SubscribeConsent(models.Model):
    """A user's consent to one subscribe-message template (``wx.requestSubscribeMessage``).

    A one-time consent allows one message (``remaining`` counts what is left; each
    ``accept`` adds one); a long-term consent allows them until withdrawn.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    template_id = models.CharField(max_length=64)
    long_term = models.BooleanField(default=False)
    remaining = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "template_id"], name="wechat_consent_unique")
        ]


class SubscribeSend(models.Model):
    """One subscribe message for one event, user and template, and what WeChat answered.

    ``key`` (event + user + template) is unique: an event is never sent twice; a failed
    send is retried on the same row.
    """

    SKIPPED, PENDING, SENT, FAILED = "skipped", "pending", "sent", "failed"

    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=40)
    template_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10)
    reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    errcode = models.IntegerField(null=True, blank=True)
    answer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_try_at"])]


class ShareCode(models.Model):
    """The mini-program code (小程序码) drawn for a share token, kept so it is asked once."""

    share_token = models.CharField(max_length=24, unique=True)
    app_id = models.CharField(max_length=32)
    image = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
