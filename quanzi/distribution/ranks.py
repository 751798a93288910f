"""Distributor ranks (分销等级) and detaching (剥离).

* A rank is reached on the distributor's **own sales** alone: ``min_sales``, the settled
  sales it brought as level 1, net of refunds. A rank with ``min_sales`` 0 is reached at
  once. Nothing here counts people: pay that grows with how many people one brings in
  is pyramid selling (以发展人员数量计酬), so a rank (and its multiplier) never depends on
  team size, and the operator cannot configure one that does (``pyramid_forbidden``,
  services.py). See docs/distribution.md, "Lawful by construction".
* Ranks only go up: a distributor keeps its rank when its sales later shrink. They are
  evaluated when an order it earned on settles (and by the ranks sweep).
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


def _reached(rank: DistributorRank, *, sales: int) -> bool:
    return sales >= rank.min_sales


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
    for profile in below_top:
        current = profile.rank.level if profile.rank_id else 0
        for rank in ranks:
            if rank.level <= current:
                break
            if _reached(rank, sales=profile.sales):
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
