"""Distributor ranks (分销等级) and detaching (剥离).

* A rank is reached on its thresholds: ``min_sales`` (settled sales the distributor
  brought as level 1, net of refunds) and ``min_team`` (valid direct downlines). A
  threshold of 0 is not used. With ``distribution.rank_upgrade = "any"`` one used
  threshold met is enough; with ``"all"`` every used one must be met. A rank with no
  threshold is reached at once.
* Ranks only go up: a distributor keeps its rank when sales or team later shrink. They
  are evaluated when a downline binds and when an order it earned on settles.
* The rank's ``multiplier_bp`` scales the distributor's commissions (fixed on each
  commission at payment).
* **Detach rule**: when a distributor D reaches a rank whose level is at least
  ``distribution.detach_rank_level`` (> 0), D is detached, for good. From then on,
  on D's own orders, D's upline U still earns level 1 but U's upline G earns no level 2
  (D's level-2 link is cut). Everything else is unchanged: D earns level 1 on its own
  downlines and U earns level 2 on them, as before.
"""

from __future__ import annotations

from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.core.platform_settings import get_settings
from quanzi.distribution.models import DistributorProfile, DistributorRank
from quanzi.distribution.selectors import valid_downline_counts


def _reached(rank: DistributorRank, *, sales: int, team: int, rule: str) -> bool:
    checks = []
    if rank.min_sales > 0:
        checks.append(sales >= rank.min_sales)
    if rank.min_team > 0:
        checks.append(team >= rank.min_team)
    if not checks:
        return True
    return any(checks) if rule == "any" else all(checks)


def rank_evaluate(*, user_id: int) -> DistributorProfile | None:
    """Upgrade the user's rank if a higher one is reached (in the caller's transaction)."""
    from quanzi.distribution.distributors import profile_lock

    ranks = list(DistributorRank.objects.order_by("-level"))
    if not ranks:
        return None
    profile = profile_lock(user_id=user_id)
    ranks_evaluate([profile], ranks=ranks)
    return profile


def ranks_evaluate(profiles: list[DistributorProfile], *, ranks=None) -> None:
    """``rank_evaluate`` of many profiles, locked by the caller (``profiles_lock``)."""
    ranks = list(DistributorRank.objects.order_by("-level")) if ranks is None else ranks
    if not ranks:
        return
    settings = get_settings().distribution
    below_top = [p for p in profiles if (p.rank.level if p.rank_id else 0) < ranks[0].level]
    if not below_top:
        return
    teams = (
        valid_downline_counts(user_ids=[p.user_id for p in below_top])
        if any(rank.min_team > 0 for rank in ranks)
        else {}
    )
    for profile in below_top:
        current = profile.rank.level if profile.rank_id else 0
        team = teams.get(profile.user_id, 0)
        for rank in ranks:
            if rank.level <= current:
                break
            if _reached(rank, sales=profile.sales, team=team, rule=settings.rank_upgrade):
                _rank_set(profile, rank, detach_level=settings.detach_rank_level)
                break


def _rank_set(profile: DistributorProfile, rank: DistributorRank, *, detach_level: int) -> None:
    profile.rank = rank
    fields = ["rank"]
    if detach_level and rank.level >= detach_level and profile.detached_at is None:
        profile.detached_at = timezone.now()
        fields.append("detached_at")
    profile.save(update_fields=fields)


def rank_assign(*, user_id: int, rank_id: int | None) -> DistributorProfile:
    """The operator sets a rank by hand (a downgrade too; detaching stays for good)."""
    from django.db import transaction

    from quanzi.core.errors import NotFound
    from quanzi.distribution.distributors import profile_lock

    if not User.objects.filter(pk=user_id).exists():
        raise NotFound("user_not_found", "no such user")
    with transaction.atomic():
        profile = profile_lock(user_id=user_id)
        if rank_id is None:
            profile.rank = None
            profile.save(update_fields=["rank"])
            return profile
        rank = DistributorRank.objects.filter(pk=rank_id).first()
        if rank is None:
            raise NotFound("rank_not_found", "no such rank")
        _rank_set(profile, rank, detach_level=get_settings().distribution.detach_rank_level)
        return profile
