"""The moderation interface keeps the strictest verdict and never depends on a checker being up."""

from __future__ import annotations

import pytest

from quanzi.core import moderation
from quanzi.core.moderation import HOLD, REFUSE, Verdict


class _Words:
    def __init__(self, name, words, action):
        self.name, self.words, self.action = name, words, action

    def check(self, text, *, kind, user_id):
        hits = tuple(w for w in self.words if w in text)
        return Verdict(self.action, hits) if hits else Verdict()


class _Broken:
    name = "broken"

    def check(self, text, *, kind, user_id):
        raise RuntimeError("provider down")


@pytest.fixture
def checkers():
    saved = dict(moderation._checkers)
    moderation._checkers.clear()
    yield moderation
    moderation._checkers.clear()
    moderation._checkers.update(saved)


def test_strictest_verdict_wins_and_names_reasons(checkers):
    checkers.register_text_checker(_Words("hold", ["代购"], HOLD))
    checkers.register_text_checker(_Words("refuse", ["赌博"], REFUSE))
    assert checkers.check_text("正品代购", kind="note").held
    verdict = checkers.check_text("代购赌博", kind="note")
    assert verdict.refused
    assert set(verdict.reasons) == {"代购", "赌博"}
    assert checkers.check_text("今天天气好", kind="note").allowed


def test_broken_checker_is_skipped_and_others_still_decide(checkers):
    checkers.register_text_checker(_Broken())
    checkers.register_text_checker(_Words("refuse", ["赌博"], REFUSE))
    assert checkers.check_text("赌博", kind="comment").refused
    assert checkers.check_text("你好", kind="comment").allowed


def test_require_publishable_refuses_with_422(checkers):
    checkers.register_text_checker(_Words("refuse", ["赌博"], REFUSE))
    with pytest.raises(checkers.ContentRefused) as err:
        checkers.text_require_publishable("来赌博", kind="nickname", field_name="nickname")
    assert err.value.status == 422
    assert err.value.detail == {"field": "nickname", "reasons": ["赌博"]}
    assert checkers.text_require_publishable("你好", kind="nickname").allowed
