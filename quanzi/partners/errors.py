"""What partner error codes mean to a person; other codes fall back to the shop's texts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from quanzi.core.errors import QuanziError
from quanzi.storefront.web import error_text as shop_error_text

ERROR_TEXT = {
    "partner_not_found": _("No such partner."),
    "partner_suspended": _("This partner channel is suspended."),
    "partner_token_invalid": _("This partner link is not valid or has expired."),
    "partner_token_replayed": _("This partner link has been used already."),
    "partner_level_not_allowed": _("The partner asserted a level it may not give."),
    "partner_uid_linked": _("This partner account is linked to another account."),
    "partner_user_linked": _("Your account is linked to another account of this partner."),
    "partner_code_invalid": _("This code is not valid."),
    "partner_code_used": _("This code has been used already."),
    "partner_code_expired": _("This code has expired."),
    "partner_level_required": _("Partner prices are for the partner's members."),
    "partner_level_too_low": _("This price is for a higher partner level."),
    "partner_price_unavailable": _("This item has no partner price."),
    "partner_coupon_level_required": _("This coupon is for a higher partner level."),
    "partner_sign_in_refused": _("Sign in with your password first, then open the link again."),
    "partner_code_taken": _("Another partner has this code."),
    "partner_code_format": _("Use 2 to 32 lower-case letters, digits or -."),
    "partner_key_invalid": _("This key is not valid."),
    "partner_price_out_of_range": _(
        "The price must lie between the supply price and the retail price."
    ),
}


def error_text(exc: QuanziError) -> str:
    text = ERROR_TEXT.get(exc.code)
    return str(text) if text is not None else shop_error_text(exc)
