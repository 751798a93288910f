"""The in-app inbox: what other apps write with ``notify`` and what a person reads."""

from __future__ import annotations

from quanzi.notifications.models import Notification
from quanzi.notifications.services import notify


def test_notify_puts_a_message_in_the_inbox(customer):
    note = notify(
        user_id=customer.pk,
        kind="group_joined",
        title="你已参团",
        body="还差 1 人",
        data={"group_id": 7},
    )
    page = customer.api.get("/me/notifications").json()
    assert page["unread"] == 1 and page["next_cursor"] is None
    item = page["items"][0]
    assert item["id"] == note.pk and item["kind"] == "group_joined"
    assert item["title"] == "你已参团" and item["data"] == {"group_id": 7}
    assert item["read"] is False and item["read_at"] is None


def test_inbox_pages_newest_first_with_a_cursor(customer):
    for i in range(5):
        notify(user_id=customer.pk, kind="k", title=f"m{i}", body="")
    first = customer.api.get("/me/notifications?limit=2").json()
    assert [n["title"] for n in first["items"]] == ["m4", "m3"] and first["unread"] == 5
    second = customer.api.get(f"/me/notifications?limit=2&cursor={first['next_cursor']}").json()
    assert [n["title"] for n in second["items"]] == ["m2", "m1"]
    third = customer.api.get(f"/me/notifications?limit=2&cursor={second['next_cursor']}").json()
    assert [n["title"] for n in third["items"]] == ["m0"] and third["next_cursor"] is None
    assert customer.api.get("/me/notifications?cursor=bogus").json()["code"] == "invalid_cursor"


def test_marking_read_once_and_again(customer):
    note = notify(user_id=customer.pk, kind="k", title="t", body="b")
    other = notify(user_id=customer.pk, kind="k", title="t2", body="b")
    done = customer.api.post(f"/me/notifications/{note.pk}/read").json()
    assert done["read"] is True and done["read_at"]
    again = customer.api.post(f"/me/notifications/{note.pk}/read").json()
    assert again["read_at"] == done["read_at"]  # reading twice changes nothing
    page = customer.api.get("/me/notifications").json()
    assert page["unread"] == 1
    unread = customer.api.get("/me/notifications?unread_only=true").json()["items"]
    assert [n["id"] for n in unread] == [other.pk]
    assert customer.api.post("/me/notifications/read-all").json() == {"marked": 1, "unread": 0}


def test_nobody_reads_someone_elses_inbox(customer, make_user, anon):
    note = notify(user_id=customer.pk, kind="k", title="secret", body="")
    stranger = make_user()
    assert stranger.api.get("/me/notifications").json()["items"] == []
    response = stranger.api.post(f"/me/notifications/{note.pk}/read")
    assert response.status_code == 404 and response.json()["code"] == "notification_not_found"
    assert Notification.objects.get(pk=note.pk).read_at is None
    assert anon.get("/me/notifications").status_code == 401
