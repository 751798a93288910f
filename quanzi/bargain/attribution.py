"""Which share link an account signed up through (recorded by the social app)."""

from __future__ import annotations

from quanzi.accounts.models import User


def registered_through_share(*, user: User, target: str, target_id: int) -> bool:
    """True when ``user`` registered through a share link of ``target``/``target_id``."""
    from quanzi.social.selectors import user_registered_through

    return user_registered_through(user=user, target=target, target_id=target_id)
