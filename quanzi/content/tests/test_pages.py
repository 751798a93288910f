"""Storefront and dashboard pages of content commerce."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from quanzi.content.models import Note, SensitiveWord
from quanzi.content.tests.conftest import image_bytes
from quanzi.distribution.tests.conftest import complete


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_feed_shows_two_columns_of_note_cards(customer, post_note):
    post_note(customer, title="春季穿搭")
    page = _client().get("/notes/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="masonry"' in html and "春季穿搭" in html and 'class="note-card"' in html


def test_posting_a_note_with_two_photos_and_a_product_through_the_form(customer, make_product):
    product = make_product(title="保温杯")
    client = _client(customer)
    assert "保温杯" in client.get(f"/notes/new/?product={product.pk}").content.decode()

    response = client.post(
        "/notes/new/",
        {
            "title": "通勤好物",
            "body": "一整天都是热的",
            "topics": "#好物 通勤",
            "product_ids": [str(product.pk)],
            "action": "publish",
            "images": [
                SimpleUploadedFile("a.jpg", image_bytes(), content_type="image/jpeg"),
                SimpleUploadedFile("b.png", image_bytes("PNG"), content_type="image/png"),
            ],
        },
    )

    note = Note.objects.get(title="通勤好物")
    assert response.status_code == 302 and response["Location"] == f"/n/{note.pk}"
    assert note.media_links.count() == 2 and note.topics == ["好物", "通勤"]
    html = _client().get(f"/n/{note.pk}").content.decode()
    assert "保温杯" in html and f"/n/{note.pk}/go/{product.pk}" in html


def test_a_bad_photo_on_the_form_is_a_message_not_an_error_page(customer):
    response = _client(customer).post(
        "/notes/new/",
        {
            "title": "t",
            "action": "publish",
            "images": [SimpleUploadedFile("x.jpg", b"not an image")],
        },
    )
    assert response.status_code == 422
    assert not Note.objects.exists()


def test_the_buy_link_of_a_note_counts_the_click_and_opens_the_product(
    customer, make_user, post_note, make_product
):
    product = make_product()
    note = post_note(customer, products=[product])
    response = _client(make_user()).get(f"/n/{note['id']}/go/{product.pk}")
    assert response.status_code == 302 and response["Location"] == f"/p/{product.pk}"
    assert Note.objects.get(pk=note["id"]).click_count == 1


def test_like_follow_and_comment_from_the_pages(customer, make_user, post_note):
    note = post_note(customer)
    fan = _client(make_user(nickname="粉丝"))
    fan.post(f"/n/{note['id']}/like")
    fan.post(f"/u/{customer.pk}/follow", {"next": f"/n/{note['id']}"})
    fan.post(f"/n/{note['id']}/comment", {"body": "太好看了"})

    html = _client().get(f"/n/{note['id']}").content.decode()
    assert "太好看了" in html and '<span data-count="likes">1</span>' in html
    profile = _client().get(f"/u/{customer.pk}").content.decode()
    assert '<b data-count="followers">1</b>' in profile
    followers = _client().get(f"/u/{customer.pk}?tab=followers").content.decode()
    assert "粉丝" in followers


def test_the_product_page_shows_reviews_with_photos_and_notes(
    people, pay, make_product, photo, post_note
):
    (buyer,) = people(1)
    product = make_product(title="蓝牙耳机")
    order = complete(pay(buyer, [(product.skus.get(), 1)]))
    line = order.lines.get()
    html = _client(buyer).get(f"/p/{product.pk}").content.decode()
    assert f"/review/{order.pk}/{line.pk}/" in html  # the buyer is invited to review

    _client(buyer).post(
        f"/review/{order.pk}/{line.pk}/",
        {"rating": "4", "body": "音质不错", "images": [SimpleUploadedFile("r.jpg", image_bytes())]},
    )
    post_note(buyer, title="耳机开箱", products=[product])

    html = _client().get(f"/p/{product.pk}").content.decode()
    assert "音质不错" in html and "★★★★☆" in html and 'class="review-photos"' in html
    assert "耳机开箱" in html


def test_the_creator_centre_page_applies_and_then_shows_stats(customer):
    client = _client(customer)
    assert 'name="intro"' in client.get("/me/creator/").content.decode()

    client.post("/me/creator/", {"intro": "美食"})

    customer.refresh_from_db()
    assert customer.creator.status == "applied"
    assert 'name="intro"' not in client.get("/me/creator/").content.decode()


def test_dashboard_pages_are_for_operators(operator, customer, post_note):
    SensitiveWord.objects.create(word="微信", action="hold")
    held = post_note(customer, title="加微信")
    assert held["visibility"] == "held"
    client = _client(customer)
    client.post("/me/creator/", {"intro": "x"})

    assert _client(customer).get("/dashboard/content/").status_code == 403
    staff = _client(operator)
    queue = staff.get("/dashboard/content/").content.decode()
    assert "加微信" in queue
    staff.post(f"/dashboard/content/note/{held['id']}/restore/")
    assert Note.objects.get(pk=held["id"]).visibility == "visible"
    assert customer.nickname in staff.get("/dashboard/content/creators/").content.decode()
    staff.post(f"/dashboard/content/creators/{customer.pk}/approve/")
    customer.refresh_from_db()
    assert customer.is_creator
    staff.post("/dashboard/content/words/", {"words": "代购\n刷单", "action": "refuse"})
    assert set(SensitiveWord.objects.filter(action="refuse").values_list("word", flat=True)) == {
        "代购",
        "刷单",
    }
