"""Coupon claims and sign-ins ask risk control first: a farm's burst is refused with a
403 that says why, an honest pace is not, and an operator's approval lets the retry in."""

from __future__ import annotations

from quanzi.marketing.models import Coupon, SignIn
from quanzi.risk.signals import signal_record


def _claim(user, template_id, **headers):
    return user.api.post(f"/coupon-templates/{template_id}/claim", headers=headers)


def test_a_coupon_farm_on_one_device_is_held_at_the_fourth_claim(
    make_user, make_template, operator
):
    template = make_template(total=50, per_user_limit=2)
    farm = [make_user() for _ in range(2)]
    claimers = [farm[0], farm[0], farm[1], farm[1]]
    answers = [_claim(u, template.pk, **{"X-Device-Id": "farm-phone"}) for u in claimers]
    assert [a.status_code for a in answers] == [201, 201, 201, 403]
    refused = answers[3].json()
    assert refused["code"] == "risk_held" and refused["detail"]["reason"] == "claim_burst"
    assert refused["message"] == "this claim waits for an operator's review"
    assert Coupon.objects.filter(user=farm[1]).count() == 1

    event_id = refused["detail"]["risk_event_id"]
    approved = operator.api.post(f"/admin/risk-events/{event_id}/approve", {"note": "真人"})
    assert approved.status_code == 200, approved.content
    assert _claim(farm[1], template.pk, **{"X-Device-Id": "farm-phone"}).status_code == 201
    assert Coupon.objects.filter(user=farm[1]).count() == 2


def test_four_people_on_their_own_phones_claiming_at_once_are_not_held(make_user, make_template):
    template = make_template(total=50)
    people = [make_user() for _ in range(4)]
    answers = [
        _claim(u, template.pk, **{"X-Device-Id": f"phone-{n}"}) for n, u in enumerate(people)
    ]
    assert [a.status_code for a in answers] == [201] * 4


def test_a_claim_refused_for_its_limit_is_not_counted_as_a_claim(make_user, make_template):
    template = make_template(total=50, per_user_limit=1)
    other = make_template(total=50, per_user_limit=5)
    user = make_user()
    assert _claim(user, template.pk).status_code == 201
    for _ in range(3):  # tapping an exhausted coupon again and again
        assert _claim(user, template.pk).json()["code"] == "already_claimed"
    assert _claim(user, other.pk).status_code == 201


def test_a_sign_in_burst_of_a_farm_on_one_ip_is_held(make_user):
    farm = [make_user() for _ in range(3)]
    answers = [
        u.api.post(
            "/me/sign-in", headers={"X-Forwarded-For": "60.13.1.1", "X-Device-Id": f"emu-{n}"}
        )
        for n, u in enumerate(farm)
    ]
    assert [a.status_code for a in answers] == [201, 201, 403]
    assert answers[2].json()["code"] == "risk_held"
    assert answers[2].json()["detail"]["reason"] == "farm_burst"
    assert not SignIn.objects.filter(user=farm[2]).exists()
    # Signed in already: answered without asking again.
    again = farm[0].api.post("/me/sign-in", headers={"X-Forwarded-For": "60.13.1.1"})
    assert again.status_code == 409 and again.json()["code"] == "already_signed_in"


def test_two_people_at_home_signing_in_together_are_not_held(make_user):
    home = [make_user() for _ in range(2)]
    answers = [u.api.post("/me/sign-in", headers={"X-Forwarded-For": "60.13.1.2"}) for u in home]
    assert [a.status_code for a in answers] == [201, 201]


def test_a_sign_in_from_an_ip_crowded_with_fresh_accounts_asks_to_verify(make_user):
    farm = [make_user() for _ in range(5)]
    for user in farm:
        signal_record(user_id=user.pk, kind="ip", value="60.13.1.3")
    answer = farm[0].api.post("/me/sign-in", headers={"X-Forwarded-For": "60.13.1.3"})
    assert answer.status_code == 403
    body = answer.json()
    assert (body["code"], body["detail"]["reason"]) == ("risk_verify", "crowded_ip")
    assert body["message"] == "confirm it is you before this sign-in counts"
