"""The simulated shop: people, products and campaigns of every kind, made through the
apps' own services, plus what the driver remembers between steps (notifications it holds
back, the prize stock it started with).

Everything is chosen from the world's own ``random.Random(seed)``; objects are always
picked from lists ordered by id, so the same seed makes the same choices whatever ids
the database hands out.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from quanzi.accounts.models import User
from quanzi.simulation.clock import SimClock

CUSTOMERS = 12

# Shorter windows than a real shop's, so that a few hundred steps see orders expire,
# ship, confirm and settle: the rules are the same, only the durations differ.
SETTINGS = {
    "payment_timeout_seconds": 900,
    "auto_confirm_seconds": 2 * 86_400,
    "after_sales_seconds": 86_400,
    "refund_retry_seconds": 60,
    "shipping": {"fee": 600, "free_above": 8000},
    "points": {"earn_per_yuan": 2, "sign_in_points": 30},
}


@dataclass
class HeldNotification:
    """A payment the gateway took whose notification has not been delivered yet."""

    headers: dict[str, str]
    body: bytes
    lost: bool  # never delivered: only reconciliation can find the money


@dataclass
class World:
    seed: int
    rng: random.Random
    clock: SimClock
    operator: User = None  # type: ignore[assignment]
    customers: list[User] = field(default_factory=list)
    addresses: dict[int, int] = field(default_factory=dict)
    skus: list[int] = field(default_factory=list)  # normal checkout
    group_campaign_id: int = 0
    group_sku_id: int = 0
    bargain_campaign_id: int = 0
    plan_id: int = 0
    coupon_template_ids: list[int] = field(default_factory=list)
    lottery_id: int = 0
    prize_stock: dict[int, int] = field(default_factory=dict)  # prize id -> units at start
    held: list[HeldNotification] = field(default_factory=list)
    delivered: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)  # fault kind -> times injected

    # --- choosing ----------------------------------------------------------------------

    def customer(self) -> User:
        return self.rng.choice(self.customers)

    def pick(self, queryset) -> Any:
        """One row of ``queryset`` chosen by the seed (by position in id order), or None."""
        ids = list(queryset.order_by("id").values_list("id", flat=True)[:200])
        if not ids:
            return None
        return queryset.model.objects.get(pk=self.rng.choice(ids))

    def pick_live(self, queryset, deadline: str = "expires_at") -> Any:
        """Mostly one whose ``deadline`` is still ahead; sometimes any (a late click)."""
        if self.rng.random() < 0.85:
            queryset = queryset.filter(**{f"{deadline}__gt": self.clock.now()})
        return self.pick(queryset)

    def user(self, user_id: int) -> User:
        return next(u for u in self.customers if u.pk == user_id)


def _customer_fast(i: int, clock: SimClock) -> User:
    """A customer who never signs in (no password to hash): the population's people."""
    user = User(
        phone=f"1390000{i:04d}",
        nickname=f"顾客{i}",
        invite_code=f"SIM{i:07d}",
        device_id=f"sim-dev-{i}",
        date_joined=clock.now(),
    )
    user.set_unusable_password()
    user.save()
    return user


