"""Circle pages speak Chinese: every template string is in the shipped catalog."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from quanzi.storefront.tests.test_i18n import TRANS_TAG, _po_entries

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
CONTEXT = re.compile(r"""context\s+(["'])(.+?)\1""")


def test_circle_template_strings_are_in_the_catalog():
    known = {(e["msgctxt"], e["msgid"]) for e in _po_entries()}
    missing = []
    for template in TEMPLATES.rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        for match in TRANS_TAG.finditer(source):
            context = CONTEXT.search(match.group(0))
            key = (context.group(2) if context else None, match.group(2))
            if key not in known:
                missing.append(f"{template.name}: {key}")
    assert missing == []


def test_the_circle_pages_are_in_chinese(make_circle, client):
    circle = make_circle(name="宝妈互助圈")
    with translation.override("zh-hans"):
        listing = client.get("/circles/").content.decode()
        page = client.get(f"/circles/{circle.pk}/").content.decode()
    assert "搜索圈子" in listing and "1 位圈友" in listing and "自由加入" in listing
    assert "加入圈子" in page and "join_policy" not in page
