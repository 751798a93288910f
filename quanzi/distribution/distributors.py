"""Who is a distributor (分销员), and the operator's audit of applications.

Becoming a distributor never costs anything: no entry fee, and no purchase either —
buying something to qualify is an entry fee in disguise (认购商品变相交费), so no rule
here looks at what a person bought (docs/distribution.md, "Lawful by construction").
The operator's ``distribution.qualification`` decides who earns commissions:

* ``everyone`` — every account;
* ``approval`` — an account whose application the operator approved.

An approved application qualifies under every rule; a rejected one (or a revoked
approval) disqualifies under ``approval`` only. A level whose upline does not qualify
is simply not paid: it is never passed further up (no compression), so no path can
ever reach a third level.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, NotFound
from quanzi.core.platform_settings import get_settings
from quanzi.core.settings_schema import DistributionSettings
from quanzi.distribution.models import DistributorProfile, ProfileStatus

MEMBERSHIP_CHANNEL = "membership"


def profile_lock(*, user_id: int) -> DistributorProfile:
    """The user's profile row, created on first use, locked for this transaction."""
    return profiles_lock(user_ids=[user_id])[user_id]


def profiles_lock(*, user_ids) -> dict[int, DistributorProfile]:
    """``profile_lock`` for many users at once (locked in user order, with their rank),
    by user id."""
    ids = sorted(set(user_ids))

    def locked(wanted: list[int]) -> dict[int, DistributorProfile]:
        rows = (
            DistributorProfile.objects.select_for_update(of=("self",))
            .select_related("rank")
            .filter(user_id__in=wanted)
            .order_by("user_id")
        )
        return {profile.user_id: profile for profile in rows}

    profiles = locked(ids)
    missing = [user_id for user_id in ids if user_id not in profiles]
    if missing:
        DistributorProfile.objects.bulk_create(
            [DistributorProfile(user_id=user_id) for user_id in missing],
            ignore_conflicts=True,  # made meanwhile by another transaction: fine
        )
        profiles.update(locked(missing))
    return profiles


def distributor_is_qualified(*, user_id: int, settings: DistributionSettings | None = None) -> bool:
    settings = settings or get_settings().distribution
    status = (
        DistributorProfile.objects.filter(user_id=user_id).values_list("status", flat=True).first()
    )
    if status == ProfileStatus.APPROVED:
        return True
    return settings.qualification == "everyone"


def distributor_apply(*, user: User, real_name: str = "", reason: str = "") -> DistributorProfile:
    """Apply to become a distributor (free). Applying again while waiting is a no-op."""
    with transaction.atomic():
        profile = profile_lock(user_id=user.pk)
        if profile.status == ProfileStatus.APPROVED:
            raise Conflict("already_distributor", "you are a distributor already")
        if profile.status != ProfileStatus.APPLIED:
            profile.status = ProfileStatus.APPLIED
            profile.real_name = (real_name or "").strip()[:40]
            profile.reason = (reason or "").strip()[:200]
            profile.applied_at = timezone.now()
            profile.decided_at = None
            profile.decision_note = ""
            profile.save()
        return profile


def distributor_decide(
    *, user_id: int, operator: User, approve: bool, note: str = ""
) -> DistributorProfile:
    """The operator approves or rejects an application (or revokes an approval)."""
    if not User.objects.filter(pk=user_id).exists():
        raise NotFound("user_not_found", "no such user")
    with transaction.atomic():
        profile = profile_lock(user_id=user_id)
        target = ProfileStatus.APPROVED if approve else ProfileStatus.REJECTED
        if profile.status == target:
            return profile
        profile.status = target
        profile.decision_note = (note or "").strip()[:200]
        profile.decided_at = timezone.now()
        profile.decided_by_id = operator.pk
        profile.save()
        return profile
