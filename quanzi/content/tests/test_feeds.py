"""Feeds: following newest first, discovery by likes in a window, cursors, and nothing
hidden, held, draft or deleted ever shown."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.content.models import Note, Visibility


def _titles(page):
    return [item["title"] for item in page["items"]]


def test_the_following_feed_is_newest_first_and_pages_with_a_cursor(make_user, post_note):
    reader, star, other = make_user(), make_user(nickname="达人"), make_user()
    reader.api.post(f"/users/{star.pk}/follow")
    for i in range(5):
        post_note(star, title=f"第{i}篇")
    post_note(other, title="不关注的人")
    # A draft published later comes first: the order is by publication.
    late = post_note(star, title="晚发布", publish=False)
    star.api.patch(f"/notes/{late['id']}", {"publish": True})

    first = reader.api.get("/feed?kind=following&limit=3").json()
    second = reader.api.get(f"/feed?kind=following&limit=3&cursor={first['next_cursor']}").json()

    assert _titles(first) == ["晚发布", "第4篇", "第3篇"]
    assert _titles(second) == ["第2篇", "第1篇", "第0篇"]
    assert second["next_cursor"] is None
    assert all(item["author"]["id"] == star.pk for item in first["items"] + second["items"])


def test_discovery_ranks_the_windows_notes_by_likes(make_user, post_note):
    author = make_user()
    fans = [make_user() for _ in range(3)]
    quiet, loved, liked = (post_note(author, title=t) for t in ("冷门", "爆款", "还行"))
    old = post_note(author, title="旧的")
    Note.objects.filter(pk=old["id"]).update(published_at=timezone.now() - timedelta(days=30))
    for fan in fans:
        fan.api.post(f"/notes/{loved['id']}/like")
        fan.api.post(f"/notes/{old['id']}/like")
    fans[0].api.post(f"/notes/{liked['id']}/like")

    hot = fans[0].api.get("/feed?kind=discover&limit=2").json()
    rest = fans[0].api.get(f"/feed?kind=discover&limit=2&cursor={hot['next_cursor']}").json()
    recent = fans[0].api.get("/feed?kind=discover&sort=recent").json()

    assert _titles(hot) == ["爆款", "还行"] and hot["items"][0]["liked"] is True
    assert _titles(rest) == ["冷门"] and rest["next_cursor"] is None
    assert _titles(recent) == ["还行", "爆款", "冷门"]
    assert quiet["id"] != old["id"]


def test_hidden_held_draft_and_deleted_notes_never_reach_a_feed(make_user, post_note):
    reader, author = make_user(), make_user()
    reader.api.post(f"/users/{author.pk}/follow")
    shown = post_note(author, title="正常")
    hidden = post_note(author, title="被隐藏")
    held = post_note(author, title="待审核")
    post_note(author, title="草稿", publish=False)
    deleted = post_note(author, title="删掉")
    Note.objects.filter(pk=hidden["id"]).update(visibility=Visibility.HIDDEN)
    Note.objects.filter(pk=held["id"]).update(visibility=Visibility.HELD)
    author.api.delete(f"/notes/{deleted['id']}")

    for kind in ("following", "discover"):
        assert _titles(reader.api.get(f"/feed?kind={kind}").json()) == ["正常"]
    assert _titles(reader.api.get(f"/users/{author.pk}/notes").json()) == ["正常"]
    own = _titles(author.api.get("/me/notes").json())
    assert set(own) == {"正常", "被隐藏", "待审核", "草稿"}
    assert shown["id"]


def test_a_bad_cursor_is_a_422(customer, anon):
    response = anon.get("/feed?kind=following&cursor=bm9wZQ")
    assert anon.get("/feed?kind=following").json() == {"items": [], "next_cursor": None}
    response = customer.api.get("/feed?kind=following&cursor=bm9wZQ")
    assert response.status_code == 422 and response.json()["code"] == "invalid_cursor"


def test_the_feed_reads_a_fixed_number_of_queries(
    make_user, post_note, django_assert_max_num_queries
):
    reader = make_user()
    for i in range(8):
        author = make_user()
        post_note(author, title=f"n{i}", images=2)
        reader.api.post(f"/users/{author.pk}/follow")

    with django_assert_max_num_queries(12):
        page = reader.api.get("/feed?kind=following").json()
    assert len(page["items"]) == 8
