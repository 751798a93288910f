"""Helpers and buyers arriving at the same moment, on PostgreSQL with real threads."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.bargain.cuts import cuts_replay
from quanzi.bargain.models import Bargain, BargainCampaign, BargainHelp
from quanzi.core.testing import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


def _campaign(make_product, **fields):
    from quanzi.bargain.services import campaign_create

    sku = make_product(price=10_000, supply_price=2_000, stock=50).skus.get()
    return campaign_create(
        **{
            "sku_id": sku.pk,
            "start_price": 10_000,
            "floor_price": 1_234,
            "helpers_min": 6,
            "helpers_max": 6,
            "ttl_seconds": 3_600,
            "per_user_limit": 1,
            "stock": 10,
            **fields,
        }
    )


def test_parallel_helpers_never_pass_the_floor_nor_lose_a_cut(make_user, make_product):
    from quanzi.bargain.services import bargain_help, bargain_start

    campaign = _campaign(make_product)
    bargain = bargain_start(user=make_user(), campaign_id=campaign.pk)
    helpers = [make_user() for _ in range(9)]
    # Three helpers also try twice at once.
    crowd = helpers + helpers[:3]

    results = race([lambda h=h: bargain_help(bargain_id=bargain.pk, helper=h) for h in crowd])

    cuts = [r for r in results if not isinstance(r, str)]
    refusals = [r for r in results if isinstance(r, str)]
    assert len(cuts) == 6
    assert set(refusals) <= {"bargain_closed", "already_helped"}, refusals
    bargain.refresh_from_db()
    assert bargain.current_price == 1_234
    assert bargain.status == "floor_reached"
    assert bargain.helpers_count == 6
    helps = list(BargainHelp.objects.filter(bargain=bargain).order_by("seq"))
    assert [h.seq for h in helps] == [1, 2, 3, 4, 5, 6]
    assert len({h.helper_id for h in helps}) == 6
    assert sum(h.cut for h in helps) == 10_000 - 1_234
    assert [h.cut for h in helps] == cuts_replay(
        seed=bargain.seed, start_price=10_000, floor_price=1_234, helpers=6
    )


def test_one_helper_racing_over_many_bargains_keeps_the_daily_limit(make_user, make_product):
    from quanzi.bargain.services import bargain_help, bargain_start

    campaign = _campaign(make_product, helps_per_day=2)
    bargains = [bargain_start(user=make_user(), campaign_id=campaign.pk) for _ in range(6)]
    helper = make_user()

    results = race([lambda b=b: bargain_help(bargain_id=b.pk, helper=helper) for b in bargains])

    assert sum(1 for r in results if not isinstance(r, str)) == 2
    assert [r for r in results if isinstance(r, str)] == ["help_limit"] * 4
    assert BargainHelp.objects.filter(helper=helper).count() == 2


def test_double_buy_and_double_start_make_one_of_each(make_user, make_product, make_address):
    from quanzi.bargain.services import bargain_buy, bargain_start
    from quanzi.orders.models import Order

    campaign = _campaign(make_product)
    owner = make_user()
    started = race([lambda: bargain_start(user=owner, campaign_id=campaign.pk)] * 4)
    assert sum(1 for r in started if isinstance(r, Bargain)) == 1
    assert set(r for r in started if isinstance(r, str)) <= {
        "attempts_exceeded",
        "bargain_in_progress",
    }
    bargain = Bargain.objects.get(user=owner)
    address = make_address(owner)

    bought = race(
        [lambda: bargain_buy(bargain_id=bargain.pk, user=owner, address_id=address.pk)] * 4
    )

    assert sum(1 for r in bought if isinstance(r, Order)) == 1
    assert [r for r in bought if isinstance(r, str)] == ["bargain_ordered"] * 3
    assert Order.objects.filter(channel="bargain", channel_ref=str(bargain.pk)).count() == 1
    assert BargainCampaign.objects.get(pk=campaign.pk).stock == 9


def test_the_campaign_allotment_is_never_oversold(make_user, make_product, make_address):
    from quanzi.bargain.services import bargain_buy, bargain_start
    from quanzi.orders.models import Order

    campaign = _campaign(make_product, stock=3)
    owners = [make_user() for _ in range(7)]
    plans = []
    for owner in owners:
        bargain = bargain_start(user=owner, campaign_id=campaign.pk)
        plans.append((owner, bargain.pk, make_address(owner).pk))

    results = race(
        [lambda o=o, b=b, a=a: bargain_buy(bargain_id=b, user=o, address_id=a) for o, b, a in plans]
    )

    assert sum(1 for r in results if isinstance(r, Order)) == 3
    assert [r for r in results if isinstance(r, str)] == ["out_of_stock"] * 4
    assert BargainCampaign.objects.get(pk=campaign.pk).stock == 0
    assert Bargain.objects.filter(status="ordered").count() == 3
