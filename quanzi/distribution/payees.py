"""Who a withdrawal pays (收款人), checked when it is requested, by payout gateway:

* ``wechatpay`` (商家转账): the person's openid — given with the request
  (``payee_account``) or set beforehand (``PUT /me/distributor/payout-account``) — and,
  when the transfer reaches 2,000 yuan (200000 fen received), the real name (WeChat Pay
  refuses such a transfer without ``user_name``; the gateway sends it encrypted).
* ``alipay`` (``alipay.fund.trans.uni.transfer``): the Alipay account — the 2088… user
  id, or the login id (a mobile number or an e-mail address) — and the real name, which
  Alipay checks against the account.
* ``sandbox``: nothing (the built-in gateway pays anyone).

The payee is fixed on the withdrawal (``payee_ref`` and ``payee_name``), so a retry pays
the same person. The real name is never logged and shown only masked (``mask_name``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from quanzi.accounts.models import User
from quanzi.core.errors import Invalid
from quanzi.distribution.models import DistributorProfile

WECHAT_REAL_NAME_FROM = 200_000  # fen received: WeChat Pay wants the real name from here
OPENID_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
ALIPAY_USER_ID_RE = re.compile(r"^2088[0-9]{12}$")
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,63}\.[A-Za-z]{2,24}$")
# Letters of any script (Chinese, Latin, Uyghur…), with the separators names use.
NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[·•. '-])*[^\W\d_]$")


@dataclass(frozen=True)
class Payee:
    ref: str  # "openid:<id>", "alipay_user_id:<2088…>", "alipay_logon_id:<id>", "user:<id>"
    name: str = ""  # the real name, when the gateway needs it


def payee_for(*, user: User, gateway: str, net: int, account: str = "", name: str = "") -> Payee:
    """The payee of a withdrawal of which ``net`` fen reach the person, or a 422."""
    account, name = (account or "").strip(), _name(name)
    if gateway == "wechatpay":
        openid = account or _saved_openid(user)
        if not openid:
            raise Invalid(
                "payout_account_missing",
                "give the WeChat openid withdrawals are paid to (payee_account), or set it first",
                {"gateway": gateway},
            )
        if not OPENID_RE.match(openid):
            raise Invalid("invalid_openid", "a WeChat openid has 6 to 64 letters, digits, - or _")
        if net >= WECHAT_REAL_NAME_FROM and not name:
            raise Invalid(
                "payee_name_required",
                "WeChat Pay needs the payee's real name for 2,000 yuan or more",
                {"gateway": gateway, "from": WECHAT_REAL_NAME_FROM},
            )
        return Payee(ref=f"openid:{openid}", name=name)
    if gateway == "alipay":
        if not account:
            raise Invalid(
                "payee_required",
                "give the Alipay account withdrawals are paid to (payee_account)",
                {"gateway": gateway},
            )
        if not name:
            raise Invalid(
                "payee_name_required",
                "Alipay needs the real name of the account's owner",
                {"gateway": gateway},
            )
        return Payee(ref=_alipay_ref(account), name=name)
    return Payee(ref=f"user:{user.pk}", name=name)


def _saved_openid(user: User) -> str:
    return (
        DistributorProfile.objects.filter(user=user).values_list("wechat_openid", flat=True).first()
        or ""
    )


def _alipay_ref(account: str) -> str:
    if ALIPAY_USER_ID_RE.match(account):
        return f"alipay_user_id:{account}"
    if MOBILE_RE.match(account) or EMAIL_RE.match(account):
        return f"alipay_logon_id:{account}"
    raise Invalid(
        "invalid_payee_account",
        "an Alipay account is a 2088… user id, a mobile number or an e-mail address",
        {"gateway": "alipay"},
    )


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        return ""
    if len(name) > 40 or not NAME_RE.match(name):
        raise Invalid(
            "invalid_payee_name",
            "a real name has 2 to 40 letters (with · . ' - or spaces between them)",
        )
    return name


def mask_name(name: str) -> str:
    """张三丰 → **丰, Alice Wang → *********g: enough for the person to recognise."""
    return "*" * (len(name) - 1) + name[-1:] if name else ""


def mask_ref(ref: str) -> str:
    """The payee's account with its middle hidden (openid, Alipay id, mobile, e-mail)."""
    kind, _, identity = ref.partition(":")
    if kind == "user" or not identity:
        return ""
    if "@" in identity:
        local, _, domain = identity.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 4 if len(identity) > 10 else 2
    return identity[:3] + "*" * max(len(identity) - 3 - keep, 1) + identity[-keep:]
