"""A generated history for the breakdowns: orders paid through the API over five days,
then the records around them a seed chooses — delivery provinces, member levels and
paid memberships, customer refund requests and refunds, reviews, notes opened and
orders attributed to them, share links forming a tree with visits and conversions,
circle sales and partner orders — all stamped on the days the seed chose."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from quanzi.analytics.facts import day_start
from quanzi.analytics.tests.conftest import DAY0

DAYS = [DAY0 + timedelta(days=i) for i in range(6)]
PROVINCES = ["浙江省", "广东省", "四川省", ""]


def _moment(rng, day_index: int):
    return day_start(DAYS[day_index]) + timedelta(hours=rng.randrange(1, 22))


@pytest.fixture
def rich_history(make_user, make_product, buy, operator):
    from quanzi.accounts.models import User
    from quanzi.catalog.models import Supplier
    from quanzi.circles.models import Circle, Sale
    from quanzi.content.models import Creator, CreatorCommission, Note, NoteTouch, Review
    from quanzi.membership.models import GrowthEntry, MemberLevel, MembershipPeriod, MembershipPlan
    from quanzi.orders.models import Order, OrderLine, Refund
    from quanzi.partners.models import Partner, PartnerMember, PartnerOrder
    from quanzi.social.models import ShareConversion, ShareLink, ShareVisit
    from quanzi.social.services import share_create, share_open

    rng = random.Random(11)
    acme = Supplier.objects.create(name="甲供应商")
    beta = Supplier.objects.create(name="乙供应商")
    skus = [
        make_product(price=2990, stock=500, supplier_id=acme.pk, title="大米").skus.get(),
        make_product(price=1590, stock=500, supplier_id=beta.pk, title="香油").skus.get(),
        make_product(price=990, supply_price=500, stock=500, title="纸巾").skus.get(),
    ]
    people = [make_user(nickname=f"买家{i}") for i in range(6)]
    orders = []
    for _ in range(24):
        person = rng.choice(people)
        sku = rng.choice(skus)
        order = buy(person, sku, qty=rng.choice([1, 2, 3]), pay=rng.random() < 0.85)
        placed = _moment(rng, rng.randrange(5))
        update = {"created_at": placed, "address": {"province": rng.choice(PROVINCES)}}
        Order.objects.filter(pk=order["id"]).update(**update)
        Order.objects.filter(pk=order["id"], paid_at__isnull=False).update(
            paid_at=placed + timedelta(minutes=rng.choice([5, 90]))
        )
        orders.append(Order.objects.get(pk=order["id"]))
    paid = [o for o in orders if o.paid_at is not None]

    # Member levels from growth entries stamped at each payment.
    MemberLevel.objects.create(name="银卡", min_growth=3000)
    MemberLevel.objects.create(name="金卡", min_growth=9000)
    for entry in GrowthEntry.objects.all():
        order = Order.objects.get(pk=entry.order_id)
        if order.paid_at:
            GrowthEntry.objects.filter(pk=entry.pk).update(
                created_at=order.paid_at + timedelta(seconds=1)
            )

    # Two paid memberships: one running days 1-3, one revoked on day 2.
    plan_sku = make_product(price=9900, title="年卡").skus.get()
    plan = MembershipPlan.objects.create(
        name="年卡", price=9900, duration_days=365, product=plan_sku.product, sku=plan_sku
    )
    for person, revoked in ((people[0], None), (people[1], day_start(DAYS[2]))):
        MembershipPeriod.objects.create(
            user=person,
            plan=plan,
            order_id=900_000 + person.pk,
            days=2,
            starts_at=day_start(DAYS[1]),
            ends_at=day_start(DAYS[3]),
            revoked_at=revoked,
        )

    # Refunds: the operator's own, and customers' requests (complaints) approved or
    # rejected; then stamped on the day of the payment or the next.
    for i, order in enumerate(paid[:6]):
        line = OrderLine.objects.filter(order=order).first()
        body = {"reason": "坏了", "lines": [{"line_id": line.pk, "qty": 1}]}
        if i % 3 == 0:
            answer = operator.api.post(f"/admin/orders/{order.pk}/refunds", body)
        else:
            buyer = next(p for p in people if p.pk == order.user_id)
            answer = buyer.api.post(f"/orders/{order.pk}/refunds", body)
        assert answer.status_code in (200, 201), answer.content
        refund = Refund.objects.get(pk=answer.json()["id"])
        if i % 3 and i % 2 == 0:
            assert operator.api.post(f"/admin/refunds/{refund.pk}/approve").status_code == 200
        elif i % 3:
            no = operator.api.post(f"/admin/refunds/{refund.pk}/reject", {"reason": "不符"})
            assert no.status_code == 200, no.content
        at = order.paid_at + timedelta(days=rng.choice([0, 1]), hours=1)
        Refund.objects.filter(pk=refund.pk).update(created_at=at)
        Refund.objects.filter(pk=refund.pk, status="succeeded").update(succeeded_at=at)

    # Reviews of some lines (one hidden, which never counts).
    for i, order in enumerate(paid[4:12]):
        line = OrderLine.objects.filter(order=order).first()
        review = Review.objects.create(
            line=line,
            order=order,
            product=line.product,
            sku=line.sku,
            author=order.user,
            rating=rng.randrange(1, 6),
            visibility="hidden" if i == 3 else "visible",
        )
        Review.objects.filter(pk=review.pk).update(created_at=order.paid_at + timedelta(hours=2))

    # A creator's two notes, opened by people, with orders attributed to them.
    creator = make_user(nickname="达人")
    Creator.objects.create(user=creator, status="approved")
    notes = [
        Note.objects.create(author=creator, title=f"笔记{i}", status="published") for i in range(2)
    ]
    for _ in range(14):
        NoteTouch.objects.create(
            user=rng.choice(people), note=rng.choice(notes), at=_moment(rng, rng.randrange(5))
        )
    for order in paid[::3]:
        line = OrderLine.objects.filter(order=order).first()
        CreatorCommission.objects.create(
            order=order,
            line=line,
            note=rng.choice(notes),
            creator=creator,
            buyer=order.user,
            touched_at=order.created_at,
            base=line.paid,
            rate_bp=500,
            amount=line.paid // 20,
        )

    # A share tree: A shares, B arrives and shares, C arrives through B and shares.
    a, b, c = people[3], people[4], people[5]
    product_id = skus[0].product_id
    root = share_create(sharer=a, target="product", target_id=product_id, channel="wechat")
    share_open(token=root.token, visitor=b)
    share_open(token=root.token, visitor=None, session_key="anon-1")
    share_open(token=root.token, visitor=a)  # the sharer's own visit never counts
    child = share_create(sharer=b, target="product", target_id=product_id, channel="moments")
    share_open(token=child.token, visitor=c)
    grandchild = share_create(sharer=c, target="product", target_id=product_id)
    share_open(token=grandchild.token, visitor=people[0])
    other = share_create(sharer=a, target="note", target_id=notes[0].pk)
    share_open(token=other.token, visitor=people[2])
    assert (root.depth, child.depth, grandchild.depth) == (1, 2, 3)
    for link, day in ((root, 0), (child, 1), (grandchild, 2), (other, 2)):
        ShareLink.objects.filter(pk=link.pk).update(created_at=_moment(rng, day))
        for visit in ShareVisit.objects.filter(link=link):
            ShareVisit.objects.filter(pk=visit.pk).update(first_at=_moment(rng, day + 1))
    bought = [o for o in paid if o.user_id in (b.pk, c.pk, people[0].pk)][:3]
    for link, order in zip((root, child, grandchild), bought, strict=False):
        conv = ShareConversion.objects.create(
            link=link, user=order.user, kind="order", order_id=order.pk, amount=order.payable
        )
        ShareConversion.objects.filter(pk=conv.pk).update(created_at=order.paid_at)
    reg = ShareConversion.objects.create(link=root, user=b, kind="register")
    ShareConversion.objects.filter(pk=reg.pk).update(created_at=_moment(rng, 1))

    # Two circles with their owners; some orders are circle sales. One partner.
    owner, other_owner = make_user(nickname="圈主"), make_user(nickname="别的圈主")
    circle = Circle.objects.create(owner=owner, name="宝妈圈")
    elsewhere = Circle.objects.create(owner=other_owner, name="户外圈")
    for i, order in enumerate(paid[1::2]):
        Sale.objects.create(
            order=order,
            circle=circle if i % 3 else elsewhere,
            user=order.user,
            owner=owner if i % 3 else other_owner,
            amount=order.payable,
            paid_at=order.paid_at,
        )
    partner = Partner.objects.create(name="某银行", code="bank")
    member = PartnerMember.objects.create(
        partner=partner,
        uid="u1",
        user=people[2],
        source="token",
        last_arrived_at=day_start(DAYS[0]),
    )
    for order in paid:
        if order.user_id == people[2].pk and not Sale.objects.filter(order=order).exists():
            Order.objects.filter(pk=order.pk).update(channel="partner", channel_ref=partner.pk)
            PartnerOrder.objects.create(
                order=order, partner=partner, member=member, uid="u1", level_code="gold"
            )
    assert User.objects.count() > 8
    return {
        "people": people,
        "owner": owner,
        "other_owner": other_owner,
        "circle": circle,
        "elsewhere": elsewhere,
        "creator": creator,
        "notes": notes,
        "suppliers": [acme, beta],
        "partner": partner,
        "product_id": product_id,
    }
