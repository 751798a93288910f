"""Notes: draft → published → edited → deleted, only the author edits, images and tags."""

from __future__ import annotations

from quanzi.content.models import Note, Visibility


def test_a_published_note_shows_its_images_products_and_author(
    customer, make_user, post_note, make_product
):
    product = make_product(title="防晒霜")
    note = post_note(
        customer,
        title="夏天必备",
        body="用了一个月",
        products=[product],
        images=2,
        topics=["#防晒", "夏天"],
    )
    assert note["status"] == "published"

    reader = make_user(nickname="读者")
    body = reader.api.get(f"/notes/{note['id']}").json()

    assert body["title"] == "夏天必备" and body["topics"] == ["防晒", "夏天"]
    assert len(body["images"]) == 2 and body["images"][0]["thumb_url"]
    assert body["products"][0]["id"] == product.pk and body["products"][0]["min_price"] == 1990
    assert body["author"]["id"] == customer.pk and not body["is_author"]


def test_a_draft_is_seen_by_its_author_only_until_published(customer, make_user, post_note, anon):
    note = post_note(customer, publish=False)
    assert note["status"] == "draft"
    other = make_user()
    assert other.api.get(f"/notes/{note['id']}").status_code == 404
    assert anon.get(f"/notes/{note['id']}").status_code == 404
    assert customer.api.get(f"/notes/{note['id']}").json()["is_author"] is True

    published = customer.api.patch(f"/notes/{note['id']}", {"publish": True})

    assert published.json()["status"] == "published"
    assert other.api.get(f"/notes/{note['id']}").status_code == 200


def test_only_the_author_edits_or_deletes(customer, make_user, post_note):
    note = post_note(customer, title="原标题")
    other = make_user()

    edit = other.api.patch(f"/notes/{note['id']}", {"title": "改了"})
    delete = other.api.delete(f"/notes/{note['id']}")

    assert edit.status_code == 403 and edit.json()["code"] == "not_author"
    assert delete.status_code == 403
    assert Note.objects.get(pk=note["id"]).title == "原标题"


def test_an_edit_is_marked_and_a_deleted_note_is_gone(customer, make_user, post_note):
    note = post_note(customer)
    reader = make_user()

    customer.api.patch(f"/notes/{note['id']}", {"title": "新标题", "body": "补充"})
    body = reader.api.get(f"/notes/{note['id']}").json()
    assert body["title"] == "新标题" and body["edited_at"] is not None

    assert customer.api.delete(f"/notes/{note['id']}").status_code == 204
    assert reader.api.get(f"/notes/{note['id']}").status_code == 404
    assert customer.api.get(f"/notes/{note['id']}").status_code == 404
    assert customer.api.patch(f"/notes/{note['id']}", {"title": "x"}).status_code == 404
    assert reader.api.get(f"/users/{customer.pk}/profile").json()["notes"] == 0


def test_at_most_nine_images_and_only_ones_own(customer, make_user, photo):
    ten = [photo(customer) for _ in range(10)]
    too_many = customer.api.post("/notes", {"title": "t", "media_ids": ten})
    assert too_many.status_code == 422

    stranger = make_user()
    theirs = customer.api.post("/notes", {"title": "t", "media_ids": [photo(stranger)]})
    assert theirs.status_code == 422 and theirs.json()["code"] == "invalid_media"

    nine = customer.api.post("/notes", {"title": "t", "media_ids": ten[:9]})
    assert nine.status_code == 201


def test_a_published_note_needs_an_image_and_real_products(customer, post_note):
    bare = customer.api.post("/notes", {"title": "只有字", "publish": True})
    assert bare.status_code == 422 and bare.json()["code"] == "note_needs_image"
    unknown = customer.api.post(
        "/notes", {"title": "t", "product_ids": [999_999], "publish": False}
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_product"


def test_a_note_can_tag_a_sku(customer, photo, make_product):
    product = make_product(
        skus=[
            {"name": "50ml", "price": 9900, "supply_price": 5000, "stock": 10},
            {"name": "100ml", "price": 15900, "supply_price": 8000, "stock": 10},
        ]
    )
    big = product.skus.get(name="100ml")
    response = customer.api.post(
        "/notes", {"title": "t", "media_ids": [photo(customer)], "sku_ids": [big.pk]}
    )

    body = customer.api.get(f"/notes/{response.json()['id']}").json()
    assert body["products"] == [
        {"id": product.pk, "title": product.title, "cover": "", "min_price": 9900, "sku_id": big.pk}
    ]


def test_a_hidden_note_is_invisible_to_others(customer, make_user, post_note):
    note = post_note(customer)
    Note.objects.filter(pk=note["id"]).update(visibility=Visibility.HIDDEN)
    other = make_user()

    assert other.api.get(f"/notes/{note['id']}").status_code == 404
    assert other.api.post(f"/notes/{note['id']}/like").status_code == 404
    assert customer.api.get(f"/notes/{note['id']}").json()["visibility"] == "hidden"
