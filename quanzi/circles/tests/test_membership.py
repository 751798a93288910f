"""Join policies, caps, leaving and rejoining, removal, muting — through the API."""

from __future__ import annotations

from conftest import Api
from quanzi.circles.models import Circle, Membership, MembershipEvent, MemberStatus, Post


def count(circle) -> int:
    circle.refresh_from_db()
    rows = Membership.objects.filter(circle=circle, status=MemberStatus.MEMBER).count()
    assert circle.member_count == rows  # the counter is exact
    return rows


def test_only_an_approved_owner_creates_a_circle(make_user, circle_owner, labels):
    stranger = make_user()
    body = {"name": "户外徒步", "labels": [labels["户外"].pk], "join_policy": "open"}
    refused = stranger.api.post("/circles", body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "owner_not_approved"
    made = circle_owner.api.post("/circles", body)
    assert made.status_code == 201
    circle = Circle.objects.get(pk=made.json()["id"])
    assert circle.owner == circle_owner and count(circle) == 1  # the owner is its first member


def test_open_circle_join_leave_rejoin(make_user, make_circle):
    circle = make_circle()
    shopper = make_user()
    joined = shopper.api.post(f"/circles/{circle.pk}/join", {})
    assert joined.status_code == 201 and joined.json() == {"status": "member"}
    assert shopper.api.post(f"/circles/{circle.pk}/join", {}).json() == {"status": "member"}
    assert count(circle) == 2  # joining twice is joining once
    assert shopper.api.post(f"/circles/{circle.pk}/leave").json() == {"status": "left"}
    assert count(circle) == 1
    assert shopper.api.post(f"/circles/{circle.pk}/leave").status_code == 409
    assert shopper.api.post(f"/circles/{circle.pk}/join", {}).status_code == 201
    assert count(circle) == 2
    kinds = list(
        MembershipEvent.objects.filter(circle=circle, user=shopper)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["join", "leave", "join"]
    mine = shopper.api.get("/me/circles").json()["items"]
    assert [(c["circle_id"], c["status"]) for c in mine] == [(circle.pk, "member")]


def test_invitation_circle_needs_a_members_link(make_user, make_circle):
    circle = make_circle(join_policy="invite")
    friend, stranger = make_user(), make_user()
    refused = stranger.api.post(f"/circles/{circle.pk}/join", {})
    assert refused.status_code == 403 and refused.json()["code"] == "invite_required"
    bad = stranger.api.post(f"/circles/{circle.pk}/join", {"invite_token": "nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_invite"
    # Only members hand out invitations.
    assert stranger.api.post(f"/circles/{circle.pk}/invites").status_code == 409
    owner = circle.owner
    from conftest import Api
    from quanzi.accounts.services import token_issue

    invite = Api(token_issue(user=owner)).post(f"/circles/{circle.pk}/invites").json()
    assert invite["url"].endswith(invite["token"])
    ok = friend.api.post(f"/circles/{circle.pk}/join", {"invite_token": invite["token"]})
    assert ok.status_code == 201 and ok.json()["status"] == "member"
    assert Membership.objects.get(circle=circle, user=friend).invited_by == owner
    assert count(circle) == 2


def test_approval_circle_asks_and_the_owner_decides(make_user, make_circle, circle_owner):
    circle = make_circle(join_policy="approval", question="宝宝几个月了？")
    asker, other = make_user(), make_user()
    no_answer = asker.api.post(f"/circles/{circle.pk}/join", {})
    assert no_answer.status_code == 422 and no_answer.json()["code"] == "answer_required"
    asked = asker.api.post(f"/circles/{circle.pk}/join", {"answer": "8 个月"})
    assert asked.json() == {"status": "pending"}
    assert count(circle) == 1
    # Another member cannot approve; the owner can.
    approve = f"/circles/{circle.pk}/members/{asker.pk}/approve"
    assert other.api.post(approve).status_code == 403
    pending = circle_owner.api.get(f"/circles/{circle.pk}/members?status=pending").json()
    assert [(m["user_id"], m["answer"]) for m in pending["items"]] == [(asker.pk, "8 个月")]
    assert circle_owner.api.post(approve).json()["status"] == "member"
    assert count(circle) == 2


def test_the_cap_refuses_the_next_member(make_user, make_circle):
    circle = make_circle(cap=2)
    first, second = make_user(), make_user()
    assert first.api.post(f"/circles/{circle.pk}/join", {}).status_code == 201
    full = second.api.post(f"/circles/{circle.pk}/join", {})
    assert full.status_code == 409 and full.json()["code"] == "circle_full"
    assert count(circle) == 2
    first.api.post(f"/circles/{circle.pk}/leave")
    assert second.api.post(f"/circles/{circle.pk}/join", {}).status_code == 201


def test_removed_members_cannot_rejoin_and_muted_cannot_post(
    make_user, make_circle, circle_owner, photo
):
    circle = make_circle()
    loud, rude = make_user(), make_user()
    for person in (loud, rude):
        person.api.post(f"/circles/{circle.pk}/join", {})
    post = {"title": "今天的辅食", "body": "南瓜泥", "media_ids": [photo(loud)]}
    assert loud.api.post(f"/circles/{circle.pk}/posts", post).status_code == 201
    circle_owner.api.post(f"/circles/{circle.pk}/members/{loud.pk}/mute")
    muted = loud.api.post(f"/circles/{circle.pk}/posts", {**post, "media_ids": [photo(loud)]})
    assert muted.status_code == 403 and muted.json()["code"] == "muted_in_circle"
    circle_owner.api.post(f"/circles/{circle.pk}/members/{loud.pk}/unmute")
    assert (
        loud.api.post(f"/circles/{circle.pk}/posts", {**post, "media_ids": [photo(loud)]})
    ).status_code == 201
    assert (
        circle_owner.api.post(f"/circles/{circle.pk}/members/{rude.pk}/remove").status_code == 200
    )
    again = rude.api.post(f"/circles/{circle.pk}/join", {})
    assert again.status_code == 403 and again.json()["code"] == "removed_from_circle"
    assert count(circle) == 2
    feed = loud.api.get(f"/circles/{circle.pk}/feed").json()
    assert len(feed["notes"]) == 2


def test_members_only_feed_and_pinned_announcements(make_user, make_circle, circle_owner):
    from conftest import Api

    circle = make_circle(members_only=True)
    member = make_user()
    member.api.post(f"/circles/{circle.pk}/join", {})
    said = circle_owner.api.post(f"/circles/{circle.pk}/announcements", {"body": "周五团购奶粉"})
    assert said.status_code == 201
    assert (
        member.api.post(f"/circles/{circle.pk}/announcements", {"body": "我也说"}).status_code
        == 403
    )
    assert Api().get(f"/circles/{circle.pk}/feed").status_code == 403
    feed = member.api.get(f"/circles/{circle.pk}/feed").json()
    assert [a["body"] for a in feed["announcements"]] == ["周五团购奶粉"]


def test_suspended_circle_takes_no_one_and_leaves_the_list(make_user, make_circle, operator):
    circle = make_circle()
    assert (
        operator.api.post(f"/admin/circles/{circle.pk}/suspend", {"reason": "违规"}).status_code
        == 200
    )
    shopper = make_user()
    refused = shopper.api.post(f"/circles/{circle.pk}/join", {})
    assert refused.status_code == 409 and refused.json()["code"] == "circle_suspended"
    assert shopper.api.get("/circles").json()["items"] == []
    operator.api.post(f"/admin/circles/{circle.pk}/reinstate")
    assert [c["id"] for c in shopper.api.get("/circles").json()["items"]] == [circle.pk]


def test_circles_are_found_by_label(make_user, make_circle, labels, anon):
    baby = make_circle(name="宝妈圈", label="母婴")
    hike = make_circle(name="周末徒步", label="户外")
    found = anon.get(f"/circles?label={labels['户外'].pk}").json()["items"]
    assert [c["id"] for c in found] == [hike.pk]
    assert {c["id"] for c in anon.get("/circles").json()["items"]} == {baby.pk, hike.pk}
    assert [label["name"] for label in anon.get("/circle-labels").json()] == [
        "母婴",
        "户外",
        "读书",
    ]


def test_nearest_and_recommended_circles(make_user, make_circle, anon):
    near = make_circle(name="翠苑邻里圈", label="母婴", lat=30.2790, lng=120.1330)
    far = make_circle(name="滨江邻里圈", label="母婴", lat=30.2080, lng=120.2100)
    other = make_circle(name="读书会", label="读书")
    found = anon.get("/circles/nearby?lat=30.2780&lng=120.1330").json()["items"]
    assert [i["circle"]["id"] for i in found] == [near.pk, far.pk]
    assert found[0]["distance_m"] < 200 < found[1]["distance_m"]
    assert anon.get("/circles/nearby?lat=100&lng=0").status_code == 422
    reader = make_user()
    reader.api.post(f"/circles/{near.pk}/join", {})
    picked = reader.api.get("/circles/recommended").json()["items"]
    assert [c["id"] for c in picked] == [far.pk]  # same label, not joined yet
    assert other.pk not in [c["id"] for c in picked]


def test_a_members_only_feed_stays_in_the_circle_everywhere(
    make_user, make_circle, circle_owner, photo
):
    """Posts of a members-only circle are not readable as notes by anyone else: not in the
    discovery feed, not by their address, not their comments; members and the author
    read them, and a member who leaves no longer does."""
    circle = make_circle(members_only=True)
    member, stranger = make_user(), make_user()
    member.api.post(f"/circles/{circle.pk}/join", {})
    post = {"title": "圈内消息", "body": "只给圈友看", "media_ids": [photo(member)]}
    created = member.api.post(f"/circles/{circle.pk}/posts", post)
    assert created.status_code == 201, created.content
    note_id = Post.objects.get(circle=circle).note_id

    def discover(api):
        items = api.get("/feed?kind=discover&sort=recent").json()["items"]
        return [item["id"] for item in items]

    assert member.api.get(f"/notes/{note_id}").status_code == 200
    assert note_id in discover(member.api)
    assert circle_owner.api.get(f"/notes/{note_id}").status_code == 200
    for outsider in (stranger.api, Api()):
        assert outsider.get(f"/notes/{note_id}").status_code == 404
        assert outsider.get(f"/notes/{note_id}/comments").status_code == 404
        assert note_id not in discover(outsider)
    assert stranger.api.post(f"/notes/{note_id}/like").status_code == 404
    someone = make_user()
    assert note_id not in [
        n["id"] for n in someone.api.get(f"/users/{member.pk}/notes").json()["items"]
    ]

    # Leaving the circle: the author still reads their own note, another leaver does not.
    reader = make_user()
    reader.api.post(f"/circles/{circle.pk}/join", {})
    assert reader.api.get(f"/notes/{note_id}").status_code == 200
    reader.api.post(f"/circles/{circle.pk}/leave", {})
    assert reader.api.get(f"/notes/{note_id}").status_code == 404
