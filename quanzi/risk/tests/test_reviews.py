"""The operator's queue of holds: the evidence shown, approve pays, deny refuses."""

from __future__ import annotations


def _web(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _points(user) -> int:
    from quanzi.marketing.points import points_balance

    return points_balance(user_id=user.pk)


def _held_referral(customer, register, reward_campaign, bring):
    from quanzi.core.platform_settings import settings_update

    settings_update(patch={"risk": {"device_accounts_max": 1}})
    reward_campaign(reward={"points": 15})
    register(device_id="busy-phone")
    return bring(customer, device_id="busy-phone")


def test_approving_a_held_referral_in_the_queue_pays_the_reward(
    operator, customer, register, reward_campaign, bring
):
    friend = _held_referral(customer, register, reward_campaign, bring)
    queue = operator.api.get("/admin/risk-events?review=open&kind=reward_referral").json()
    [held] = queue["items"]
    assert held["user_id"] == friend.pk and held["counterpart_id"] == customer.pk
    [hit] = [h for h in held["detail"]["hits"] if h["rule"] == "crowded_device"]
    assert hit["evidence"] == {"device": "busy-phone", "accounts": 2}
    assert _points(customer) == 0

    answer = operator.api.post(f"/admin/risk-events/{held['id']}/approve", {"note": "家人"})
    assert answer.status_code == 200 and answer.json()["review"] == "approved"
    assert _points(customer) == 15
    again = operator.api.post(f"/admin/risk-events/{held['id']}/deny", {})
    assert again.status_code == 409


def test_denying_a_held_referral_refuses_it_and_the_page_shows_the_evidence(
    operator, customer, register, reward_campaign, bring
):
    from quanzi.rewards.models import RewardReferral

    _held_referral(customer, register, reward_campaign, bring)
    page = _web(operator).get("/dashboard/risk/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "crowded_device" in text and "busy-phone" in text
    [held] = operator.api.get("/admin/risk-events?review=open&kind=reward_referral").json()["items"]
    posted = _web(operator).post(f"/dashboard/risk/{held['id']}/deny/")
    assert posted.status_code == 302
    assert RewardReferral.objects.get().status == "denied"
    assert _points(customer) == 0
    assert _web(customer).get("/dashboard/risk/").status_code in (302, 403)


def test_the_rules_page_changes_a_rule(operator):
    from quanzi.risk.rules import rules_effective

    page = _web(operator).get("/dashboard/risk/rules/")
    assert page.status_code == 200 and "claim_burst" in page.content.decode()
    _web(operator).post(
        "/dashboard/risk/rules/",
        {"code": "claim_burst", "enabled": "on", "threshold": "7", "kind": "*", "action": "hold"},
    )
    rule = rules_effective()["claim_burst"]
    assert rule.threshold == 7 and rule.actions["*"] == "hold"
    answer = operator.api.patch("/admin/risk/rules/claim_burst", {"enabled": False})
    assert answer.status_code == 200 and answer.json()["enabled"] is False
    assert operator.api.patch("/admin/risk/rules/nope", {}).status_code == 404


def test_a_withdrawal_asks_risk_first_and_a_denial_is_logged(make_user):
    import pytest

    from quanzi.core.errors import QuanziError
    from quanzi.distribution.withdrawals import withdrawal_request
    from quanzi.risk.models import RiskEvent
    from quanzi.risk.services import risk_rule_update

    gone, again = make_user(), make_user()
    for user in (gone, again):
        user.device_id = "dev-again"
        user.save(update_fields=["device_id"])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    risk_rule_update(code="reregister", actions={"withdrawal": "deny"})
    with pytest.raises(QuanziError) as refused:
        withdrawal_request(user=again, amount=10_000, gateway="sandbox")
    assert refused.value.code == "risk_denied"
    event = RiskEvent.objects.get(kind="withdrawal")
    assert (event.user_id, event.action, event.reason) == (again.pk, "deny", "reregistered")
