"""Who brought a person in: recorded facts from accounts (the invite code it signed up
with) and social (the share link it registered through)."""

from __future__ import annotations

from quanzi.accounts.models import User


def inviter_of(person: User) -> int | None:
    """The account whose invite code ``person`` signed up with."""
    if person.referrer_id is not None and person.referrer_source == "invite_code":
        return person.referrer_id
    return None


def sharer_of(person: User) -> int | None:
    """The account whose share link ``person`` registered through (one at most)."""
    from quanzi.social.models import ConversionKind, ShareConversion

    return (
        ShareConversion.objects.filter(user=person, kind=ConversionKind.REGISTER)
        .exclude(link__sharer=person)
        .values_list("link__sharer_id", flat=True)
        .first()
    )
