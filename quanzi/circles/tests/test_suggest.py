"""Recommended circles from behaviour: on a small graph whose answer is worked out by
hand, friends' circles (by tie strength) and the circles of people who bought the same
things (by how many) come first, label matches after, and nothing the person is in."""

from __future__ import annotations

import pytest

from quanzi.circles import selectors
from quanzi.circles.members import circle_join
from quanzi.circles.services import circle_suspend

pytestmark = pytest.mark.django_db


def test_friends_and_co_buyers_circles_rank_by_their_known_scores(
    make_user, make_circle, make_product, buy
):
    from quanzi.accounts.services import referrer_bind
    from quanzi.content.models import Follow

    me = make_user(nickname="我")
    friend, referrer, downline, followed = (make_user() for _ in range(4))
    same_two, same_one, unpaid = (make_user() for _ in range(3))
    tea, cup = make_product(title="绿茶"), make_product(title="茶杯")

    Follow.objects.create(follower=me, followee=friend)  # mutual: 1.0
    Follow.objects.create(follower=friend, followee=me)
    Follow.objects.create(follower=me, followee=followed)  # one way: 0.6
    referrer_bind(user=me, referrer=referrer, source="invite_code")  # 0.8
    referrer_bind(user=downline, referrer=me, source="invite_code")  # 0.8
    for product in (tea, cup):
        buy(me, product.skus.get())
        buy(same_two, product.skus.get())  # shares two products with me
    buy(same_one, tea.skus.get())  # shares one
    buy(unpaid, cup.skus.get(), pay=False)  # never paid: shares nothing

    def circle(name, *people, label="户外"):
        made = make_circle(name=name, label=label)
        for person in people:
            circle_join(circle_id=made.pk, user=person)
        return made

    mine = circle("我的读书会", me, friend, label="读书")
    both = circle("好友和同好", friend, same_two)  # 1.0 + 2/2 = 2.0
    buyers = circle("买过同款", same_one, downline)  # 1/2 + 0.8 = 1.3
    friends = circle("好友圈", friend)  # 1.0
    referrers = circle("上级圈", referrer)  # 0.8
    follows = circle("关注圈", followed)  # 0.6
    same_label = circle("另一个读书会", label="读书")  # a shared label: 0.5
    circle("没付款的人", unpaid)  # no signal
    circle("大圈", *(make_user() for _ in range(3)))  # big, but no signal
    suspended = circle("停用圈", friend)
    circle_suspend(circle_id=suspended.pk, suspend=True)

    picked = selectors.circles_recommended(user=me, limit=10)

    assert [c.name for c in picked] == [
        c.name for c in (both, buyers, friends, referrers, follows, same_label)
    ]
    assert mine.pk not in {c.pk for c in picked}
    shown = me.api.get("/circles/recommended").json()["items"]
    assert [c["id"] for c in shown] == [c.pk for c in picked][:6]


def test_without_any_signal_the_biggest_circles_not_joined_come(make_user, make_circle):
    me = make_user()
    small = make_circle(name="小圈")
    big = make_circle(name="大圈", label="户外")
    for _ in range(2):
        circle_join(circle_id=big.pk, user=make_user())

    assert [c.pk for c in selectors.circles_recommended(user=me)] == [big.pk, small.pk]
    circle_join(circle_id=big.pk, user=me)
    # My circle's label is on no other circle: still no signal, and my circle is left out.
    assert [c.pk for c in selectors.circles_recommended(user=me)] == [small.pk]
