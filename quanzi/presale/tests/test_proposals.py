"""Proposals and votes: one vote per person, withdraw, moderation, the operator's
decisions, and voters' perks when the idea becomes a pre-sale."""

from __future__ import annotations

import pytest

from quanzi.marketing.models import Coupon
from quanzi.presale.models import Proposal, Vote, VoterGrant
from quanzi.presale.services import sales
from quanzi.presale.tests.conftest import ledger_green

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(customer):
    answer = customer.api.post(
        "/presale/proposals", {"title": "保温杯出一个雾蓝色", "body": "现在只有黑白两色"}
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_one_vote_per_person_and_withdraw(idea, make_user, anon):
    a, b = make_user(nickname="甲"), make_user(nickname="乙")
    url = f"/presale/proposals/{idea['id']}/vote"
    assert a.api.post(url).json() == {"proposal_id": idea["id"], "votes": 1, "voted": True}
    assert a.api.post(url).json()["votes"] == 1  # again: nothing changes
    assert b.api.post(url).json()["votes"] == 2
    assert a.api.delete(url).json() == {"proposal_id": idea["id"], "votes": 1, "voted": False}
    assert a.api.delete(url).json()["votes"] == 1  # nothing to withdraw
    assert b.api.get(f"/presale/proposals/{idea['id']}").json()["voted"] is True
    assert a.api.get(f"/presale/proposals/{idea['id']}").json()["voted"] is False
    listed = anon.get("/presale/proposals").json()["items"]
    assert [(p["id"], p["votes"], p["voted"]) for p in listed] == [(idea["id"], 1, None)]
    assert anon.post(url).status_code == 401
    ledger_green()


def test_a_variant_names_an_existing_product(customer, phone_sku):
    body = {"kind": "variant", "product_id": phone_sku.product_id, "title": "出一个樱花粉"}
    answer = customer.api.post("/presale/proposals", body)
    assert answer.status_code == 201 and answer.json()["product_id"] == phone_sku.product_id
    missing = customer.api.post("/presale/proposals", {**body, "product_id": 987654})
    assert missing.status_code == 404


def test_moderation_holds_or_refuses_the_text(customer, make_user, operator, anon):
    from quanzi.content.moderation import word_add

    word_add(word="代购", action="hold")
    word_add(word="违禁品", action="refuse")
    refused = customer.api.post("/presale/proposals", {"title": "出售违禁品"})
    assert refused.status_code == 422 and refused.json()["code"] == "content_refused"
    held = customer.api.post("/presale/proposals", {"title": "找人代购同款"})
    assert held.status_code == 201 and held.json()["status"] == "held"
    proposal_id = held.json()["id"]
    assert anon.get("/presale/proposals").json()["items"] == []
    assert anon.get(f"/presale/proposals/{proposal_id}").status_code == 404
    assert customer.api.get(f"/presale/proposals/{proposal_id}").status_code == 200  # its author
    assert make_user().api.post(f"/presale/proposals/{proposal_id}/vote").status_code == 404
    published = operator.api.post(
        f"/admin/presale/proposals/{proposal_id}/decide", {"decision": "publish"}
    )
    assert published.json()["status"] == "open"
    assert len(anon.get("/presale/proposals").json()["items"]) == 1


def test_rejected_ideas_take_no_votes(idea, operator, make_user):
    operator.api.post(f"/admin/presale/proposals/{idea['id']}/decide", {"decision": "reject"})
    voter = make_user()
    assert voter.api.post(f"/presale/proposals/{idea['id']}/vote").status_code == 404


def test_voters_get_early_access_and_one_coupon(idea, make_user, operator, make_presale, shop):
    from quanzi.marketing.services import coupon_template_create

    voters = [make_user(nickname=f"投票{i}") for i in range(3)]
    for voter in voters:
        voter.api.post(f"/presale/proposals/{idea['id']}/vote")
    template = coupon_template_create(
        data={
            "name": "共创者专享",
            "kind": "amount_off",
            "amount": 300,
            "threshold": 0,
            "scope": "all",
            "valid_days": 30,
            "total": 100,
            "per_user_limit": 1,
        }
    )
    sale = make_presale(
        proposal_id=idea["id"],
        starts_in=3600,
        early_in=-60,
        balance_in=7200,
        balance_ends_in=9000,
        voter_coupon_template_id=template.pk,
    )
    assert Proposal.objects.get(pk=idea["id"]).status == "presale"
    assert (
        make_user().api.get(f"/presale/proposals/{idea['id']}").json()["presale_id"] == sale["id"]
    )
    # One coupon each, given once however often the grant runs.
    assert Coupon.objects.filter(template=template).count() == 3
    assert sales.voter_coupons_grant(presale_id=sale["id"]) == 0
    assert sales.voter_coupons_due() == 0
    assert VoterGrant.objects.filter(presale_id=sale["id"]).count() == 3
    # Early access: a voter may pay the deposit now, anyone else only at the public start.
    early = shop(voters[0], sale["id"], "deposit")
    assert early["order"]["status"] == "to_ship"
    stranger = shop(make_user(nickname="路人"), sale["id"], "deposit", expect=409)
    assert stranger["code"] == "presale_not_started" and "at" in stranger["detail"]
    # No more votes once the idea is a pre-sale.
    late = make_user().api.post(f"/presale/proposals/{idea['id']}/vote")
    assert late.status_code == 409 and late.json()["code"] == "voting_closed"
    assert Vote.objects.filter(proposal_id=idea["id"]).count() == 3
    ledger_green()
