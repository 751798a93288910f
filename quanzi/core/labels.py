"""What a person reads instead of a stored code: statuses, reasons, kinds and notes.

Codes stay in the database, the API and the logs; pages show ``label(kind, code)``
(the templates' ``|label:"kind"`` filter). Each English label is a msgid whose Chinese
word is the one of ``docs/glossary.zh-Hans.md``. An unknown code is shown as a neutral
word of its kind, never as the code itself.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

LABELS: dict[str, dict[str, object]] = {
    "order_status": {
        "pending_payment": _("Awaiting payment"),
        "paid": pgettext_lazy("order status", "Paid"),
        "grouping": _("Group forming"),
        "to_ship": _("To ship"),
        "shipped": _("Shipped"),
        "delivered": _("Delivered"),
        "picked_up": _("Picked up"),
        "completed": _("Completed"),
        "cancelled": _("Cancelled"),
        "refunding": _("Refunding"),
        "refunded": _("Refunded"),
    },
    "refund_status": {
        "requested": _("Awaiting review"),
        "approved": _("Approved"),
        "processing": _("Refunding"),
        "succeeded": _("Refunded"),
        "rejected": _("Rejected"),
    },
    "channel": {
        "normal": _("Regular"),
        "group": _("Group buy"),
        "bargain": _("Bargain"),
        "membership": _("Membership"),
        "lottery": _("Lottery prize"),
    },
    "withdrawal_status": {
        "requested": _("Under review"),
        "approved": _("Approved"),
        "processing": _("Paying out"),
        "paid": _("Paid out"),
        "rejected": _("Rejected"),
    },
    "gateway": {
        "sandbox": _("Sandbox payment"),
        "wechatpay": _("WeChat Pay"),
        "alipay": _("Alipay"),
        "wallet": _("Balance"),
    },
    "payment_status": {
        "created": _("Awaiting payment"),
        "pending": _("Awaiting payment"),
        "succeeded": pgettext_lazy("payment status", "Paid"),
        "captured": pgettext_lazy("payment status", "Paid"),
        "failed": _("Failed"),
        "closed": _("Closed"),
        "refunded": _("Refunded"),
    },
    "coupon_scope": {
        "all": _("All products"),
        "products": _("Chosen products"),
        "categories": _("Chosen categories"),
    },
    "coupon_kind": {
        "amount_off": _("Amount off"),
        "percent_off": _("Percent off"),
    },
    "group_status": {
        "pending": _("Waiting for the leader to pay"),
        "forming": _("Group forming"),
        "succeeded": _("Group complete"),
        "failed": _("Group failed"),
        "cancelled": _("Cancelled"),
    },
    "bargain_status": {
        "open": _("Bargain in progress"),
        "floor_reached": _("Lowest price reached"),
        "ordered": _("Awaiting payment"),
        "bought": _("Bought"),
        "expired": _("Ended"),
    },
    "draw_status": {
        "lost": _("No prize this time"),
        "won": _("Won"),
        "unclaimed": _("To claim"),
        "claimed": _("Claimed"),
    },
    "prize_kind": {
        "points": _("Points"),
        "coupon": _("Coupon"),
        "product": _("Gift"),
        "none": _("Thanks for playing"),
    },
    "reward_kind": {
        "share": _("Share rewards"),
        "invite": _("Invite rewards"),
    },
    "reward_trigger": {
        "register": _("when the friend signs up"),
        "first_order": _("when the friend's first order is completed"),
    },
    "points_reason": {
        "sign_in": _("Daily sign-in"),
        "lottery": _("Lottery prize"),
        "lottery_draw": _("Lottery draw"),
        "order_earn": _("Shopping reward"),
        "order_earn_clawed_back": _("Shopping reward taken back (refund)"),
        "order_spend": _("Used at checkout"),
        "order_spend_returned": _("Returned from a cancelled order"),
        "owed_repaid": _("Owed points repaid"),
        "expired": _("Expired"),
        "reward_share": _("Share rewards"),
        "reward_invite": _("Invite rewards"),
        "share_reward": _("Share rewards"),
        "earn": _("Shopping reward"),
        "credit": _("Points added"),
        "spend": _("Used at checkout"),
        "spend_return": _("Returned from a cancelled order"),
        "debit": _("Points used"),
        "clawback": _("Shopping reward taken back (refund)"),
        "expire": _("Expired"),
    },
    "commission_status": {
        "frozen": _("Pending"),
        "available": _("Available"),
        "withdrawn": _("Withdrawn"),
        "reversed": _("Reversed"),
    },
    "order_note": {
        "nothing to pay": _("nothing to pay"),
        "after payment": _("after payment"),
        "payment captured": _("payment received"),
        "payment timeout": _("not paid in time"),
        "receipt confirmed": _("receipt confirmed by the buyer"),
        "auto-confirmed": _("receipt confirmed automatically"),
        "carrier delivered": _("delivered by the carrier"),
        "membership activated": _("membership activated"),
        "user": _("cancelled by the buyer"),
        "payment_timeout": _("not paid in time"),
    },
    "refund_reason": {
        "group slot lost": _("the group was full: refunded automatically"),
        "group failed": _("the group did not fill in time: refunded automatically"),
    },
    # community group buying (社区团购) and content (种草)
    "application_status": {
        "pending": _("Under review"),
        "approved": pgettext_lazy("application status", "Approved"),
        "rejected": _("Rejected"),
    },
    "leader_status": {
        "active": pgettext_lazy("leader status", "Active"),
        "suspended": pgettext_lazy("leader status", "Suspended"),
        "closed": pgettext_lazy("leader status", "Closed"),
    },
    "wave_status": {
        "open": pgettext_lazy("wave status", "Open"),
        "closed": pgettext_lazy("wave status", "Closed"),
    },
    "creator_status": {
        "applied": _("Under review"),
        "approved": pgettext_lazy("creator status", "Approved"),
        "rejected": _("Rejected"),
    },
}

_FALLBACK = {
    "points_reason": _("Points change"),
    "order_note": "",
    "refund_reason": "",
}

_NOTE_PATTERNS = [
    (re.compile(r"^group \d+ succeeded$"), _("group complete")),
    (re.compile(r"^refund \d+ requested$"), _("refund requested")),
    (re.compile(r"^refund \d+ paid$"), _("refund paid")),
    (re.compile(r"^refund \d+ rejected$"), _("refund rejected")),
    (
        re.compile(r"^group \d+ failed$"),
        _("the group did not fill in time: refunded automatically"),
    ),
]

_CODE = re.compile(r"^[a-z0-9]+([_-][a-z0-9]+)*$")


def label(kind: str, code) -> str:
    """The words for ``code`` of ``kind`` in the active language."""
    if code is None or code == "":
        return ""
    code = str(code)
    found = LABELS.get(kind, {}).get(code)
    if found is not None:
        return str(found)
    if kind in ("order_note", "refund_reason"):
        for pattern, text in _NOTE_PATTERNS:
            if pattern.match(code):
                return str(text)
        # An English note written by the code is not for a person's eyes; text a person
        # typed (a refund reason in Chinese) is shown as typed.
        return "" if code.isascii() and _CODE.match(code.replace(" ", "_")) else code
    if kind in _FALLBACK and _CODE.match(code):
        return str(_FALLBACK[kind])
    # Free text typed by a person (an operator's reason) is shown as typed.
    return code if not _CODE.match(code) else str(_FALLBACK.get(kind, "—"))
