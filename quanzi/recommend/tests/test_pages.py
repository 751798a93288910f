import pytest

from quanzi.recommend.models import Preference

from .helpers import events, forget


@pytest.fixture(autouse=True)
def _clean():
    forget()
    yield
    forget()


def test_push_settings_page_saves_the_choices(make_user, client):
    me = make_user()
    client.force_login(me)
    page = client.get("/me/push-settings/").content.decode()
    assert "通知设置" in page and "商品推荐" in page and "topic_recommendations" in page

    client.post(
        "/me/push-settings/",
        {
            "topic_recommendations": "on",
            "follow": "茶，咖啡",
            "never": "榴莲",
            "quiet_start": "23",
            "quiet_end": "7",
            "frequency": "daily",
            "daily_cap": "2",
        },
    )

    pref = Preference.objects.get(user=me)
    assert pref.topics["recommendations"] is True and pref.topics["promotions"] is False
    assert (pref.follow_keywords, pref.never_keywords) == (["茶", "咖啡"], ["榴莲"])
    assert (pref.quiet_start, pref.quiet_end, pref.daily_cap) == (23, 7, 2)


def test_picked_for_you_page_shows_the_list(make_user, make_product, client):
    me, other = make_user(), make_user()
    tea = make_product(title="绿茶")
    events(other, tea)
    client.force_login(me)

    page = client.get("/me/recommendations/").content.decode()

    assert "猜你喜欢" in page and f'href="/p/{tea.pk}"' in page
