"""Counts stay exact with 32 parallel clients (PostgreSQL, real threads)."""

from __future__ import annotations

import pytest
from django.db import connection

from quanzi.content import services
from quanzi.content.models import Follow, Like, Note, Profile
from quanzi.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 32


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL (SQLite serializes writers)")


def test_32_parallel_likes_and_unlikes_keep_the_count_exact(make_user, post_note):
    author = make_user()
    note_id = post_note(author)["id"]
    fans = [make_user() for _ in range(N)]

    race([lambda fan=fan: services.note_like(user=fan, note_id=note_id) for fan in fans])
    assert (
        Note.objects.get(pk=note_id).like_count == N == Like.objects.filter(note_id=note_id).count()
    )

    # Half of them like again while the other half unlike, twice: each fact counted once.
    calls = [
        lambda fan=fan: services.note_like(user=fan, note_id=note_id) for fan in fans[N // 2 :]
    ]
    calls += [
        lambda fan=fan: services.note_unlike(user=fan, note_id=note_id) for fan in fans[: N // 2]
    ]
    calls += [
        lambda fan=fan: services.note_unlike(user=fan, note_id=note_id) for fan in fans[: N // 2]
    ]
    race(calls)

    likes = Like.objects.filter(note_id=note_id).count()
    assert likes == N // 2
    assert Note.objects.get(pk=note_id).like_count == likes
    assert Profile.objects.get(user=author).likes_received == likes


def test_32_parallel_follows_of_one_person_and_of_each_other(make_user):
    star = make_user()
    fans = [make_user() for _ in range(N)]

    results = race(
        [lambda fan=fan: services.follow(follower=fan, followee_id=star.pk) for fan in fans]
        + [lambda fan=fan: services.follow(follower=fan, followee_id=star.pk) for fan in fans]
    )
    assert results.count(True) == N and results.count(False) == N
    assert Profile.objects.get(user=star).followers == N

    # Pairs following each other at the same moment never deadlock.
    pairs = list(zip(fans[::2], fans[1::2], strict=True))
    race(
        [lambda a=a, b=b: services.follow(follower=a, followee_id=b.pk) for a, b in pairs]
        + [lambda a=a, b=b: services.follow(follower=b, followee_id=a.pk) for a, b in pairs]
    )
    for fan in fans:
        profile = Profile.objects.get(user=fan)
        assert (profile.followers, profile.following) == (1, 2)

    race([lambda fan=fan: services.unfollow(follower=fan, followee_id=star.pk) for fan in fans] * 2)
    assert (
        Profile.objects.get(user=star).followers
        == 0
        == Follow.objects.filter(followee=star).count()
    )
