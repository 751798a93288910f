"""The storefront's ideas and pre-sale pages and the dashboard's."""

from __future__ import annotations

import pytest
from django.test import Client

from quanzi.presale.models import Booking, Presale, Proposal, Vote
from quanzi.presale.tests.conftest import ledger_green, move

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_propose_vote_and_withdraw_on_the_page(customer, make_user):
    client = _client(customer)
    assert client.post("/presale/propose/", {"title": "出一款桂花乌龙"}).status_code == 302
    idea = Proposal.objects.get(title="出一款桂花乌龙")
    voter = _client(make_user())
    page = voter.get("/presale/").content.decode()
    assert "桂花乌龙" in page and "投票" in page
    voter.post(f"/presale/ideas/{idea.pk}/vote/")
    assert Vote.objects.filter(proposal=idea).count() == 1
    page = voter.get("/presale/").content.decode()
    assert 'aria-pressed="true"' in page and "1 票" in page
    voter.post(f"/presale/ideas/{idea.pk}/vote/", {"withdraw": "1"})
    assert Proposal.objects.get(pk=idea.pk).votes == 0


def test_presale_page_counts_down_and_takes_the_deposit(customer, make_address, make_presale):
    sale = make_presale(deposit=1000, starts_in=600)
    anon_page = Client().get(f"/presale/{sale['id']}/").content.decode()
    assert 'class="countdown"' in anon_page and "距开始" in anon_page
    move(sale["id"], starts_at=-5)
    make_address(customer)
    client = _client(customer)
    answer = client.post(f"/presale/{sale['id']}/deposit/", {"qty": "1"})
    assert answer.status_code == 302 and answer["Location"].startswith("/orders/")
    booking = Booking.objects.get(user=customer)
    page = client.get(f"/presale/{sale['id']}/").content.decode()
    assert f'data-booking="{booking.pk}"' in page and "待付款" in page
    ledger_green()


def test_dashboard_creates_a_presale_from_an_idea_and_shows_paid_units(
    operator, customer, phone_sku
):
    idea = Proposal.objects.create(author=customer, title="雾蓝色保温杯", votes=0)
    client = _client(operator)
    assert (
        f"/dashboard/presale/new/?proposal_id={idea.pk}"
        in client.get("/dashboard/presale/").content.decode()
    )
    form = {
        "proposal_id": idea.pk,
        "sku_id": phone_sku.pk,
        "price": 8800,
        "mode": "threshold",
        "starts_at": "2026-01-01T00:00:00",
        "threshold_units": 100,
        "deadline": "2099-01-01T00:00:00",
    }
    answer = client.post("/dashboard/presale/new/", form)
    assert answer.status_code == 302, answer.content.decode()[:500]
    presale = Presale.objects.get(proposal=idea)
    page = client.get(f"/dashboard/presale/{presale.pk}/").content.decode()
    assert "0 / 100" in page
    assert Client().get("/dashboard/presale/").status_code in (302, 403)
