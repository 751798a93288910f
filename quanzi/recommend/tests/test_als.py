import pytest

from quanzi.recommend import als, blend, serving
from quanzi.recommend.models import ModelVersion

from .helpers import events, forget


@pytest.fixture(autouse=True)
def _clean():
    forget()
    yield
    forget()


def test_als_learns_taste_and_the_new_model_is_swapped_in(make_user, make_product, settings):
    settings.QUANZI_RECOMMEND = {
        "weights": {"als": 1.0, "friends": 0, "community": 0, "popular": 0},
        "factors": 4,
        "iterations": 20,
    }
    teas = [make_product(title=f"茶 {n}") for n in range(4)]
    rice = [make_product(title=f"米 {n}") for n in range(4)]
    tea_people = [make_user() for _ in range(6)]
    rice_people = [make_user() for _ in range(6)]
    for person in tea_people:
        for product in teas:
            events(person, product)
    for person in rice_people:
        for product in rice:
            events(person, product)
    me = make_user()
    for product in teas[:3]:
        events(me, product)

    first = als.model_train()
    items = blend.blend(me.pk, limit=1)
    assert [s.product_id for s in items] == [teas[3].pk]
    assert items[0].reasons == ["similar_taste"]

    second = als.model_train()
    assert ModelVersion.objects.filter(is_active=True).get().pk == second.pk != first.pk
    assert als.active_factors(fresh=True).version == second.pk


def test_precomputed_list_is_served_and_rechecked_for_stock(make_user, make_product):
    me, other = make_user(), make_user()
    rice, tea = make_product(title="大米"), make_product(title="绿茶")
    events(other, rice, n=3)
    events(other, tea)
    events(me, rice, kind="view")  # a view makes me active, and is no purchase

    assert serving.precompute_all() >= 1
    assert [s.product_id for s in serving.recommendations_for(user_id=me.pk, limit=5)] == [
        rice.pk,
        tea.pk,
    ]

    rice.skus.update(is_active=False)  # no SKU on sale: out of stock
    assert [s.product_id for s in serving.recommendations_for(user_id=me.pk, limit=5)] == [tea.pk]
