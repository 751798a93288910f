"""In-app messages to group members, written in the transaction of the change they report."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from quanzi.core.money import yuan
from quanzi.groupbuy.models import Group, GroupMember
from quanzi.notifications.services import notify


def share_path(group_id: int) -> str:
    return f"/g/{group_id}"


def share_url(group_id: int) -> str:
    return f"{settings.PUBLIC_URL}{share_path(group_id)}"


def _data(group: Group, member: GroupMember | None = None, **more) -> dict:
    data = {"group_id": group.pk, "url": share_path(group.pk)}
    if member is not None:
        data["order_id"] = member.order_id
    data.update(more)
    return data


def member_paid(*, group: Group, member: GroupMember) -> None:
    missing = group.missing
    if member.is_leader:
        notify(
            user_id=member.user_id,
            kind="group_opened",
            title=_("Your group is open"),
            body=_("Share it with friends: %(n)d more needed before it closes.") % {"n": missing},
            data=_data(group, member, missing=missing),
        )
        return
    notify(
        user_id=member.user_id,
        kind="group_joined",
        title=_("You joined the group"),
        body=_("%(n)d more needed; share it to finish sooner.") % {"n": missing},
        data=_data(group, member, missing=missing),
    )
    nickname = member.user.nickname if member.user_id else ""
    notify(
        user_id=group.leader_id,
        kind="group_member_joined",
        title=_("Someone joined your group"),
        body=_("%(who)s joined; %(n)d more needed.")
        % {"who": nickname or _("A friend"), "n": missing},
        data=_data(group, None, missing=missing, user_id=member.user_id),
    )


def succeeded(*, group: Group, members: list[GroupMember]) -> None:
    for member in members:
        notify(
            user_id=member.user_id,
            kind="group_succeeded",
            title=_("Group succeeded"),
            body=_("Your group is complete; your order will ship soon."),
            data=_data(group, member, simulated=group.simulated),
        )


def failed(*, group: Group, members: list[GroupMember]) -> None:
    for member in members:
        paid = member.status == "paid"
        notify(
            user_id=member.user_id,
            kind="group_failed",
            title=_("Group failed"),
            body=(
                _("Not enough people joined in time; your payment is being refunded in full.")
                if paid
                else _("Not enough people joined in time; your unpaid order will be cancelled.")
            ),
            data=_data(group, member, paid=paid),
        )


def slot_lost(*, group: Group, member: GroupMember) -> None:
    notify(
        user_id=member.user_id,
        kind="group_slot_lost",
        title=_("Your group had closed"),
        body=_("Your payment came after the group closed; it is being refunded in full."),
        data=_data(group, member),
    )


def refunded(*, group: Group, member: GroupMember, refund) -> None:
    notify(
        user_id=member.user_id,
        kind="group_refunded",
        title=_("Refund sent"),
        body=_("¥%(amount)s is on its way back to you along the way you paid.")
        % {"amount": yuan(refund.amount)},
        data=_data(group, member, refund_id=refund.pk, amount=refund.amount),
    )
