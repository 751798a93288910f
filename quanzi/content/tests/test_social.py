"""Follows, likes, favourites and comments, with their counts."""

from __future__ import annotations


def test_nobody_follows_themself(customer):
    response = customer.api.post(f"/users/{customer.pk}/follow")
    assert response.status_code == 422 and response.json()["code"] == "follow_self"


def test_follow_and_unfollow_keep_both_profiles_counted(make_user):
    alice, bob, carol = make_user(nickname="A"), make_user(nickname="B"), make_user(nickname="C")

    assert alice.api.post(f"/users/{bob.pk}/follow").json()["followers"] == 1
    alice.api.post(f"/users/{bob.pk}/follow")  # twice is once
    carol.api.post(f"/users/{bob.pk}/follow")
    alice.api.post(f"/users/{carol.pk}/follow")

    profile = alice.api.get(f"/users/{bob.pk}/profile").json()
    assert (profile["followers"], profile["following"], profile["followed_by_me"]) == (2, 0, True)
    assert alice.api.get(f"/users/{alice.pk}/profile").json()["following"] == 2
    followers = alice.api.get(f"/users/{bob.pk}/followers").json()["items"]
    assert [p["nickname"] for p in followers] == ["C", "A"]
    following = alice.api.get(f"/users/{alice.pk}/following").json()["items"]
    assert {p["id"] for p in following} == {bob.pk, carol.pk}

    assert alice.api.delete(f"/users/{bob.pk}/follow").json()["followers"] == 1
    alice.api.delete(f"/users/{bob.pk}/follow")  # twice is once
    assert alice.api.get(f"/users/{bob.pk}/profile").json()["followers"] == 1
    assert alice.api.get(f"/users/{alice.pk}/profile").json()["following"] == 1


def test_likes_and_favourites_count_each_person_once(customer, make_user, post_note):
    note = post_note(customer)
    fans = [make_user() for _ in range(3)]

    for fan in fans:
        fan.api.post(f"/notes/{note['id']}/like")
    again = fans[0].api.post(f"/notes/{note['id']}/like").json()
    fans[0].api.post(f"/notes/{note['id']}/favourite")

    assert again["like_count"] == 3 and again["liked"] is True
    after = fans[1].api.delete(f"/notes/{note['id']}/like").json()
    assert after["like_count"] == 2 and after["liked"] is False
    assert fans[1].api.delete(f"/notes/{note['id']}/like").json()["like_count"] == 2
    assert fans[0].api.get(f"/notes/{note['id']}").json()["favourite_count"] == 1
    assert fans[0].api.get(f"/users/{customer.pk}/profile").json()["likes_received"] == 2


def test_comments_and_replies(customer, make_user, post_note):
    note = post_note(customer)
    friend = make_user(nickname="朋友")

    first = friend.api.post(f"/notes/{note['id']}/comments", {"body": "在哪买的？"}).json()
    reply = customer.api.post(
        f"/notes/{note['id']}/comments", {"body": "点下面的商品", "reply_to": first["id"]}
    ).json()
    nested = friend.api.post(
        f"/notes/{note['id']}/comments", {"body": "谢谢", "reply_to": reply["id"]}
    ).json()

    assert reply["reply_to"] == first["id"]
    assert nested["reply_to"] == first["id"]  # replies stay one level deep
    listed = friend.api.get(f"/notes/{note['id']}/comments").json()["items"]
    assert [c["body"] for c in listed] == ["在哪买的？", "点下面的商品", "谢谢"]
    assert friend.api.get(f"/notes/{note['id']}").json()["comment_count"] == 3

    assert customer.api.delete(f"/comments/{first['id']}").status_code == 403
    assert friend.api.delete(f"/comments/{first['id']}").status_code == 204
    assert friend.api.get(f"/notes/{note['id']}").json()["comment_count"] == 2


def test_a_reply_to_a_comment_of_another_note_is_refused(customer, make_user, post_note):
    one, two = post_note(customer), post_note(customer)
    friend = make_user()
    comment = friend.api.post(f"/notes/{one['id']}/comments", {"body": "好看"}).json()

    response = friend.api.post(
        f"/notes/{two['id']}/comments", {"body": "x", "reply_to": comment["id"]}
    )

    assert response.status_code == 404
