"""A partner arrival in a real browser (390×844): the bank's link, the confirmation,
the level's prices, checkout at the partner price."""

from __future__ import annotations

import pytest

from quanzi.partners.models import PartnerMember
from quanzi.storefront.tests.browser import accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bank_user_arrives_and_sees_and_pays_the_partner_price(
    new_phone, bank, priced, token, make_address
):
    page = new_phone()
    page.goto(f"/p/bank?token={token(level='gold', uid='card-1')}")
    assert "某某银行" in page.inner_text("main")
    assert accessible(page) == []
    shot(page, "partners-01-arrival")
    page.click("#partner-confirm")
    page.wait_for_url("**/p/bank")
    rice = page.locator(f".partner-offer[data-sku='{priced['rice'].pk}'][data-level='gold']")
    assert "¥18.00" in rice.inner_text() and "¥19.90" in rice.inner_text()
    assert "金卡" in page.inner_text("main")
    shot(page, "partners-02-prices")
    member = PartnerMember.objects.get(uid="card-1")
    make_address(member.user)
    rice.locator("button[type=submit]").click()
    page.wait_for_url("**/checkout/")
    assert "18.00" in page.inner_text("main").replace("\n", "")
