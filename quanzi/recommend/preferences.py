"""A person's push choices and recommendation keywords."""

from __future__ import annotations

from quanzi.core.errors import Invalid
from quanzi.recommend.models import TOPICS, Preference
from quanzi.recommend.push import preference_of

MAX_KEYWORD = 20


def _clean(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        if len(word) > MAX_KEYWORD:
            raise Invalid("keyword_too_long", f"a keyword is at most {MAX_KEYWORD} characters")
        if word.lower() not in (w.lower() for w in out):
            out.append(word)
    return out


def preferences_update(*, user_id: int, data: dict) -> Preference:
    pref = Preference.objects.filter(user_id=user_id).first() or Preference(user_id=user_id)
    pref.topics = {t: bool(data["topics"].get(t, False)) for t in TOPICS}
    if data.get("sms") is not None:  # left out: the texted topics stay as they were
        pref.sms_topics = {t: bool(data["sms"].get(t, False)) for t in TOPICS}
    pref.follow_keywords = _clean(data["keywords"]["follow"])
    pref.never_keywords = _clean(data["keywords"]["never"])
    pref.quiet_start = data["quiet_hours"]["start"]
    pref.quiet_end = data["quiet_hours"]["end"]
    pref.frequency = data["frequency"]
    pref.daily_cap = data["daily_cap"]
    pref.show_purchases = data["show_purchases"]
    pref.save()
    from quanzi.recommend.models import Precomputed

    Precomputed.objects.filter(user_id=user_id).delete()  # keywords change the list
    return pref


def preferences_out(*, user_id: int) -> dict:
    from quanzi.recommend.push import wants

    pref = preference_of(user_id)
    return {
        "topics": {t: wants(pref, t) for t in TOPICS},
        "sms": {t: pref.sms_topics.get(t) is True for t in TOPICS},
        "keywords": {"follow": pref.follow_keywords, "never": pref.never_keywords},
        "quiet_hours": {"start": pref.quiet_start, "end": pref.quiet_end},
        "frequency": pref.frequency,
        "daily_cap": pref.daily_cap,
        "show_purchases": pref.show_purchases,
    }
