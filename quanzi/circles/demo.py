"""Demo circles for ``quanzi demo``: three labelled circles with owners, members, posts,
a pinned announcement, circle-only deals and five weeks of joins and leaves, so that the
health pages show real curves at once."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.utils import timezone

DEMO_DIR = Path(__file__).resolve().parents[1] / "core" / "static" / "demo"
LABELS = ["母婴", "户外", "美妆", "读书", "美食", "家居"]

# (owner phone, owner nickname, circle name, label, policy, description, members, leave share %)
CIRCLES = [
    ("13800000031", "豆豆妈", "宝妈互助圈", "母婴", "open", "新手妈妈的育儿经验和好物团购", 60, 45),
    (
        "13800000032",
        "山野老周",
        "周末徒步圈",
        "户外",
        "approval",
        "杭州周边轻徒步，每周六出发",
        40,
        25,
    ),
    ("13800000033", "小鹿", "平价美妆研究所", "美妆", "invite", "只聊平价好用的护肤彩妆", 30, 15),
]


def _members(prefix: int, count: int):
    from quanzi.accounts.models import User
    from quanzi.accounts.services import _new_invite_code

    people = []
    for i in range(count):
        phone = f"1390{prefix:03d}{i:04d}"
        user = User.objects.filter(phone=phone).first() or User.objects.create_user(
            phone, None, nickname=f"圈友{prefix}{i:02d}", invite_code=_new_invite_code()
        )  # background figures: no password, they never log in
        people.append(user)
    return people


def _photo(owner, name: str):
    from quanzi.content.media import media_upload

    path = DEMO_DIR / f"{name}.jpg"
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return media_upload(owner=owner, upload=File(handle, name=path.name)).pk


def _history(circle, people, leave_share: int, rng: random.Random) -> None:
    """Spread the joins over five weeks and let a share of each week's joiners leave a few
    days later (the usual fate of a group)."""
    from quanzi.circles.members import circle_join, circle_leave
    from quanzi.circles.models import Membership, MembershipEvent

    now = timezone.now()
    for person in people:
        circle_join(circle_id=circle.pk, user=person, invite_token="", answer="想加入")
    for person in people:
        m = Membership.objects.get(circle=circle, user=person)
        if m.status == "pending":
            from quanzi.circles.members import member_decide

            member_decide(circle_id=circle.pk, actor=circle.owner, user_id=person.pk, approve=True)
    leavers = {p.pk for p in people if rng.randrange(100) < leave_share}
    for person in people:
        if person.pk in leavers:
            circle_leave(circle_id=circle.pk, user=person)
    # Move the recorded history into the past.
    start = now - timedelta(days=35)
    MembershipEvent.objects.filter(circle=circle, user=circle.owner).update(at=start)
    for person in people:
        joined = start + timedelta(days=rng.randrange(33), hours=rng.randrange(12))
        events = MembershipEvent.objects.filter(circle=circle, user=person).order_by("id")
        for event in events:
            if event.kind == "join":
                event.at = joined
            else:
                event.at = min(now, joined + timedelta(days=rng.choice([1, 2, 3, 5, 9])))
            event.save(update_fields=["at"])
        Membership.objects.filter(circle=circle, user=person).update(
            joined_at=joined, first_joined_at=joined
        )
    circle.__class__.objects.filter(pk=circle.pk).update(created_at=start)


def _deal(circle, product, operator) -> None:
    from quanzi.circles.deals import deal_add
    from quanzi.core.errors import QuanziError
    from quanzi.groupbuy.services import campaign_create
    from quanzi.marketing.services import coupon_template_create

    sku = product.skus.order_by("id").first()
    try:
        campaign = campaign_create(
            title=f"{circle.name} 专享 2 人团",
            skus=[{"sku_id": sku.pk, "group_price": max(1, sku.price * 8 // 10)}],
            group_size=2,
            group_ttl_seconds=86_400,
            per_user_limit=3,
            stock=30,
            ends_at=timezone.now() + timedelta(days=3),
            commission_enabled=True,
        )
        deal_add(circle_id=circle.pk, kind="group", ref_id=campaign.pk)
    except QuanziError:
        pass  # the SKU is in another campaign already: the coupon below is the deal
    template = coupon_template_create(
        data={
            "name": f"{circle.name} 圈友券",
            "kind": "amount_off",
            "amount": 500,
            "threshold": 3000,
            "scope": "all",
            "valid_days": 7,
            "total": 200,
            "per_user_limit": 1,
        }
    )
    deal_add(circle_id=circle.pk, kind="coupon", ref_id=template.pk)


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.services import user_create
    from quanzi.circles import feed, services
    from quanzi.circles.health import circle_health_compute
    from quanzi.circles.members import circle_join
    from quanzi.circles.models import Label

    rng = random.Random(17)
    labels = {}
    for sort, name in enumerate(LABELS):
        labels[name] = Label.objects.filter(name=name).first() or services.label_create(
            name=name, sort=sort
        )
    by_image = {}
    for product in ctx["products"]:
        cover = product.images.order_by("sort", "id").first()
        if cover is not None:
            by_image[Path(cover.url).stem] = product
    images = {"母婴": "milk", "户外": "tea", "美妆": "mask"}
    for index, (phone, nick, name, label, policy, text, count, leave) in enumerate(CIRCLES):
        owner = user_create(phone=phone, password="quanzi-demo", nickname=nick)
        services.owner_apply(user=owner, intro=text)
        services.owner_decide(user_id=owner.pk, approve=True)
        circle = services.circle_create(
            owner=owner,
            name=name,
            label_ids=[labels[label].pk],
            tags=[label, "团购"],
            join_policy="open" if policy == "invite" else policy,
            question="为什么想加入？" if policy == "approval" else "",
            description=text,
            rules="友善交流，不发广告。",
        )
        _history(circle, _members(index + 1, count), leave, rng)
        if policy == "invite":
            services.circle_update(circle_id=circle.pk, user=owner, join_policy="invite")
        photo = _photo(owner, images[label])
        if photo is not None:
            product = by_image.get(images[label])
            feed.post_create(
                circle_id=circle.pk,
                author=owner,
                title=f"{name}本周推荐",
                body="圈友专享价，评论区说说你的使用感受～",
                media_ids=[photo],
                product_ids=[product.pk] if product else [],
            )
        feed.announcement_create(
            circle_id=circle.pk, author=owner, body="本周六晚 8 点圈内团购，记得来！"
        )
        product = by_image.get(images[label]) or ctx["products"][0]
        _deal(circle, product, ctx["operator"])
        circle.refresh_from_db()
        circle_health_compute(circle=circle)
    customer = ctx.get("customer")
    if customer is not None:
        from quanzi.circles.models import Circle

        first = Circle.objects.filter(name=CIRCLES[0][2]).first()
        if first is not None:
            circle_join(circle_id=first.pk, user=customer)
