import pytest

from quanzi.recommend import blend
from quanzi.recommend.models import Hidden, Preference

from .helpers import events, forget, friends


@pytest.fixture(autouse=True)
def _clean():
    forget()
    yield
    forget()


def ids(items):
    return [s.product_id for s in items]


def test_a_friends_purchase_ranks_first_over_what_is_popular(make_user, make_product):
    me, friend, crowd = make_user(), make_user(), [make_user() for _ in range(5)]
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    for person in crowd:
        events(person, rice, n=3)
    events(friend, tea)
    friends(me, friend)

    items = blend.blend(me.pk, limit=10)

    assert ids(items)[:2] == [tea.pk, rice.pk]
    assert "friends_bought" in items[0].reasons


def test_a_friend_who_does_not_share_is_not_used(make_user, make_product):
    me, friend, stranger = make_user(), make_user(), make_user()
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    events(stranger, rice, n=3)
    events(friend, tea)
    friends(me, friend, shares=False)

    items = blend.blend(me.pk, limit=10)

    assert ids(items)[0] == rice.pk
    assert all("friends_bought" not in s.reasons for s in items)


def test_out_of_stock_hidden_bought_and_never_keywords_are_excluded(make_user, make_product):
    me, other = make_user(), make_user()
    gone = make_product(title="苹果", stock=0)
    hidden = make_product(title="梨")
    bought = make_product(title="牛奶")
    durian = make_product(title="榴莲 2kg")
    kept = make_product(title="香蕉")
    for product in (gone, hidden, bought, durian, kept):
        events(other, product, n=2)
    events(me, bought)
    Hidden.objects.create(user=me, product_id=hidden.pk)
    Preference.objects.create(user=me, never_keywords=["榴莲"])

    assert ids(blend.blend(me.pk, limit=10)) == [kept.pk]


def test_a_repeat_category_is_recommended_again(make_user, make_product, settings):
    from quanzi.catalog.models import Category

    me, other = make_user(), make_user()
    daily = Category.objects.create(name="日用")
    paper = make_product(title="纸巾")
    paper.category = daily
    paper.save()
    events(other, paper, n=2)
    events(me, paper)
    assert ids(blend.blend(me.pk, limit=10)) == []

    settings.QUANZI_RECOMMEND = {"repeat_categories": ("日用",)}
    forget()
    assert ids(blend.blend(me.pk, limit=10)) == [paper.pk]


def test_more_of_keywords_are_boosted(make_user, make_product):
    me, other = make_user(), make_user()
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    events(other, rice, n=5)
    events(other, tea, n=1)
    Preference.objects.create(user=me, follow_keywords=["茶"])

    items = blend.blend(me.pk, limit=10)

    assert ids(items) == [tea.pk, rice.pk]
    assert "your_keywords" in items[0].reasons


def test_a_newcomer_gets_what_is_popular(make_user, make_product):
    newcomer, crowd = make_user(), [make_user() for _ in range(3)]
    rice, tea, salt = (make_product(title=t) for t in ("大米", "绿茶", "盐"))
    for n, person in enumerate(crowd):
        events(person, rice, n=3)
        if n:
            events(person, tea)

    items = blend.blend(newcomer.pk, limit=10)

    assert ids(items) == [rice.pk, tea.pk]
    assert salt.pk not in ids(items)
    assert items[0].reasons == ["popular"]
