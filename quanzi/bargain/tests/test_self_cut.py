"""The starter's own first cut (自砍一刀): one cut more than the friends drawn, replayable
from the seed, taken once, and the last friend still lands on the floor."""

from __future__ import annotations

import pytest

from quanzi.bargain.cuts import cuts_replay, helpers_target_draw
from quanzi.bargain.models import Bargain
from quanzi.bargain.services import bargain_help, bargain_self_cut

pytestmark = pytest.mark.django_db


def test_the_starter_cuts_first_and_as_many_friends_are_still_needed(
    customer, make_user, make_campaign, start_bargain
):
    campaign = make_campaign(floor_price=1_000, helpers_min=3, helpers_max=5)
    started = start_bargain(customer, campaign)
    bargain = Bargain.objects.get(pk=started["bargain_id"])
    friends = helpers_target_draw(seed=bargain.seed, helpers_min=3, helpers_max=5)

    own = bargain_self_cut(bargain_id=bargain.pk, user=customer)
    again = bargain_self_cut(bargain_id=bargain.pk, user=customer)
    assert own is not None and again.pk == own.pk
    bargain.refresh_from_db()
    assert bargain.helpers_target == friends + 1 and bargain.helpers_count == 1
    assert bargain.current_price == 10_000 - own.cut

    for i in range(friends):
        bargain_help(bargain_id=bargain.pk, helper=make_user(nickname=f"朋友{i}"))
    bargain.refresh_from_db()
    assert bargain.current_price == 1_000 and bargain.status == "floor_reached"
    cuts = [h.cut for h in bargain.helps.order_by("seq")]
    assert cuts == cuts_replay(
        seed=bargain.seed, start_price=10_000, floor_price=1_000, helpers=friends + 1
    )


def test_no_own_cut_once_a_friend_helped_or_for_someone_else(
    customer, make_user, make_campaign, start_bargain
):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    stranger = make_user()
    with pytest.raises(Exception) as refused:
        bargain_self_cut(bargain_id=bargain_id, user=stranger)
    assert getattr(refused.value, "code", "") == "bargain_not_found"
    bargain_help(bargain_id=bargain_id, helper=stranger)
    assert bargain_self_cut(bargain_id=bargain_id, user=customer) is None


def test_the_api_gives_the_starter_her_first_cut_once(
    customer, make_user, make_campaign, start_bargain
):
    campaign = make_campaign()
    bargain_id = start_bargain(customer, campaign)["bargain_id"]
    first = customer.api.post(f"/bargains/{bargain_id}/self-cut")
    again = customer.api.post(f"/bargains/{bargain_id}/self-cut")
    assert first.status_code == 201 and first.json()["cut"] >= 1
    assert again.json() == first.json()
    assert make_user().api.post(f"/bargains/{bargain_id}/self-cut").status_code == 404
