"""``quanzi demo`` has a partner whose ``partner_link`` command prints a working link;
the landing page speaks Chinese; the sweep forgets spent nonces."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from quanzi.storefront.tests.test_i18n import TRANS_TAG, _po_entries

CONTEXT = re.compile(r"""context\s+(["'])(.+?)\1""")


def test_the_demo_partner_link_brings_a_member_to_partner_prices(db, settings, tmp_path):
    from quanzi.core.demo import demo_load
    from quanzi.partners.models import PartnerMember, PartnerPrice

    settings.MEDIA_ROOT = tmp_path / "media"
    assert demo_load() is True
    assert PartnerPrice.objects.filter(partner__code="cmb").count() == 4
    out = io.StringIO()
    call_command("partner_link", "--uid", "6225880000000009", "--level", "platinum", stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("http://127.0.0.1:8000/p/cmb?token=")
    client = Client()
    token = link.split("token=")[1]
    with translation.override("zh-hans"):
        page = client.post("/p/cmb", {"token": token}, follow=True).content.decode()
    assert "白金卡" in page and "立即购买" in page
    assert PartnerMember.objects.get(uid="6225880000000009").level.code == "platinum"


def test_partner_template_strings_are_in_the_catalog():
    known = {(e["msgctxt"], e["msgid"]) for e in _po_entries()}
    missing = []
    templates = Path(__file__).resolve().parents[1] / "templates"
    for template in templates.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        for match in TRANS_TAG.finditer(source):
            context = CONTEXT.search(match.group(0))
            key = (context.group(2) if context else None, match.group(2))
            if key not in known:
                missing.append(f"{template.name}: {key}")
    assert missing == []


def test_the_sweep_forgets_spent_nonces_and_dead_codes(bank, token):
    from conftest import Api
    from quanzi.partners.arrivals import code_issue
    from quanzi.partners.jobs import partners_forget_expired
    from quanzi.partners.models import PartnerCode, PartnerNonce
    from quanzi.partners.tests.conftest import arrive

    arrive(Api(), token())
    code_issue(partner=bank, uid="dead", level="gold")
    assert partners_forget_expired() == 0
    later = timezone.now() + timedelta(days=2)
    assert partners_forget_expired(now=later) == 2
    assert not PartnerNonce.objects.exists() and not PartnerCode.objects.exists()
