"""Binding a referrer (绑定上级) through share links, per the operator's settings.

* ``bind_on = first_visit``: opening a share link binds a known visitor at once; a
  sign-up through a link binds the new account. A visit we could not tie to an
  account (anonymous, then logged in to an existing account) binds at the first paid
  order carrying the link's token — the first moment we know who visited.
* ``bind_on = first_order``: only a paid order carrying a share token binds (checked
  in the payment's transaction, by ``DistributionObserver.on_paid``).
* Either way: never to oneself, never forming a cycle, never re-bound while a binding
  is valid (``accounts.services.referrer_bind``, which locks the chain so that two
  bindings at the same moment cannot close a loop either); valid for ``bind_days`` days, or for
  good when 0. Invite codes bind at sign-up (``accounts.services.user_register``).
"""

from __future__ import annotations

from typing import Literal

from quanzi.accounts.models import User
from quanzi.accounts.services import referrer_bind
from quanzi.core.logging import get_logger
from quanzi.core.platform_settings import get_settings

log = get_logger("quanzi.distribution")

Trigger = Literal["visit", "register", "order"]


def referrer_bind_by_share(*, user: User, sharer_id: int, trigger: Trigger) -> bool:
    """Bind the sharer ``sharer_id`` as ``user``'s referrer if the rules say so."""
    settings = get_settings().distribution
    if not settings.enabled or sharer_id == user.pk:
        return False
    if trigger != "order" and settings.bind_on != "first_visit":
        return False
    referrer = User.objects.filter(pk=sharer_id, is_active=True).first()
    if referrer is None:
        return False
    bound = referrer_bind(
        user=user, referrer=referrer, source=f"share_{trigger}", bind_days=settings.bind_days
    )
    if bound:
        # No rank is evaluated here: a new downline never raises anyone's rank (ranks
        # depend on the distributor's own sales only, see ranks.py).
        log.info(
            "referrer bound",
            extra={"user_id": user.pk, "referrer_id": referrer.pk, "trigger": trigger},
        )
    return bound
