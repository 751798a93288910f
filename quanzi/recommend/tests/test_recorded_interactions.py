"""Likes, favourites, opened notes and shares reach the interaction log through the apps'
own API, and what is rolled back or done twice is not counted again."""

from __future__ import annotations

from quanzi.content.tests.conftest import _media_in_tmp, photo, post_note  # noqa: F401 - fixtures
from quanzi.recommend.models import Event


def _kinds(user, product) -> list[str]:
    return sorted(
        Event.objects.filter(user_id=user.pk, product_id=product.pk).values_list("kind", flat=True)
    )


def test_a_like_a_favourite_and_an_open_count_for_the_tagged_product(
    make_user,
    make_product,
    post_note,  # noqa: F811 - the fixture
):
    author, reader = make_user(), make_user()
    product = make_product(title="面膜")
    note_id = post_note(author, products=[product])["id"]
    assert reader.api.get(f"/notes/{note_id}").status_code == 200
    assert reader.api.post(f"/notes/{note_id}/like").status_code == 200
    assert reader.api.post(f"/notes/{note_id}/like").status_code == 200  # again: no new like
    assert reader.api.post(f"/notes/{note_id}/favourite").status_code == 200
    assert _kinds(reader, product) == ["favourite", "like", "note_open"]


def test_sharing_a_product_counts_as_a_share(make_user, make_product):
    sharer = make_user()
    product = make_product(title="登山鞋")
    answer = sharer.api.post("/shares", {"target": "product", "target_id": product.pk})
    assert answer.status_code == 201, answer.content
    assert _kinds(sharer, product) == ["share"]
