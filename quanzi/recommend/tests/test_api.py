import pytest

from quanzi.recommend.models import Event

from .helpers import events, forget, friends


@pytest.fixture(autouse=True)
def _clean():
    forget()
    yield
    forget()


def test_recommendations_api_lists_cards_and_hides_on_request(make_user, make_product, anon):
    me, other = make_user(), make_user()
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    events(other, rice, n=3)
    events(other, tea)

    answer = me.api.get("/me/recommendations?limit=5")
    assert answer.status_code == 200
    assert [i["product_id"] for i in answer.json()["items"]] == [rice.pk, tea.pk]
    assert answer.json()["items"][0]["title"] == "大米"

    assert me.api.post(f"/me/recommendations/{rice.pk}/hide").status_code == 200
    after = me.api.get("/me/recommendations").json()["items"]
    assert [i["product_id"] for i in after] == [tea.pk]

    assert me.api.get("/me/recommendations?limit=0").status_code == 422
    assert me.api.post("/me/recommendations/999999/hide").status_code == 404
    assert anon.get("/me/recommendations").status_code == 401


def test_preferences_round_trip_and_reject_long_keywords(make_user):
    me = make_user()
    assert me.api.get("/me/notification-preferences").json()["topics"]["promotions"] is False

    body = {
        "topics": {"recommendations": True},
        "keywords": {"follow": ["茶", "茶 "], "never": ["榴莲"]},
        "quiet_hours": {"start": 23, "end": 7},
        "frequency": "daily",
        "daily_cap": 1,
        "show_purchases": True,
    }
    saved = me.api.put("/me/notification-preferences", body)
    assert saved.status_code == 200
    got = saved.json()
    assert got["topics"]["recommendations"] is True and got["topics"]["promotions"] is False
    assert got["keywords"] == {"follow": ["茶"], "never": ["榴莲"]}
    assert got["quiet_hours"] == {"start": 23, "end": 7}

    body["keywords"]["never"] = ["很" * 21]
    assert me.api.put("/me/notification-preferences", body).status_code == 422
    body["quiet_hours"]["start"] = 24
    assert me.api.put("/me/notification-preferences", body).status_code == 422


def test_friends_bought_shows_only_friends_who_allow_it(make_user, make_product, client):
    me, open_friend, shy_friend = (
        make_user(),
        make_user(nickname="阿明"),
        make_user(nickname="阿秀"),
    )
    open_friend.avatar = "/media/a.png"
    open_friend.save()
    tea = make_product(title="绿茶")
    friends(me, open_friend, shares=True)
    friends(me, shy_friend, shares=False)
    events(open_friend, tea)
    events(shy_friend, tea)

    answer = me.api.get(f"/products/{tea.pk}/friends-bought").json()
    assert answer["items"] == [
        {"user_id": open_friend.pk, "nickname": "阿明", "avatar": "/media/a.png"}
    ]

    client.force_login(me)
    page = client.get(f"/p/{tea.pk}").content.decode()
    assert 'id="friends-bought"' in page and "阿明" in page and "阿秀" not in page
    assert "/media/a.png" in page


def test_a_paid_order_is_recorded_as_an_interaction(make_user, sku, buy):
    me = make_user()
    buy(me, sku)
    assert Event.objects.filter(user_id=me.pk, product_id=sku.product_id, kind="order").exists()


def test_old_events_are_pruned(make_user, make_product):
    from quanzi.recommend.events import events_prune

    me, tea = make_user(), make_product()
    events(me, tea, days_ago=400)
    events(me, tea, days_ago=1)
    assert events_prune() == 1
    assert Event.objects.count() == 1
