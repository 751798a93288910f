import pytest

from quanzi.recommend import serving
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


def test_add_to_cart_on_the_storefront_and_from_a_client_is_a_cart_event(
    make_user, make_product, client
):
    from django.db import transaction

    from quanzi.recommend.models import Event

    me = make_user()
    rice, tea = make_product(title="东北大米"), make_product(title="绿茶")
    client.force_login(me)
    client.post("/cart/add/", {"sku_id": rice.skus.get().pk, "qty": "2"})
    # The mini-program reports its add-to-cart to analytics (the block stands for the
    # commit the test's own wrapping transaction would otherwise hold back).
    with transaction.atomic():
        answer = me.api.post(
            "/analytics/events", {"kind": "cart", "visitor": "dev-1", "product_id": tea.pk}
        )
    assert answer.status_code == 202, answer.content
    assert sorted(Event.objects.filter(user_id=me.pk).values_list("product_id", "kind")) == sorted(
        [(rice.pk, "cart"), (tea.pk, "cart")]
    )
    # A visitor's cart is no one's interaction.
    client.logout()
    client.post("/cart/add/", {"sku_id": tea.skus.get().pk, "qty": "1"})
    assert Event.objects.count() == 2


def test_home_page_and_a_paid_order_show_picked_for_you(make_user, make_product, client, buy):
    me, other = make_user(), make_user()
    tea, rice = make_product(title="绿茶"), make_product(title="东北大米")
    events(other, tea, n=3)
    events(other, rice, n=1)
    client.force_login(me)

    # The home page reads the stored list only: none yet, no slot; the sweep's list shows.
    assert 'id="picked-home"' not in client.get("/").content.decode()
    serving.precompute_one(user_id=me.pk)
    home = client.get("/").content.decode()
    assert 'id="picked-home"' in home and f'href="/p/{tea.pk}"' in home

    order = buy(me, tea.skus.get())
    page = client.get(f"/orders/{order['id']}/").content.decode()
    slot = page[page.index('id="picked-order"') :]
    assert f'href="/p/{rice.pk}"' in slot
    assert f'href="/p/{tea.pk}"' not in slot  # what was just bought is not suggested

    client.logout()
    assert 'id="picked-home"' not in client.get("/").content.decode()


def test_an_unpaid_order_page_has_no_recommendations(make_user, make_product, client, buy):
    me, other = make_user(), make_user()
    tea = make_product(title="绿茶")
    events(other, tea, n=2)
    order = buy(me, make_product(title="大米").skus.get(), pay=False)
    client.force_login(me)
    assert 'id="picked-order"' not in client.get(f"/orders/{order['id']}/").content.decode()