def world_build(
    *,
    seed: int,
    clock: SimClock,
    customers: int = CUSTOMERS,
    stock_scale: int = 1,
    apply_settings: bool = True,
) -> World:
    """Make the shop. Runs with the simulated clock installed. The fault simulation uses
    the defaults; the population (``population.py``) asks for more customers, made
    without passwords, more stock, and the operator's own settings."""
    from quanzi.accounts.services import address_create, referrer_bind, user_create
    from quanzi.bargain.services import campaign_create as bargain_campaign_create
    from quanzi.catalog.services import product_create, supplier_create
    from quanzi.core.platform_settings import settings_update
    from quanzi.groupbuy.services import campaign_create as group_campaign_create
    from quanzi.marketing.services import coupon_template_create
    from quanzi.membership.services import plan_create
    from quanzi.rewards.lottery import lottery_create
    from quanzi.rewards.models import LotteryPrize

    world = World(seed=seed, rng=random.Random(seed), clock=clock)
    if apply_settings:
        settings_update(patch=SETTINGS)
    operator = User.objects.filter(phone="13800009999").first()
    world.operator = operator or user_create(
        phone="13800009999", password="sim-operator", nickname="运营", roles=("operator",)
    )
    fast = customers != CUSTOMERS
    for i in range(customers):
        if fast:
            user = _customer_fast(i, clock)
        else:
            user = user_create(
                phone=f"1390000{i:04d}", password="sim-customer", nickname=f"顾客{i}"
            )
            User.objects.filter(pk=user.pk).update(date_joined=clock.now())
        world.customers.append(user)
        world.addresses[user.pk] = address_create(
            user=user,
            data={
                "name": f"顾客{i}",
                "phone": f"1370000{i:04d}",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": f"文三路 {i + 1} 号",
            },
        ).pk
    # Two commission levels: 0 ← 1 ← 2, 0 ← 3, 1 ← 4, 5 ← 6.
    c = world.customers
    for upline, downline in [(0, 1), (1, 2), (0, 3), (1, 4), (5, 6)]:
        referrer_bind(user=c[downline], referrer=c[upline], source="simulation")

    supplier = supplier_create(name="模拟供应商")
    stocked = [
        ("东北大米 5kg", [("5kg", 4990, 3000, 40)]),
        ("赣南脐橙", [("5斤", 2990, 1700, 30), ("10斤", 4990, 3000, 20)]),
        ("每日坚果", [("30袋", 9900, 5800, 15)]),
        ("原木抽纸", [("24包", 4590, 3100, 50)]),
    ]
    for title, skus in stocked:
        product = product_create(
            title=title,
            supplier_id=supplier.pk,
            skus=[
                {
                    "name": n,
                    "price": p,
                    "supply_price": s,
                    "stock": st * stock_scale,
                    "member_price": p - 300,
                }
                for n, p, s, st in skus
            ],
        )
        world.skus.extend(product.skus.order_by("id").values_list("id", flat=True))

    ends = clock.now() + timedelta(days=365)
    group_sku = (
        product_create(
            title="冰糖心苹果 拼团",
            supplier_id=supplier.pk,
            skus=[{"name": "5斤", "price": 3990, "supply_price": 2400, "stock": 60 * stock_scale}],
        )
        .skus.get()
        .pk
    )
    world.group_sku_id = group_sku
    world.group_campaign_id = group_campaign_create(
        title="苹果 3人团",
        skus=[{"sku_id": group_sku, "group_price": 2990, "leader_price": 2790}],
        group_size=3,
        group_ttl_seconds=4 * 3600,
        per_user_limit=4,
        stock=40 * stock_scale,
        ends_at=ends,
        simulated_fill_max_missing=1,
        commission_enabled=True,
    ).pk

    bargain_sku = (
        product_create(
            title="大红袍礼盒 砍价",
            supplier_id=supplier.pk,
            skus=[{"name": "250g", "price": 9800, "supply_price": 4000, "stock": 20 * stock_scale}],
        )
        .skus.get()
        .pk
    )
    world.bargain_campaign_id = bargain_campaign_create(
        sku_id=bargain_sku,
        title="好友帮砍 大红袍",
        start_price=9800,
        floor_price=1990,
        helpers_min=2,
        helpers_max=4,
        ttl_seconds=6 * 3600,
        per_user_limit=2,
        stock=12 * stock_scale,
        ends_at=ends,
    ).pk

    world.plan_id = plan_create(name="月卡", price=1990, duration_days=30).pk
    for data in [
        {"name": "满50减8", "kind": "amount_off", "amount": 800, "threshold": 5000},
        {"name": "9折 最多减15", "kind": "percent_off", "percent_bp": 9000, "cap": 1500},
    ]:
        template = coupon_template_create(
            data={
                **data,
                "scope": "all",
                "valid_days": 5,
                "total": 40 * stock_scale,
                "per_user_limit": 2,
            }
        )
        world.coupon_template_ids.append(template.pk)

    prize_sku = (
        product_create(
            title="秦岭土蜂蜜 奖品",
            supplier_id=supplier.pk,
            skus=[{"name": "500g", "price": 6800, "supply_price": 3800, "stock": 10}],
        )
        .skus.get()
        .pk
    )
    lottery = lottery_create(
        title="幸运大转盘",
        cost_points=40,
        free_draws_per_day=1,
        prizes=[
            {"name": "蜂蜜一瓶", "kind": "product", "weight": 5, "stock": 4, "sku_id": prize_sku},
            {"name": "50 积分", "kind": "points", "weight": 30, "stock": 200, "points": 50},
            {"name": "谢谢参与", "kind": "none", "weight": 40, "stock": 0},
        ],
    )
    world.lottery_id = lottery.pk
    world.prize_stock = dict(
        LotteryPrize.objects.filter(lottery=lottery).values_list("pk", "stock")
    )
    return world
