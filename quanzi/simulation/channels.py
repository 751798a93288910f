"""The community and content channels of the population (``population.py``).

* **Community group buying** (社区团购): two leaders run pickup points; each morning the
  operator opens a wave of the shop's products with a 23:00 cutoff; visitors order for
  pickup at a point and pay; after the cutoff the sweeps close and aggregate the wave, the
  next day the leader confirms the goods arrived and the customers collect them with their
  pickup code, which completes the order (the leader earns on it at settlement).
* **Notes** (种草): a few customers are approved creators and post notes tagging products;
  visitors open notes (a view and a touch) and some buy the tagged product within the
  attribution window, which credits the creator (``content.attribution``).

Everything goes through the apps' services, with the simulated clock installed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

# A leader's pickup points, one city, a few hundred metres apart.
POINTS = (
    ("幸福里小区 便利店", "文三路 88 号", 30.2780, 120.1330),
    ("翠苑一区 菜鸟驿站", "翠苑路 12 号", 30.2890, 120.1260),
)
NOTES = (
    ("一周早餐不重样", "早餐搭配，简单好吃", ["美食"]),
    ("宝宝辅食清单", "新手妈妈的辅食心得", ["母婴"]),
    ("露营必带的好物", "周末露营装备分享", ["户外"]),
)


@dataclass
class Channels:
    points: list[tuple[object, int]] = field(default_factory=list)  # (leader user, point id)
    wave_id: int | None = None
    wave_skus: list[int] = field(default_factory=list)
    notes: list[tuple[int, int, int]] = field(default_factory=list)  # (note, product, sku)


def _image() -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (230, 120, 80)).save(buffer, "PNG")
    return SimpleUploadedFile("note.png", buffer.getvalue(), content_type="image/png")


def channels_build(w) -> Channels:
    """Leaders with approved pickup points, and creators with published notes."""
    from quanzi.accounts.services import user_create
    from quanzi.catalog.models import SKU
    from quanzi.community.leaders import application_approve, application_create
    from quanzi.content import services as content
    from quanzi.content.media import media_upload

    ch = Channels()
    for n, (name, address, lat, lng) in enumerate(POINTS):
        leader = user_create(
            phone=f"1360000{n:04d}", password="sim-leader", nickname=f"团长{n + 1}"
        )
        app = application_create(
            user=leader,
            point={
                "name": name,
                "address": address,
                "lat": lat,
                "lng": lng,
                "area": "西湖区",
                "hours": "08:00-21:00",
                "capacity": 500,
            },
        )
        approved = application_approve(application_id=app.pk, operator=w.operator)
        leader.refresh_from_db()  # now holding the leader role
        ch.points.append((leader, approved.created_point.pk))
    creators = w.customers[: max(1, min(3, len(w.customers) // 10))]
    for creator in creators:
        content.creator_apply(user=creator, intro="爱分享的达人")
        content.creator_decide(user_id=creator.pk, operator=w.operator, approve=True)
    for n, (title, body, topics) in enumerate(NOTES):
        author = creators[n % len(creators)]
        sku_id = w.skus[n % len(w.skus)]
        product_id = SKU.objects.filter(pk=sku_id).values_list("product_id", flat=True).first()
        media = media_upload(owner=author, upload=_image())
        note = content.note_create(
            author=author,
            title=title,
            body=body,
            topics=topics,
            media_ids=[media.pk],
            product_ids=[product_id],
        )
        ch.notes.append((note.pk, product_id, sku_id))
    return ch


def wave_open(w, ch: Channels, day_start: datetime) -> None:
    """The morning's wave: the shop's products a little below retail, cutoff 23:00."""
    from quanzi.catalog.models import SKU
    from quanzi.community.waves import wave_create

    cutoff = day_start.replace(hour=23, minute=0, second=0, microsecond=0)
    if cutoff <= timezone.now():
        ch.wave_id = None
        return
    items = []
    for sku in SKU.objects.filter(pk__in=w.skus).order_by("id")[:3]:
        stock = min(40, sku.stock // 4)
        if stock > 0:
            price = max(sku.supply_price, sku.price * 85 // 100)
            items.append({"sku_id": sku.pk, "price": price, "stock": stock, "per_user_limit": 3})
    if not items:
        ch.wave_id = None
        return
    wave = wave_create(
        title="今日鲜菜 次日自提",
        sale_date=timezone.localdate(cutoff),
        cutoff_at=cutoff,
        pickup_date=timezone.localdate(cutoff) + timedelta(days=1),
        pickup_start=time(8, 0),
        pickup_end=time(21, 0),
        items=items,
    )
    ch.wave_id = wave.pk
    ch.wave_skus = [item["sku_id"] for item in items]


def community_order(w, ch: Channels) -> str:
    """A visitor orders today's wave for pickup at a point, and maybe pays at once."""
    from quanzi.orders.services import order_place
    from quanzi.simulation.ops import _maybe_pay_now

    if ch.wave_id is None:
        return "no_wave"
    user = w.customer()
    _leader, point_id = w.rng.choice(ch.points)
    order = order_place(
        user=user,
        items=[{"sku_id": w.rng.choice(ch.wave_skus), "qty": w.rng.randint(1, 2)}],
        channel="community",
        extra={"wave_id": ch.wave_id, "pickup_point_id": point_id},
    )
    return "placed:" + _maybe_pay_now(w, order)


def note_read(w, ch: Channels) -> str:
    """A visitor opens a note; some buy the product it tags (attributed to its creator)."""
    from quanzi.content.services import note_view
    from quanzi.orders.services import order_place
    from quanzi.simulation.ops import _maybe_pay_now

    note_id, _product_id, sku_id = w.rng.choice(ch.notes)
    reader = w.customer()
    note_view(note_id=note_id, viewer=reader)
    if w.rng.random() >= 0.35:
        return "read"
    order = order_place(
        user=reader, items=[{"sku_id": sku_id, "qty": 1}], address_id=w.addresses[reader.pk]
    )
    return "placed:" + _maybe_pay_now(w, order)


def pickups_run(w, ch: Channels) -> int:
    """Leaders confirm the closed waves' goods arrived; customers collect their orders."""
    from quanzi.community.models import CommunityOrder, Wave, WaveStatus
    from quanzi.community.pickups import arrival_confirm, pickup_verify
    from quanzi.core.errors import QuanziError

    done = 0
    today = timezone.localdate()
    waves = Wave.objects.filter(status=WaveStatus.CLOSED, pickup_date__lte=today)
    for wave_id in waves.values_list("id", flat=True):
        for leader, point_id in ch.points:
            try:
                arrival_confirm(user=leader, point_id=point_id, wave_id=wave_id)
            except QuanziError:
                pass  # confirmed already
    leaders = {point_id: leader for leader, point_id in ch.points}
    waiting = CommunityOrder.objects.filter(code_active=True, wave__pickup_date__lte=today)
    for co in waiting.order_by("id"):
        if w.rng.random() < 0.85:
            try:
                pickup_verify(user=leaders[co.point_id], point_id=co.point_id, code=co.code)
                done += 1
            except QuanziError:
                pass
    return done
