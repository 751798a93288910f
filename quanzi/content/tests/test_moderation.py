"""The sensitive-word list, reports and the operator's queue."""

from __future__ import annotations

from quanzi.content.models import Note
from quanzi.content.moderation import moderate, word_add
from quanzi.core.moderation import check_text


def test_words_match_inside_chinese_text_without_spaces(db):
    word_add(word="微信", action="hold")
    word_add(word="代开发票", action="refuse")

    assert check_text("加我微信领红包", kind="note").held
    assert check_text("可以代开发票哦", kind="comment").refused
    assert check_text("微 信", kind="note").held  # spaces slipped in do not hide it
    assert check_text("ＷＸ号见主页", kind="note").allowed  # unrelated text
    verdict = check_text("微信代开发票", kind="note")
    assert verdict.refused and set(verdict.reasons) == {"word:微信", "word:代开发票"}
    assert check_text("今天天气很好", kind="note").allowed


def test_full_width_and_upper_case_forms_match(db):
    word_add(word="vx", action="hold")
    assert check_text("加ＶＸ：abc", kind="nickname").held


def test_a_refused_word_stops_the_note_and_the_comment(customer, make_user, post_note, operator):
    operator.api.post("/admin/sensitive-words", {"word": "赌博", "action": "refuse"})
    response = customer.api.post("/notes", {"title": "网上赌博赚钱", "publish": False})
    assert response.status_code == 422 and response.json()["code"] == "content_refused"

    note = post_note(customer)
    comment = make_user().api.post(f"/notes/{note['id']}/comments", {"body": "来赌博吧"})
    assert comment.status_code == 422


def test_held_content_appears_only_after_the_operator_restores_it(
    customer, make_user, post_note, operator
):
    operator.api.post("/admin/sensitive-words", {"word": "私聊", "action": "hold"})
    reader = make_user()
    reader.api.post(f"/users/{customer.pk}/follow")

    note = post_note(customer, title="价格私聊")

    assert note["visibility"] == "held"
    assert reader.api.get(f"/notes/{note['id']}").status_code == 404
    assert reader.api.get("/feed?kind=following").json()["items"] == []
    assert reader.api.get(f"/users/{customer.pk}/profile").json()["notes"] == 0
    queue = operator.api.get("/admin/moderation/queue").json()["items"]
    assert [(i["target"], i["target_id"], i["reasons"]) for i in queue] == [
        ("note", note["id"], ["word:私聊"])
    ]

    restored = operator.api.post(f"/admin/moderation/note/{note['id']}/restore")

    assert restored.json()["visibility"] == "visible"
    assert reader.api.get(f"/notes/{note['id']}").status_code == 200
    assert [i["id"] for i in reader.api.get("/feed?kind=following").json()["items"]] == [note["id"]]
    assert reader.api.get(f"/users/{customer.pk}/profile").json()["notes"] == 1
    assert operator.api.get("/admin/moderation/queue").json()["items"] == []


def test_a_held_comment_counts_only_once_restored(customer, make_user, post_note, operator):
    word_add(word="加群", action="hold")
    note = post_note(customer)
    friend = make_user()
    held = friend.api.post(f"/notes/{note['id']}/comments", {"body": "想加群"}).json()

    assert held["visibility"] == "held"
    assert customer.api.get(f"/notes/{note['id']}").json()["comment_count"] == 0
    assert customer.api.get(f"/notes/{note['id']}/comments").json()["items"] == []
    assert [c["id"] for c in friend.api.get(f"/notes/{note['id']}/comments").json()["items"]] == [
        held["id"]
    ]

    operator.api.post(f"/admin/moderation/comment/{held['id']}/restore")
    assert customer.api.get(f"/notes/{note['id']}").json()["comment_count"] == 1


def test_reports_reach_the_queue_and_hiding_removes_the_note_and_its_counts(
    customer, make_user, post_note, operator
):
    note = post_note(customer)
    fans = [make_user() for _ in range(2)]
    for fan in fans:
        fan.api.post(f"/notes/{note['id']}/like")
        assert (
            fan.api.post(
                "/reports", {"target": "note", "target_id": note["id"], "reason": "广告"}
            ).status_code
            == 201
        )
    fans[0].api.post("/reports", {"target": "note", "target_id": note["id"]})  # once per person
    assert (
        customer.api.post("/reports", {"target": "note", "target_id": note["id"]}).status_code
        == 422
    )

    queue = operator.api.get("/admin/moderation/queue").json()["items"]
    assert [(i["target_id"], i["reports"], i["visibility"]) for i in queue] == [
        (note["id"], 2, "visible")
    ]
    assert fans[0].api.get(f"/users/{customer.pk}/profile").json()["likes_received"] == 2

    operator.api.post(f"/admin/moderation/note/{note['id']}/hide")

    assert fans[0].api.get(f"/notes/{note['id']}").status_code == 404
    assert fans[0].api.get("/feed?kind=discover").json()["items"] == []
    profile = fans[0].api.get(f"/users/{customer.pk}/profile").json()
    assert (profile["notes"], profile["likes_received"]) == (0, 2 - 2)
    assert operator.api.get("/admin/moderation/queue").json()["items"] == []
    again = operator.api.post(f"/admin/moderation/note/{note['id']}/hide")
    assert again.status_code == 409


def test_an_author_cannot_unhide_by_editing(customer, post_note, operator):
    note = post_note(customer)
    operator.api.post(f"/admin/moderation/note/{note['id']}/hide")
    customer.api.patch(f"/notes/{note['id']}", {"title": "改个标题"})
    assert Note.objects.get(pk=note["id"]).visibility == "hidden"


def test_only_operators_moderate(customer, post_note, make_user):
    note = post_note(customer)
    other = make_user()
    assert other.api.get("/admin/moderation/queue").status_code == 403
    assert other.api.post(f"/admin/moderation/note/{note['id']}/hide").status_code == 403
    assert other.api.post("/admin/sensitive-words", {"word": "x"}).status_code == 403


def test_moderate_restores_and_hides_reviews_too(db, operator, make_user):
    import pytest

    from quanzi.core.errors import NotFound

    with pytest.raises(NotFound):
        moderate(operator=operator, target="review", target_id=12345, action="hide")


def test_a_nickname_with_a_listed_word_is_refused_at_sign_up_and_on_the_profile(anon, customer):
    from django.test import Client

    word_add(word="客服", action="hold")

    response = anon.post(
        "/auth/register",
        {"phone": "13955556666", "password": "secret123", "nickname": "官方客服小王"},
    )
    assert response.status_code == 422 and response.json()["code"] == "content_refused"

    client = Client()
    client.force_login(customer)
    page = client.post("/me/profile/", {"nickname": "在线客服"})
    customer.refresh_from_db()
    assert page.status_code == 200 and customer.nickname == "小红"
