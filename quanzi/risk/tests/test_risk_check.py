"""``risk_check``: related accounts, bursts and crowded devices, every decision logged."""

from __future__ import annotations

import pytest

from quanzi.risk.models import RiskEvent
from quanzi.risk.services import RiskInput, risk_check


def _address(user, *, phone="13700000001", detail="文三路 1 号"):
    from quanzi.accounts.services import address_create

    return address_create(
        user=user,
        data={
            "name": "收件人",
            "phone": phone,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": detail,
        },
    )


def _ask(user, other, **kw):
    return risk_check(
        RiskInput(kind="reward_referral", user_id=user.pk, counterpart_id=other.pk, **kw)
    )


def test_unrelated_accounts_are_allowed_and_the_decision_is_logged(make_user):
    alice, bob = make_user(), make_user()
    _address(alice, phone="13700000001", detail="文三路 1 号")
    _address(bob, phone="13700000002", detail="莫干山路 8 号")
    decision = _ask(bob, alice, subject="reward:1")
    assert decision.allowed and decision.reason == ""
    event = RiskEvent.objects.get(pk=decision.event_id)
    assert (event.kind, event.user_id, event.counterpart_id, event.action, event.subject) == (
        "reward_referral",
        bob.pk,
        alice.pk,
        "allow",
        "reward:1",
    )


def test_same_device_is_denied(make_user):
    alice, bob = make_user(), make_user()
    for user in (alice, bob):
        user.device_id = "dev-42"
        user.save(update_fields=["device_id"])
    decision = _ask(bob, alice)
    assert (decision.action, decision.reason) == ("deny", "same_device")
    assert RiskEvent.objects.get(pk=decision.event_id).device_id == "dev-42"


def test_an_address_carrying_the_other_accounts_phone_is_denied(make_user):
    alice, bob = make_user(), make_user()
    _address(bob, phone=alice.phone, detail="莫干山路 8 号")
    assert _ask(bob, alice).reason == "same_phone"


def test_a_deleted_shared_address_still_counts(make_user):
    from quanzi.accounts.services import address_delete

    alice, bob = make_user(), make_user()
    _address(alice, phone="13700000001", detail="文三路 1 号")
    old = _address(bob, phone="13700000002", detail="文三路1号")  # spacing differs
    address_delete(user=bob, address_id=old.pk)
    assert _ask(bob, alice).reason == "same_address"


def test_the_address_an_event_uses_is_compared_too(make_user):
    alice, bob = make_user(), make_user()
    _address(alice, phone="13700000001", detail="文三路 1 号")
    shipped_to = {
        "name": "x",
        "phone": "13700000009",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "文三路 1 号",
    }
    assert _ask(bob, alice, address=shipped_to).action == "deny"


def test_a_burst_of_events_is_held_for_rewards_and_denied_for_helps(make_user):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"risk": {"burst_max": 3}})
    alice = make_user()
    others = [make_user() for _ in range(4)]
    actions = [_ask(alice, other).action for other in others]
    assert actions == ["allow", "allow", "allow", "hold"]
    helps = [
        risk_check(RiskInput(kind="bargain_help", user_id=alice.pk, counterpart_id=o.pk)).action
        for o in others
    ]
    assert helps == ["allow", "allow", "allow", "deny"]


def test_a_device_crowded_with_accounts_is_held(make_user):
    accounts = [make_user() for _ in range(5)]
    for user in accounts:
        user.device_id = "farm-phone"
        user.save(update_fields=["device_id"])
    outsider = make_user()
    decision = _ask(accounts[0], outsider)
    assert (decision.action, decision.reason) == ("hold", "shared_device")


@pytest.mark.parametrize("enabled,expected", [(True, "deny"), (False, "allow")])
def test_the_operator_can_switch_the_rules_off(make_user, enabled, expected):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"risk": {"enabled": enabled}})
    alice, bob = make_user(), make_user()
    for user in (alice, bob):
        user.device_id = "same"
        user.save(update_fields=["device_id"])
    assert _ask(bob, alice).action == expected
    assert RiskEvent.objects.count() == 1


def test_operators_read_the_risk_log(operator, customer, make_user):
    alice = make_user()
    _ask(customer, alice)
    page = operator.api.get("/admin/risk-events?action=allow").json()
    assert [e["user_id"] for e in page["items"]] == [customer.pk]
    assert customer.api.get("/admin/risk-events").status_code == 403
