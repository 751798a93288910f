"""A population with seeded abuse, for measuring the risk rules (``quanzi manage
risk_evaluate --seed S``).

Honest people each have their own phone, device and address; some live two to a
household (one address, two devices) and help each other, which is honest. Abusers:

* **device farms** (羊毛党): 5–8 accounts made on one device, delivering to one address,
  invited by the farm's owner and helping the owner's bargains;
* **address farms**: accounts on different devices whose addresses are one place written
  differently (spaces, a missing 号), invited by their owner;
* **self-dealing distributors**: a second account whose address carries the owner's own
  phone, bound under the owner to earn the referral reward;
* **claim bursts**: an account claiming rewards dozens of times within the hour.

Every event is asked of ``risk_check`` exactly as the apps ask it; the report compares
each rule's hits with the known labels.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

RULES = ("related", "burst", "shared_device")
RELATED = {"same_account", "same_device", "same_phone", "same_address"}


@dataclass
class Evaluation:
    events: int = 0
    abusive: int = 0
    caught: int = 0  # abusive events held or denied
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
    def honest_held_share(self) -> float:
        return self.honest_held / self.honest_users if self.honest_users else 0.0


class _Population:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.n = 0
        self.label: dict[int, str] = {}  # user id -> "honest" or the abuse kind

    def person(self, *, kind: str, device: str, address: str, phone: str = ""):
        from quanzi.accounts.services import address_create, user_create

        self.n += 1
        user = user_create(
            phone=f"150{self.n:08d}",
            password="eval-pass-1",
            nickname=f"u{self.n}",
            device_id=device,
        )
        province, city, district, detail = address.split("|")
        address_create(
            user=user,
            data={
                "name": f"u{self.n}",
                "phone": phone or f"151{self.n:08d}",
                "province": province,
                "city": city,
                "district": district,
                "detail": detail,
            },
        )
        self.label[user.pk] = kind
        return user


def _place(i: int, *, spaced: bool = False) -> str:
    detail = f"学院路 {i} 号 {i % 7 + 1} 栋" if spaced else f"学院路{i}号{i % 7 + 1}栋"
    return f"浙江省|杭州市|西湖区|{detail}"


def evaluate(*, seed: int = 1, honest: int = 300, farms: int = 8) -> Evaluation:
    """Build the population in the current database, ask every event, and measure."""
    from quanzi.risk.services import ALLOW, RiskInput, risk_check

    pop = _Population(seed)
    rng = pop.rng
    events: list[tuple[RiskInput, bool, str]] = []  # (event, abusive, abuse kind)

    people = []
    for i in range(honest):
        people.append(pop.person(kind="honest", device=f"dev-h{i}", address=_place(1000 + i)))
    # Households: two honest people at one address (different devices, phones).
    households = []
    for i in range(honest // 10):
        a = people[2 * i]
        b = pop.person(
            kind="honest", device=f"dev-hh{i}", address=_place(1000 + 2 * i, spaced=True)
        )
        people.append(b)
        households.append((a, b))

    def honest_pair():
        a, b = rng.sample(people, 2)
        return a, b

    for _ in range(honest):  # invitations and helps among strangers
        a, b = honest_pair()
        events.append(
            (RiskInput(kind="reward_referral", user_id=b.pk, counterpart_id=a.pk), False, "")
        )
        a, b = honest_pair()
        events.append(
            (RiskInput(kind="bargain_help", user_id=b.pk, counterpart_id=a.pk), False, "")
        )
    for a, b in households:  # family members help each other: honest, a near miss
        events.append(
            (RiskInput(kind="bargain_help", user_id=b.pk, counterpart_id=a.pk), False, "")
        )
    for person in rng.sample(people, honest // 5):  # a few honest claims each
        for _ in range(rng.randint(1, 5)):
            events.append((RiskInput(kind="reward_grant", user_id=person.pk), False, ""))

    for f in range(farms):  # device farms
        place = _place(5000 + f)
        owner = pop.person(kind="device_farm", device=f"dev-owner{f}", address=place)
        for _k in range(rng.randint(5, 8)):
            acct = pop.person(kind="device_farm", device=f"dev-farm{f}", address=place)
            events.append(
                (
                    RiskInput(kind="reward_referral", user_id=acct.pk, counterpart_id=owner.pk),
                    True,
                    "device_farm",
                )
            )
            events.append(
                (
                    RiskInput(kind="bargain_help", user_id=acct.pk, counterpart_id=owner.pk),
                    True,
                    "device_farm",
                )
            )
    for f in range(farms):  # address farms: one place, written differently, many devices
        owner = pop.person(kind="address_farm", device=f"dev-aowner{f}", address=_place(6000 + f))
        for k in range(rng.randint(3, 6)):
            acct = pop.person(
                kind="address_farm", device=f"dev-af{f}-{k}", address=_place(6000 + f, spaced=True)
            )
            events.append(
                (
                    RiskInput(kind="reward_referral", user_id=acct.pk, counterpart_id=owner.pk),
                    True,
                    "address_farm",
                )
            )
    for f in range(farms):  # self-dealing: the second account's address carries my phone
        owner = pop.person(kind="self_dealing", device=f"dev-sd{f}", address=_place(7000 + f))
        second = pop.person(
            kind="self_dealing", device=f"dev-sd2-{f}", address=_place(7100 + f), phone=owner.phone
        )
        events.append(
            (
                RiskInput(kind="reward_referral", user_id=second.pk, counterpart_id=owner.pk),
                True,
                "self_dealing",
            )
        )
    for f in range(farms):  # claim bursts
        grabber = pop.person(kind="claim_burst", device=f"dev-cb{f}", address=_place(8000 + f))
        for _ in range(45):
            events.append((RiskInput(kind="reward_grant", user_id=grabber.pk), True, "claim_burst"))

    rng.shuffle(events)
    # Bursts come in a row, as they do: keep each grabber's claims in their order.
    result = Evaluation()
    held_people: set[int] = set()
    acting_honest: set[int] = set()
    for event, abusive, kind in events:
        decision = risk_check(event)
        reasons = {hit["reason"] for hit in decision.detail.get("hits", [])}
        rules = {"related" for r in reasons if r in RELATED} | (
            reasons & {"burst", "shared_device"}
        )
        result.events += 1
        for rule in rules:
            result.fired[rule] += 1
            if abusive:
                result.true_hits[rule] += 1
        blocked = decision.action != ALLOW
        if abusive:
            result.abusive += 1
            result.abusive_by_kind[kind] += 1
            if blocked:
                result.caught += 1
                result.caught_by_kind[kind] += 1
        else:
            acting_honest.add(event.user_id)
            if blocked:
                held_people.add(event.user_id)
    result.honest_users = len(acting_honest)
    result.honest_held = len(held_people)
    return result


def evaluation_format(result: Evaluation, *, seed: int) -> str:
    lines = [
        f"risk evaluation, seed {seed}: {result.events} events, {result.abusive} abusive",
        f"{'rule':<14} {'fired':>6} {'precision':>10} {'recall':>8}",
    ]
    for rule in RULES:
        lines.append(
            f"{rule:<14} {result.fired[rule]:>6} {result.precision(rule):>10.1%} "
            f"{result.recall(rule):>8.1%}"
        )
    lines.append(f"overall: abusive events held or denied {result.overall_recall:.1%}")
    by_kind = defaultdict(str)
    for kind, n in sorted(result.abusive_by_kind.items()):
        by_kind[kind] = f"{result.caught_by_kind[kind]}/{n}"
    lines.append("caught per abuse: " + ", ".join(f"{k} {v}" for k, v in by_kind.items()))
    lines.append(
        f"honest people held at least once: {result.honest_held}/{result.honest_users} "
        f"({result.honest_held_share:.1%})"
    )
    return "\n".join(lines)
