"""A population with seeded abuse, for measuring the risk rules (``quanzi risk evaluate
--seed S``, ``quanzi manage risk_evaluate``).

Every event is asked of ``risk_check`` exactly as the apps ask it, at the moment it
happens (the events of about three weeks, replayed in time order, the clock set to each
one); coupon claims and sign-ins go through the marketing app's own services
(``coupon_claim``, ``sign_in``) from the IP and device of the person, so their asks are the
apps' own; the report compares each rule's hits with the known labels.

Honest people have been customers for a while, each with a phone, a device, an address,
a payment account and a carrier's shared IP (many customers behind one address). Some
live two to a household (one address and home IP, two devices and phones) and help each
other's bargains; some invite newcomers (fresh accounts, their own everything); a few
invite a friend who signs up on their home Wi-Fi (an honest near miss); a few refund one
order in three; they claim rewards and coupons now and then, sign in for points on some
days, lead and join groups, earn commissions and withdraw them.

Abusers, ``farms`` of each kind:

* **device_farm** (羊毛党): 5–8 fresh accounts made on one device, delivering to one
  address, invited by the farm's owner and helping the owner's bargains;
* **address_farm**: fresh accounts on different devices whose addresses are one place
  written differently (spaces, 号 / 栋), invited by their owner;
* **self_dealing**: a distributor's second account (its address carries the owner's
  phone, it pays with the owner's wallet) invited by and buying under the owner;
* **claim_burst**: an account claiming a reward 45 times within the hour;
* **coupon_farm**: six accounts on one device each grabbing coupons within minutes;
* **sign_in_farm**: five to seven accounts of one farm, each on its own emulated device,
  behind one connection (a quiet IP), signing in for points within minutes of each other
  every morning for five days;
* **group_ring** (刷单): a group leader filling its groups (one join after the other) with
  fresh accounts made on its home IP and paying with its wallet; a sneakier half uses
  only the home IP;
* **refund_abuser**: an account that was rewarded, then refunds most of what it buys,
  and asks for more rewards (those later rewards are the abusive events);
* **reregister**: an account rewarded as a new user, deleted, and made again on the same
  device to be rewarded as new once more (the second reward is abusive).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RULES = (
    "related_device",
    "related_phone",
    "related_payment",
    "related_address",
    "related_ip_fresh",
    "related_member",
    "crowded_device",
    "crowded_ip",
    "crowded_address",
    "crowded_payment",
    "burst",
    "claim_burst",
    "ring",
    "refund_after_reward",
    "reregister",
)
ABUSES = (
    "device_farm",
    "address_farm",
    "self_dealing",
    "claim_burst",
    "coupon_farm",
    "sign_in_farm",
    "group_ring",
    "refund_abuser",
    "reregister",
)


@dataclass
class Evaluation:
    events: int = 0
    abusive: int = 0
    caught: int = 0  # abusive events held, denied or sent to verification
    honest_events: int = 0
    honest_events_held: int = 0
    honest_users: int = 0
    honest_held: int = 0  # honest people with at least one event held or denied
    fired: Counter = field(default_factory=Counter)  # rule -> events it fired on
    true_hits: Counter = field(default_factory=Counter)  # rule -> abusive events it fired on
    abusive_by_kind: Counter = field(default_factory=Counter)
    caught_by_kind: Counter = field(default_factory=Counter)

    def precision(self, rule: str) -> float:
        return self.true_hits[rule] / self.fired[rule] if self.fired[rule] else 1.0

    def recall(self, rule: str) -> float:
        return self.true_hits[rule] / self.abusive if self.abusive else 1.0

    @property
    def overall_recall(self) -> float:
        return self.caught / self.abusive if self.abusive else 1.0

    @property
    def overall_precision(self) -> float:
        stopped = self.caught + self.honest_events_held
        return self.caught / stopped if stopped else 1.0

    @property
    def honest_held_share(self) -> float:
        return self.honest_held / self.honest_users if self.honest_users else 0.0


@dataclass
class _Event:
    at: datetime
    kind: str
    user_id: int
    counterpart_id: int | None = None
    abuse: str = ""  # "" for honest
    device_id: str = ""
    ip: str = ""
    payment_account: str = ""
    members: tuple[int, ...] = ()


class _Population:
    def __init__(self, seed: int, start: datetime, honest: int):
        self.rng = random.Random(seed)
        self.start = start
        self.n = 0
        self.label: dict[int, str] = {}  # user id -> "honest" or the abuse kind
        # A carrier's shared addresses: dozens of customers behind each.
        self.carrier_ips = [f"36.110.{seed % 200}.{i}" for i in range(1, max(2, honest // 60) + 1)]
        self.events: list[_Event] = []

    def person(
        self,
        *,
        kind: str,
        device: str,
        address: str,
        phone: str = "",
        joined: datetime | None = None,
        ip: str = "",
        wallet: str = "",
    ):
        from quanzi.accounts.models import Address, User
        from quanzi.risk.models import RiskSignal
        from quanzi.risk.signals import signal_record

        self.n += 1
        joined = joined or self.start - timedelta(days=self.rng.randint(30, 400))
        user = User(
            phone=f"150{self.n:08d}",
            nickname=f"u{self.n}",
            invite_code=f"EV{self.n:08d}",
            device_id=device,
            date_joined=joined,
        )
        user.set_unusable_password()
        user.save()
        province, city, district, detail = address.split("|")
        Address.objects.create(
            user=user,
            name=f"u{self.n}",
            phone=phone or f"151{self.n:08d}",
            province=province,
            city=city,
            district=district,
            detail=detail,
        )
        ip = ip or self.rng.choice(self.carrier_ips)
        signal_record(user_id=user.pk, kind=RiskSignal.IP, value=ip, source="login", at=joined)
        wallet = wallet or f"wx:openid-{self.n}"
        signal_record(
            user_id=user.pk, kind=RiskSignal.PAYMENT, value=wallet, source="order", at=joined
        )
        user.eval_ip, user.eval_wallet = ip, wallet
        self.label[user.pk] = kind
        return user

    def event(self, at: datetime, kind: str, user, counterpart=None, abuse: str = "", **kw):
        self.events.append(
            _Event(
                at=at,
                kind=kind,
                user_id=user.pk,
                counterpart_id=counterpart.pk if counterpart is not None else None,
                abuse=abuse,
                device_id=kw.pop("device_id", user.device_id),
                ip=kw.pop("ip", user.eval_ip),
                payment_account=kw.pop("payment_account", user.eval_wallet),
                **kw,
            )
        )

    def day(self, lo: int = 0, hi: int = 20) -> datetime:
        return self.start + timedelta(
            days=self.rng.randint(lo, hi), minutes=self.rng.randint(8 * 60, 22 * 60)
        )


def _place(i: int, *, spaced: bool = False) -> str:
    detail = f"学院路 {i} 号 {i % 7 + 1} 栋" if spaced else f"学院路{i}号{i % 7 + 1}栋"
    return f"浙江省|杭州市|西湖区|{detail}"


_ORDERS: list[int] = []


def _orders(user, *, paid: int, refunded: int, at: datetime) -> None:
    """Paid orders (and refunded ones) as the orders app leaves them, read by the refund
    rule; they carry no money (no ledger entries) and are removed after the run."""
    from quanzi.orders.models import Order

    for i in range(paid):
        when = at + timedelta(hours=i)
        order = Order.objects.create(
            user=user,
            status="completed" if i >= refunded else "refunded",
            total=5000,
            payable=5000,
            refunded_amount=5000 if i < refunded else 0,
            expires_at=when + timedelta(minutes=30),
            paid_at=when,
            address={},
        )
        Order.objects.filter(pk=order.pk).update(created_at=when)
        _ORDERS.append(order.pk)


def _honest(pop: _Population, honest: int) -> None:
    rng = pop.rng
    people = [
        pop.person(kind="honest", device=f"dev-h{i}", address=_place(1000 + i))
        for i in range(honest)
    ]
    # Households: one address and home IP, two devices and phones; they help each other.
    for i in range(honest // 10):
        a = people[2 * i]
        home_ip = f"115.200.{i // 250}.{i % 250 + 1}"
        b = pop.person(
            kind="honest",
            device=f"dev-hh{i}",
            address=_place(1000 + 2 * i, spaced=True),
            ip=home_ip,
        )
        from quanzi.risk.signals import signal_record

        signal_record(user_id=a.pk, kind="ip", value=home_ip, source="login", at=pop.start)
        for _ in range(2):
            pop.event(pop.day(), "bargain_help", b, a)
            pop.event(pop.day(), "bargain_help", a, b)
    # Strangers help each other's bargains.
    for _ in range(honest):
        a, b = rng.sample(people, 2)
        pop.event(pop.day(), "bargain_help", b, a)
    # Invitations: newcomers, fresh accounts with their own everything.
    for i in range(honest // 2):
        inviter = rng.choice(people)
        at = pop.day(0, 18)
        newcomer = pop.person(
            kind="honest",
            device=f"dev-new{i}",
            address=_place(3000 + i),
            joined=at - timedelta(hours=rng.randint(1, 48)),
        )
        pop.event(at, "reward_referral", newcomer, inviter)
        pop.event(at + timedelta(days=1), "commission", newcomer, inviter)
        people.append(newcomer)
    # A friend signing up on the inviter's home Wi-Fi: honest, and a near miss.
    for i in range(max(1, honest // 100)):
        inviter = people[i * 7]
        wifi = f"183.157.{i // 250}.{i % 250 + 1}"
        from quanzi.risk.signals import signal_record

        signal_record(user_id=inviter.pk, kind="ip", value=wifi, source="login", at=pop.start)
        at = pop.day(0, 18)
        friend = pop.person(
            kind="honest",
            device=f"dev-visit{i}",
            address=_place(3900 + i),
            joined=at - timedelta(hours=1),
            ip=wifi,
        )
        pop.event(at, "reward_referral", friend, inviter)
    # Claims and coupons, now and then (hours or days apart).
    for person in rng.sample(people, len(people) // 3):
        for _ in range(rng.randint(1, 5)):
            pop.event(pop.day(), "reward_grant", person)
        for _ in range(rng.randint(0, 3)):
            pop.event(pop.day(), "coupon_claim", person)
    # Sign-ins for points, on some days (once a day at most).
    for person in rng.sample(people, len(people) // 3):
        for d in rng.sample(range(21), rng.randint(2, 10)):
            pop.event(pop.day(d, d), "sign_in", person)
    # Groups: a leader and two or three strangers (some of them newcomers).
    for _ in range(honest // 4):
        leader, *members = rng.sample(people, rng.randint(3, 4))
        at = pop.day()
        for n, m in enumerate(members):
            joined = tuple(x.pk for x in members[: n + 1])
            pop.event(at + timedelta(minutes=5 * n), "group_join", m, leader, members=joined)
    # Distributors: commissions on their buyers' orders, then a withdrawal.
    for distributor in rng.sample(people, honest // 10):
        for buyer in rng.sample(people, 3):
            if buyer.pk != distributor.pk:
                pop.event(pop.day(), "commission", buyer, distributor)
        pop.event(pop.day(15, 20), "withdrawal", distributor)
    # Some refund one order in three, and are rewarded now and then.
    for person in rng.sample(people, honest // 10):
        _orders(person, paid=3, refunded=1, at=pop.start + timedelta(days=2))
        pop.event(pop.day(1, 2), "reward_grant", person)
        pop.event(pop.day(5, 20), "reward_grant", person)


def _abusers(pop: _Population, farms: int) -> None:
    rng = pop.rng
    for f in range(farms):  # device farms
        place, farm_ip = _place(5000 + f), f"112.10.{f}.9"
        owner = pop.person(kind="device_farm", device=f"dev-owner{f}", address=place)
        for _k in range(rng.randint(5, 8)):
            at = pop.day(0, 18)
            acct = pop.person(
                kind="device_farm",
                device=f"dev-farm{f}",
                address=place,
                joined=at - timedelta(minutes=rng.randint(5, 600)),
                ip=farm_ip,
            )
            pop.event(at, "reward_referral", acct, owner, "device_farm")
            pop.event(at + timedelta(minutes=5), "bargain_help", acct, owner, "device_farm")
    for f in range(farms):  # address farms: one place written differently, many devices
        owner = pop.person(kind="address_farm", device=f"dev-aowner{f}", address=_place(6000 + f))
        for k in range(rng.randint(3, 6)):
            at = pop.day(0, 18)
            acct = pop.person(
                kind="address_farm",
                device=f"dev-af{f}-{k}",
                address=_place(6000 + f, spaced=True),
                joined=at - timedelta(hours=rng.randint(1, 30)),
            )
            pop.event(at, "reward_referral", acct, owner, "address_farm")
    for f in range(farms):  # self-dealing: my phone on the second account, my wallet
        owner = pop.person(kind="self_dealing", device=f"dev-sd{f}", address=_place(7000 + f))
        at = pop.day(0, 15)
        second = pop.person(
            kind="self_dealing",
            device=f"dev-sd2-{f}",
            address=_place(7100 + f),
            phone=owner.phone,
            joined=at - timedelta(hours=2),
            wallet=owner.eval_wallet,
        )
        pop.event(at, "reward_referral", second, owner, "self_dealing")
        for d in range(3):
            pop.event(at + timedelta(days=d + 1), "commission", second, owner, "self_dealing")
    for f in range(farms):  # claim bursts: 45 claims within the hour
        grabber = pop.person(kind="claim_burst", device=f"dev-cb{f}", address=_place(8000 + f))
        at = pop.day()
        for i in range(45):
            pop.event(at + timedelta(seconds=80 * i), "reward_grant", grabber, None, "claim_burst")
    for f in range(farms):  # coupon farms: six accounts on one device, coupons in minutes
        at = pop.day()
        for k in range(6):
            acct = pop.person(
                kind="coupon_farm",
                device=f"dev-cf{f}",
                address=_place(8500 + f * 10 + k),
                joined=at - timedelta(days=rng.randint(0, 3)),
            )
            for i in range(3):
                pop.event(
                    at + timedelta(minutes=6 * k + i), "coupon_claim", acct, None, "coupon_farm"
                )
    for f in range(farms):  # sign-in farms: one connection, a device each, every morning
        farm_ip = f"60.190.{f}.21"
        accounts = [
            pop.person(
                kind="sign_in_farm",
                device=f"dev-emu{f}-{k}",
                address=_place(8700 + f * 10 + k),
                joined=pop.start - timedelta(days=rng.randint(10, 60)),
                ip=farm_ip,
            )
            for k in range(rng.randint(5, 7))
        ]
        first = rng.randint(0, 14)
        for d in range(first, first + 5):
            at = pop.start + timedelta(days=d, hours=7, minutes=rng.randint(0, 50))
            for k, acct in enumerate(accounts):
                pop.event(
                    at + timedelta(seconds=40 * k + rng.randint(0, 30)),
                    "sign_in",
                    acct,
                    None,
                    "sign_in_farm",
                )
    for f in range(farms):  # group 刷单 rings
        home_ip = f"122.224.{f}.7"
        leader = pop.person(
            kind="group_ring", device=f"dev-gl{f}", address=_place(9000 + f), ip=home_ip
        )
        sneaky = f % 2 == 1
        for g in range(2):
            at = pop.day(0, 18)
            members = [
                pop.person(
                    kind="group_ring",
                    device=f"dev-gr{f}-{g}-{k}",
                    address=_place(9100 + f * 10 + g * 4 + k),
                    joined=at - timedelta(hours=rng.randint(1, 20)),
                    ip=home_ip,
                    wallet="" if sneaky else leader.eval_wallet,
                )
                for k in range(rng.randint(2, 4))
            ]
            for n, m in enumerate(members):
                joined = tuple(x.pk for x in members[: n + 1])
                pop.event(
                    at + timedelta(minutes=3 * n),
                    "group_join",
                    m,
                    leader,
                    "group_ring",
                    members=joined,
                )
    for f in range(farms):  # refund abusers: rewarded, then refunds most of what it buys
        abuser = pop.person(kind="refund_abuser", device=f"dev-ra{f}", address=_place(9500 + f))
        pop.event(pop.start + timedelta(hours=2), "reward_grant", abuser)  # before: looks fine
        _orders(abuser, paid=rng.randint(4, 6), refunded=4, at=pop.start + timedelta(days=2))
        for _ in range(3):
            pop.event(pop.day(5, 20), "reward_grant", abuser, None, "refund_abuser")
    for f in range(farms):  # register → delete → register again on the same device
        from quanzi.accounts.models import User

        first = pop.person(kind="reregister", device=f"dev-rr{f}", address=_place(9700 + f))
        User.objects.filter(pk=first.pk).update(date_joined=pop.start - timedelta(days=1))
        pop.event(pop.start + timedelta(hours=1), "reward_grant", first)  # the first time
        at = pop.day(3, 18)
        again = pop.person(
            kind="reregister",
            device=f"dev-rr{f}",
            address=_place(9800 + f),
            joined=at - timedelta(hours=1),
        )
        pop.event(at, "reward_grant", again, None, "reregister")
        pop.event(at + timedelta(minutes=30), "coupon_claim", again, None, "reregister")
        pop.deletions.append((at - timedelta(hours=2), first.pk))


# Asked through the apps' own services, from the person's IP and device.
THROUGH_APPS = ("coupon_claim", "sign_in")


def _claimable_coupon() -> int:
    from quanzi.marketing.services import coupon_template_create

    template = coupon_template_create(
        data={
            "name": "评估用券",
            "kind": "amount_off",
            "amount": 300,
            "threshold": 0,
            "total": 1_000_000,
            "per_user_limit": 100,
            "valid_days": 7,
        }
    )
    return template.pk


def _through_app(e: _Event, *, template_id: int):
    """Claim or sign in through the marketing services with the clock at the event; the
    decision risk control logged for it (``None`` when it was refused before asking)."""
    from quanzi.accounts.models import User
    from quanzi.core.errors import QuanziError
    from quanzi.marketing.services import coupon_claim, sign_in
    from quanzi.risk.context import risk_context
    from quanzi.risk.models import RiskEvent
    from quanzi.risk.services import Decision
    from quanzi.simulation.clock import SimClock

    user = User.objects.get(pk=e.user_id)
    last = RiskEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with SimClock(start=e.at).installed(), risk_context(ip=e.ip, device_id=e.device_id):
        try:
            if e.kind == "coupon_claim":
                coupon_claim(user=user, template_id=template_id)
            else:
                sign_in(user=user)
        except QuanziError as exc:
            if not exc.code.startswith("risk_"):
                return None
            row = RiskEvent.objects.get(pk=exc.detail["risk_event_id"])
            return Decision(
                action=row.action, reason=row.reason, event_id=row.pk, detail=row.detail
            )
    row = RiskEvent.objects.filter(pk__gt=last, kind=e.kind, user_id=e.user_id).first()
    if row is None:
        return None
    return Decision(action=row.action, reason=row.reason, event_id=row.pk, detail=row.detail)


def evaluate(*, seed: int = 1, honest: int = 300, farms: int = 8) -> Evaluation:
    """Build the population in the current database, replay every event, and measure."""
    from django.utils import timezone

    from quanzi.accounts.models import User
    from quanzi.risk.services import ALLOW, RiskInput, risk_check

    start = timezone.now() - timedelta(days=21)
    pop = _Population(seed, start, honest)
    pop.deletions = []
    _honest(pop, honest)
    _abusers(pop, farms)
    deletions = sorted(pop.deletions)
    template_id = _claimable_coupon()
    result = Evaluation()
    held_people: set[int] = set()
    acting_honest: set[int] = set()
    for e in sorted(pop.events, key=lambda e: (e.at, e.user_id)):
        while deletions and deletions[0][0] <= e.at:
            _, user_id = deletions.pop(0)
            User.objects.filter(pk=user_id).update(is_active=False, phone=f"deleted-{user_id}")
        if e.kind in THROUGH_APPS:
            decision = _through_app(e, template_id=template_id)
            if decision is None:
                continue  # refused before risk was asked (signed in already that day)
        else:
            decision = risk_check(
                RiskInput(
                    kind=e.kind,
                    user_id=e.user_id,
                    counterpart_id=e.counterpart_id,
                    device_id=e.device_id,
                    ip=e.ip,
                    payment_account=e.payment_account,
                    members=e.members,
                    at=e.at,
                )
            )
        rules = {hit["rule"] for hit in decision.detail.get("hits", [])}
        result.events += 1
        for rule in rules:
            result.fired[rule] += 1
            if e.abuse:
                result.true_hits[rule] += 1
        blocked = decision.action != ALLOW
        if e.abuse:
            result.abusive += 1
            result.abusive_by_kind[e.abuse] += 1
            if blocked:
                result.caught += 1
                result.caught_by_kind[e.abuse] += 1
        elif pop.label.get(e.user_id) == "honest":
            result.honest_events += 1
            acting_honest.add(e.user_id)
            if blocked:
                result.honest_events_held += 1
                held_people.add(e.user_id)
    result.honest_users = len(acting_honest)
    result.honest_held = len(held_people)
    from quanzi.orders.models import Order

    Order.objects.filter(pk__in=_ORDERS).delete()
    _ORDERS.clear()
    from quanzi.marketing.models import CouponTemplate

    # The measuring coupon leaves the coupon centre (a demo database keeps the run).
    CouponTemplate.objects.filter(pk=template_id).update(is_active=False, claimable=False)
    return result


def evaluation_format(result: Evaluation, *, seed: int) -> str:
    lines = [
        f"risk evaluation, seed {seed}: {result.events} events, {result.abusive} abusive, "
        f"{result.honest_events} by honest people",
        f"{'rule':<20} {'fired':>6} {'precision':>10} {'recall':>8}",
    ]
    for rule in RULES:
        lines.append(
            f"{rule:<20} {result.fired[rule]:>6} {result.precision(rule):>10.1%} "
            f"{result.recall(rule):>8.1%}"
        )
    lines.append(
        f"overall: abusive events held, denied or sent to verification {result.overall_recall:.1%}"
        f" (recall), precision {result.overall_precision:.1%}"
    )
    lines.append(
        "caught per abuse: "
        + ", ".join(
            f"{k} {result.caught_by_kind[k]}/{result.abusive_by_kind[k]}"
            for k in ABUSES
            if result.abusive_by_kind[k]
        )
    )
    lines.append(
        f"honest people held at least once: {result.honest_held}/{result.honest_users} "
        f"({result.honest_held_share:.1%}); honest events held "
        f"{result.honest_events_held}/{result.honest_events}"
    )
    return "\n".join(lines)
