"""The shipped Chinese catalog is complete, compiled, and covers the templates' strings,
so the shop speaks Chinese first without any build step."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

QUANZI = Path(__file__).resolve().parents[2]
PO = QUANZI / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
TRANS_TAG = re.compile(
    r"""{%\s*trans\s+(["'])(.+?)\1\s*(?:context\s+(["']).+?\3\s*)?(?:as\s+\w+\s*)?%}"""
)


def _po_entries() -> list[dict]:
    """A small reader of the .po: msgid, msgid_plural, msgstr(s), flags per entry."""
    entries, current, key = [], None, None
    for raw in PO.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, key = None, None
            continue
        if current is None:
            current = {
                "flags": "",
                "msgctxt": None,
                "msgid": "",
                "msgid_plural": None,
                "msgstr": [],
            }
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            key, current["msgctxt"] = "msgctxt", ast.literal_eval(line[8:])
        elif line.startswith("msgid_plural "):
            key, current["msgid_plural"] = "msgid_plural", ast.literal_eval(line[13:])
        elif line.startswith("msgid "):
            key, current["msgid"] = "msgid", ast.literal_eval(line[6:])
        elif line.startswith("msgstr"):
            key = "msgstr"
            current["msgstr"].append(ast.literal_eval(line.split(" ", 1)[1]))
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                current["msgstr"][-1] += value
            else:
                current[key] += value
    return [e for e in entries if e["msgid"]]


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = _po_entries()
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert (untranslated, fuzzy) == ([], []), (
        "translate them: cd quanzi && django-admin makemessages -l zh_Hans, fill in the "
        "msgstr of these entries, then django-admin compilemessages"
    )


def test_the_compiled_catalog_matches_the_po():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = []
    for entry in _po_entries():
        if entry["msgctxt"]:
            got = catalog.pgettext(entry["msgctxt"], entry["msgid"])
        elif entry["msgid_plural"]:
            got = catalog.ngettext(entry["msgid"], entry["msgid_plural"], 2)
        else:
            got = catalog.gettext(entry["msgid"])
        if got != entry["msgstr"][0]:
            stale.append(entry["msgid"])
    assert stale == [], "run compilemessages: the .mo is older than the .po"


def test_template_strings_are_in_the_catalog():
    known = {e["msgid"] for e in _po_entries()}
    missing = []
    for app in ("storefront", "dashboard"):
        for template in (QUANZI / app / "templates").rglob("*.html"):
            for _quote, text, _ctx_quote in TRANS_TAG.findall(template.read_text(encoding="utf-8")):
                if text not in known:
                    missing.append(f"{template.name}: {text}")
    assert missing == []
