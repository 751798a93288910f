"""Words for partner codes shown on pages (added to ``quanzi.core.labels`` at load)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def register() -> None:
    from quanzi.core.labels import LABELS

    LABELS.setdefault(
        "partner_status",
        {"active": pgettext_lazy("partner", "Active"), "suspended": _("Suspended")},
    )
    LABELS.setdefault(
        "partner_key_kind",
        {"hmac": _("Shared secret (HMAC-SHA256)"), "rsa": _("RSA public key")},
    )
    LABELS.setdefault(
        "partner_key_status",
        {
            "current": pgettext_lazy("partner key", "Current"),
            "previous": pgettext_lazy("partner key", "Previous (overlap)"),
            "retired": pgettext_lazy("partner key", "Retired"),
        },
    )
