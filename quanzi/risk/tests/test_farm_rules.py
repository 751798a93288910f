"""The rules for farms and group joins, each on a crafted case and a near miss: many fresh
accounts on one IP, a joiner tied to another member, claim and sign-in bursts of a farm on
one quiet IP or one address, and the review that decides the next ask."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.risk.context import risk_context
from quanzi.risk.models import RiskEvent
from quanzi.risk.reviews import review_decide
from quanzi.risk.services import RiskInput, risk_check
from quanzi.risk.signals import normalise_address, signal_record


def _ask(kind, user, other=None, **kw):
    return risk_check(
        RiskInput(kind=kind, user_id=user.pk, counterpart_id=other.pk if other else None, **kw)
    )


def _rules(decision) -> set[str]:
    return {hit["rule"] for hit in decision.detail["hits"]}


def _age(user, *, days):
    user.date_joined = timezone.now() - timedelta(days=days)
    user.save(update_fields=["date_joined"])


def test_many_fresh_accounts_on_one_quiet_ip_are_asked_to_verify(make_user):
    farm = [make_user() for _ in range(5)]  # made today
    for user in farm:
        signal_record(user_id=user.pk, kind="ip", value="60.12.8.33")
    decision = _ask("sign_in", farm[0], ip="60.12.8.33")
    assert (decision.action, decision.reason) == ("verify", "crowded_ip")
    [hit] = [h for h in decision.detail["hits"] if h["rule"] == "crowded_ip"]
    assert hit["evidence"] == {"ip": "60.12.8.33", "fresh_accounts": 5}
    assert _ask("reward_grant", farm[1]).action == "hold"


def test_an_offices_wifi_with_old_customers_is_not_a_crowded_ip(make_user):
    office = [make_user() for _ in range(6)]
    for user in office:
        _age(user, days=200)
        signal_record(user_id=user.pk, kind="ip", value="60.12.8.34")
    assert _ask("sign_in", office[0], ip="60.12.8.34").allowed


def test_fresh_accounts_on_a_carriers_busy_ip_are_not_a_crowded_ip(make_user):
    carrier = [make_user() for _ in range(22)]  # more than 20 accounts: a shared address
    for user in carrier:
        signal_record(user_id=user.pk, kind="ip", value="36.110.1.1")
    assert "crowded_ip" not in _rules(_ask("sign_in", carrier[0], ip="36.110.1.1"))


def test_a_joiner_paying_with_another_members_wallet_is_held(make_user):
    leader, member, joiner = make_user(), make_user(), make_user()
    for user in (member, joiner):
        _age(user, days=100)
        signal_record(user_id=user.pk, kind="payment", value="alipay:2088-same")
    decision = _ask("group_join", joiner, leader, members=(member.pk, joiner.pk))
    assert (decision.action, decision.reason) == ("hold", "related_member")
    [hit] = decision.detail["hits"]
    assert hit["evidence"] == {"member": member.pk, "payment": ["alipay:2088-same"]}


def test_strangers_on_a_carriers_ip_joining_one_group_are_not_related(make_user):
    leader, member, joiner = make_user(), make_user(), make_user()
    for user in (member, joiner):
        _age(user, days=100)
        signal_record(user_id=user.pk, kind="ip", value="36.110.1.2")
    assert _ask("group_join", joiner, leader, members=(member.pk, joiner.pk)).allowed


def test_a_household_joining_each_others_group_is_allowed(make_user):
    place = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文一路 8 号"}
    a, b = make_user(), make_user()
    for user in (a, b):
        _age(user, days=100)
        signal_record(user_id=user.pk, kind="address", value=normalise_address(place))
    assert _ask("group_join", b, a, members=(b.pk,)).allowed
    assert _ask("commission", b, a).reason == "same_address"  # still not paid for it


def test_a_fresh_ring_joining_a_group_is_held_at_the_second(make_user):
    leader, a, b = make_user(), make_user(), make_user()
    _age(leader, days=100)
    for user in (a, b):  # fresh, on one quiet IP that is not the leader's
        signal_record(user_id=user.pk, kind="ip", value="122.224.3.7")
    assert _ask("group_join", a, leader, members=(a.pk,)).allowed
    decision = _ask("group_join", b, leader, members=(a.pk, b.pk))
    assert (decision.action, decision.reason) == ("hold", "fresh_ring")


def test_sign_ins_of_a_farm_on_one_quiet_ip_are_a_burst(make_user):
    farm = [make_user() for _ in range(3)]
    for n, user in enumerate(farm):
        _age(user, days=60)
        user.device_id = f"emulator-{n}"  # a device each: the device burst sees nothing
        user.save(update_fields=["device_id"])
        signal_record(user_id=user.pk, kind="ip", value="60.12.9.1")
    now = timezone.now()
    decisions = [
        _ask("sign_in", u, ip="60.12.9.1", at=now + timedelta(minutes=n))
        for n, u in enumerate(farm)
    ]
    assert [d.action for d in decisions] == ["allow", "allow", "hold"]
    assert decisions[2].reason == "farm_burst"
    [hit] = [h for h in decisions[2].detail["hits"] if h["rule"] == "claim_burst"]
    assert hit["evidence"]["accounts"] == 3


def test_a_household_of_two_signing_in_together_is_not_a_burst(make_user):
    place = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文一路 9 号"}
    a, b = make_user(), make_user()
    for user in (a, b):
        _age(user, days=60)
        signal_record(user_id=user.pk, kind="address", value=normalise_address(place))
        signal_record(user_id=user.pk, kind="ip", value="60.12.9.2")
    now = timezone.now()
    assert _ask("sign_in", a, ip="60.12.9.2", at=now).allowed
    assert _ask("sign_in", b, ip="60.12.9.2", at=now + timedelta(seconds=30)).allowed


def _at_place(users, detail):
    for n, user in enumerate(users):  # one place written differently, IPs of a carrier
        _age(user, days=60)
        written = detail.replace(" ", "") if n % 2 else detail
        place = {"province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": written}
        signal_record(user_id=user.pk, kind="address", value=normalise_address(place))


def test_coupon_claims_of_an_address_farm_are_a_burst_and_the_farm_stays_watched(make_user):
    farm = [make_user() for _ in range(3)]
    _at_place(farm, "学院路 77 号 2 栋")
    now = timezone.now()
    actions = [
        _ask("coupon_claim", u, at=now + timedelta(minutes=n)).action for n, u in enumerate(farm)
    ]
    assert actions == ["allow", "allow", "hold"]
    next_day = _ask("coupon_claim", farm[0], at=now + timedelta(days=1))
    assert (next_day.action, next_day.reason) == ("hold", "burst_before")
    a_week_on = _ask("coupon_claim", farm[1], at=now + timedelta(days=9))
    assert a_week_on.allowed


def test_neighbours_claiming_days_apart_are_not_a_burst(make_user):
    neighbours = [make_user() for _ in range(3)]
    _at_place(neighbours, "学院路 78 号 2 栋")
    now = timezone.now()
    later = [
        _ask("coupon_claim", u, at=now + timedelta(days=n + 1)).action
        for n, u in enumerate(neighbours)
    ]
    assert later == ["allow"] * 3


def test_the_requests_ip_and_device_are_the_events(make_user):
    user = make_user()
    with risk_context(ip="60.12.9.9", device_id="phone-9"):
        decision = _ask("sign_in", user)
    event = RiskEvent.objects.get(pk=decision.event_id)
    assert (event.ip, event.device_id) == ("60.12.9.9", "phone-9")


def test_a_reviewed_claim_decides_the_next_ask_of_the_same_thing(make_user, operator):
    grabber = make_user()
    now = timezone.now()
    for n in range(3):
        _ask("coupon_claim", grabber, subject=f"coupon:{n}", at=now)
    held = _ask("coupon_claim", grabber, subject="coupon:9", at=now)
    assert held.action == "hold"
    again = _ask("coupon_claim", grabber, subject="coupon:9")
    assert (again.action, again.event_id) == ("hold", held.event_id)  # still open: no new row
    review_decide(event_id=held.event_id, approve=True, operator=operator)
    assert _ask("coupon_claim", grabber, subject="coupon:9").allowed
    assert _ask("coupon_claim", grabber, subject="coupon:8").action == "hold"  # another one

    refused = _ask("coupon_claim", grabber, subject="coupon:8")
    review_decide(event_id=refused.event_id, approve=False, operator=operator)
    decision = _ask("coupon_claim", grabber, subject="coupon:8")
    assert (decision.action, decision.reason) == ("deny", "review_denied")
