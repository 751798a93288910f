"""In a real browser (390×844): a voter votes for an idea, sees it become a pre-sale with
early access, and pays the deposit at the sandbox."""

from __future__ import annotations

import pytest

from quanzi.presale.models import Booking
from quanzi.presale.services import proposals
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, phone: str, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_phone", phone)
    page.fill("#id_password", "secret123")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_a_voter_sees_its_idea_become_a_presale_and_pays_the_deposit(
    new_phone, make_user, make_address, make_presale
):
    author = make_user(nickname="提议人")
    idea = proposals.proposal_create(
        user=author, kind="product", title="保温杯出雾蓝色", body="黑白看腻了"
    )
    voter = make_user(nickname="投票人")
    make_address(voter)

    page = new_phone()
    log_in(page, voter.phone, "/presale/")
    assert accessible(page) == []
    page.click(f"#idea-{idea.pk} .vote-btn")
    page.wait_for_url("**/presale/**")
    assert page.get_attribute(f"#idea-{idea.pk} .vote-btn", "aria-pressed") == "true"
    shot(page, "presale-01-voted")

    # The operator turns the idea into a deposit pre-sale; voters may start an hour early.
    sale = make_presale(
        proposal_id=idea.pk, starts_in=3600, early_in=-60, balance_in=7200,
        balance_ends_in=9000, deposit=2000,
    )  # fmt: skip
    page.goto("/presale/")
    page.click(f"#idea-{idea.pk} .idea-presale")
    page.wait_for_url(f"**/presale/{sale['id']}/")
    assert page.locator(".presale-countdown .countdown").count() == 1
    assert "20.00" in page.inner_text("#presale-buy")
    assert accessible(page) == []
    shot(page, "presale-02-early-access")
    page.click("#presale-buy")
    page.wait_for_url("**/orders/*/pay/")
    page.click("main button[type=submit]")
    page.wait_for_url("**/pay/sandbox/*")
    page.click("#sandbox-pay")
    page.wait_for_load_state()
    booking = Booking.objects.get(user=voter)
    assert booking.status == "paid" and booking.first_order.payable == 2000
    page.goto(f"/presale/{sale['id']}/")
    assert page.get_attribute(f"[data-booking='{booking.pk}']", "data-status") == "paid"
    shot(page, "presale-03-deposit-paid")
