"""Content's pages speak Chinese: every template string is in the shipped catalog."""

from __future__ import annotations

from pathlib import Path

from django.utils import translation

from quanzi.storefront.tests.test_i18n import TRANS_TAG, _po_entries

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_content_template_strings_are_in_the_catalog():
    known = {e["msgid"] for e in _po_entries()}
    missing = [
        f"{template.name}: {text}"
        for template in TEMPLATES.rglob("*.html")
        for _quote, text, _ctx_quote in TRANS_TAG.findall(template.read_text(encoding="utf-8"))
        if text not in known
    ]
    assert missing == []


def test_the_feed_page_is_in_chinese(db, client):
    with translation.override("zh-hans"):
        html = client.get("/notes/").content.decode()
    assert "发笔记" in html and "种草" in html
