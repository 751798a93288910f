"""What circles' error codes mean to a person; other codes fall back to the shop's texts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from quanzi.core.errors import QuanziError
from quanzi.storefront.web import error_text as shop_error_text

ERROR_TEXT = {
    "cap_below_members": _("The circle already has more members than that cap."),
    "circle_full": _("This circle is full."),
    "circle_suspended": _("This circle is suspended."),
    "deal_exists": _("This deal is already limited to the circle."),
    "label_exists": _("This label exists already."),
    "not_a_member": _("You are not a member of this circle."),
    "not_pending": _("This request has been handled already."),
    "owner_cannot_leave": _("The owner cannot leave their own circle."),
    "owner_not_approved": _("Only approved circle owners can create circles."),
    "invite_required": _("This circle is joined by invitation only."),
    "members_only": _("Only members of the circle can see this."),
    "muted_in_circle": _("You are muted in this circle."),
    "not_circle_admin": _("Only the circle's owner or admins can do this."),
    "not_circle_owner": _("Only the circle's owner can do this."),
    "removed_from_circle": _("You were removed from this circle."),
    "answer_required": _("Answer the owner's question to ask to join."),
    "invalid_invite": _("This invitation is not valid."),
    "too_many_labels": _("Too many labels."),
    "too_many_tags": _("Too many tags."),
    "unknown_label": _("Unknown label."),
    "circle_members_only": _("This deal is for members of its circle only."),
}


def error_text(exc: QuanziError) -> str:
    text = ERROR_TEXT.get(exc.code)
    return str(text) if text is not None else shop_error_text(exc)
