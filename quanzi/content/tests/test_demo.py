"""``quanzi demo`` has creators with notes that use the demo products' pictures."""

from __future__ import annotations


def test_the_demo_feed_is_alive(db, anon, settings, tmp_path):
    from quanzi.core.demo import DEMO_CUSTOMER, demo_load

    settings.MEDIA_ROOT = tmp_path / "media"
    assert demo_load() is True

    feed = anon.get("/feed?kind=discover").json()["items"]
    assert len(feed) >= 6 and all(card["cover"] for card in feed)
    note = anon.get(f"/notes/{feed[0]['id']}").json()
    assert note["products"] and note["author"]["nickname"]
    from conftest import Api
    from quanzi.accounts.models import User
    from quanzi.accounts.services import token_issue

    customer = User.objects.get(phone=DEMO_CUSTOMER[0])
    following = Api(token_issue(user=customer)).get("/feed?kind=following").json()["items"]
    assert following
