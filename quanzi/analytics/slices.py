"""Breakdowns of a day (``SliceFact``), built by the facts job with the daily facts.

Each is counted on the day of its own timestamp, like the daily facts, so a closed day no
longer changes and rebuilding a day changes nothing:

* **member** — GMV, paid orders and buyers of the orders paid that day, split between
  buyers who were paid members when they paid (a membership period running at that
  moment, not revoked by then, and not the one this very order bought) and the others;
* **region** — the same split by the province of the order's delivery address;
* **level** — by the buyer's member level when they paid: the highest level whose
  threshold the growth earned before that moment reaches (``0``: below every level);
* **buyer** — ``new`` when the buyer's first paid order ever was paid that day,
  ``returning`` otherwise;
* **supplier** — per supplier of the order lines: units sold and GMV (the lines' paid
  amount) of lines paid that day and the orders they are on; units refunded by refunds
  that succeeded that day; orders a customer asked a refund for that day naming the
  supplier's lines (a complaint, whatever its outcome); visible reviews written that day
  of its lines and their ratings;
* **note** / **creator** — per note (and per author, across their notes): opens (each
  time a known reader opened it, in the app or through a share link) and openers that
  day; orders paid that day with a line attributed to the note, their buyers and the
  attributed lines' GMV;
* **share** — per campaign shared (``<target>:<id>``: a product, a group, a bargain, a
  note, a shop, a circle): links made that day and the deepest of them in the share tree;
  recipients (people or sessions other than the sharer opening one of its links for the
  first time) that day; sharers (who made a link or reached a recipient that day);
  registrations and paid orders through the links that day, their buyers and amount.

The order breakdowns (member, region, level, buyer, supplier) have the order's channel
and dimensions (shop, leader, creator, circle, partner). Notes carry their author
(``creator``) and the circle they were posted to; shares carry the shop shared, the
note's author and circle, the circle shared. Notes and shares have the ``all`` channel
only: opening a note or a link is not an order of a channel.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.apps import apps

from quanzi.analytics.models import SliceFact

ORDER_REPORTS = ("member", "region", "level", "buyer", "supplier")
REPORTS = (*ORDER_REPORTS, "note", "creator", "share")


@dataclass
class _Slice:
    gmv: int = 0
    paid_orders: set = field(default_factory=set)
    buyers: set = field(default_factory=set)
    units: int = 0
    units_refunded: int = 0
    orders_complained: set = field(default_factory=set)
    reviews: int = 0
    rating_total: int = 0
    opens: int = 0
    openers: set = field(default_factory=set)
    links: int = 0
    sharers: set = field(default_factory=set)
    recipients: set = field(default_factory=set)
    registrations: int = 0
    depth: int = 0

    def empty(self) -> bool:
        return not (
            self.paid_orders
            or self.units
            or self.units_refunded
            or self.orders_complained
            or self.reviews
            or self.opens
            or self.links
            or self.recipients
            or self.registrations
        )


def _window(day: date):
    from quanzi.analytics.facts import day_start

    return day_start(day), day_start(day + timedelta(days=1))


def slices_extra_orders(*, day: date) -> set[int]:
    """Orders whose channel and dimensions the breakdowns need beyond the day's own:
    those complained about or reviewed that day."""
    from quanzi.orders.models import Refund

    start, end = _window(day)
    ids = set(
        Refund.objects.filter(kind="customer", created_at__gte=start, created_at__lt=end)
        .values_list("order_id", flat=True)
        .distinct()
    )
    if apps.is_installed("quanzi.content"):
        from quanzi.content.models import Review

        ids |= set(
            Review.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
                "order_id", flat=True
            )
        )
    return ids


def slices_compute_day(*, day: date, orders) -> list[SliceFact]:
    """Every breakdown of ``day`` as unsaved rows (``orders``: ``facts.day_orders``)."""
    acc: dict[tuple, _Slice] = defaultdict(_Slice)
    _profiles(acc, orders)
    _suppliers(acc, day, orders)
    if apps.is_installed("quanzi.content"):
        _notes(acc, day, orders)
    if apps.is_installed("quanzi.social"):
        _shares(acc, day)
    return [
        SliceFact(
            day=day,
            report=report,
            key=key,
            channel=channel,
            dim=dim,
            dim_id=dim_id,
            gmv=s.gmv,
            paid_orders=len(s.paid_orders),
            buyers=len(s.buyers),
            units=s.units,
            units_refunded=s.units_refunded,
            orders_complained=len(s.orders_complained),
            reviews=s.reviews,
            rating_total=s.rating_total,
            opens=s.opens,
            openers=len(s.openers),
            links=s.links,
            sharers=len(s.sharers),
            recipients=len(s.recipients),
            registrations=s.registrations,
            depth=s.depth,
        )
        for (report, key, channel, dim, dim_id), s in sorted(acc.items())
        if not s.empty()
    ]


# ------------------------------------------------------------------ orders paid that day


def member_at(user_ids, orders: list) -> dict[int, bool]:
    """For each order: was its buyer a paid member when it paid?"""
    from quanzi.membership.models import MembershipPeriod

    periods = defaultdict(list)
    for user_id, order_id, starts, ends, revoked in MembershipPeriod.objects.filter(
        user_id__in=list(user_ids)
    ).values_list("user_id", "order_id", "starts_at", "ends_at", "revoked_at"):
        periods[user_id].append((order_id, starts, ends, revoked))
    out = {}
    for o in orders:
        at = o["paid_at"]
        out[o["id"]] = any(
            order_id != o["id"] and starts <= at < ends and (revoked is None or revoked > at)
            for order_id, starts, ends, revoked in periods[o["user_id"]]
        )
    return out


def level_at(user_ids, orders: list) -> dict[int, int]:
    """For each order: the id of its buyer's member level when it paid (0: none), from
    the growth entries recorded before that moment."""
    from quanzi.membership.models import GrowthEntry, MemberLevel

    levels = list(MemberLevel.objects.order_by("-min_growth").values_list("min_growth", "pk"))
    entries = defaultdict(list)
    for user_id, amount, created in GrowthEntry.objects.filter(
        user_id__in=list(user_ids)
    ).values_list("user_id", "amount", "created_at"):
        entries[user_id].append((created, amount))
    out = {}
    for o in orders:
        growth = sum(a for at, a in entries[o["user_id"]] if at < o["paid_at"])
        out[o["id"]] = next((pk for threshold, pk in levels if growth >= threshold), 0)
    return out


def first_paid(user_ids) -> dict[int, object]:
    from django.db.models import Min

    from quanzi.orders.models import Order

    return dict(
        Order.objects.filter(user_id__in=list(user_ids), paid_at__isnull=False)
        .values("user_id")
        .annotate(first=Min("paid_at"))
        .values_list("user_id", "first")
    )


def _add(acc, report: str, key: str, order_keys, order: dict, amount: int) -> list[_Slice]:
    out = []
    for channel, dim, dim_id in order_keys:
        s = acc[(report, key, channel, dim, dim_id)]
        s.gmv += amount
        s.paid_orders.add(order["id"])
        s.buyers.add(order["user_id"])
        out.append(s)
    return out


def _profiles(acc, orders) -> None:
    from quanzi.orders.models import Order

    today = orders.paid_today
    if not today:
        return
    users = {o["user_id"] for o in today}
    members = member_at(users, today)
    levels = level_at(users, today)
    firsts = first_paid(users)
    addresses = dict(
        Order.objects.filter(pk__in=[o["id"] for o in today]).values_list("id", "address")
    )
    for o in today:
        keys = orders.keys_of[o["id"]]
        amount = o["payable"]
        _add(acc, "member", "member" if members[o["id"]] else "other", keys, o, amount)
        province = (addresses.get(o["id"]) or {}).get("province") or ""
        _add(acc, "region", str(province)[:64], keys, o, amount)
        _add(acc, "level", str(levels[o["id"]]), keys, o, amount)
        new = firsts.get(o["user_id"]) is not None and firsts[o["user_id"]] >= orders.start
        _add(acc, "buyer", "new" if new else "returning", keys, o, amount)


def _suppliers(acc, day: date, orders) -> None:
    from quanzi.orders.models import OrderLine, Refund

    start, end = _window(day)
    today = {o["id"]: o for o in orders.paid_today}
    for order_id, supplier_id, qty, paid in OrderLine.objects.filter(
        order_id__in=list(today), supplier_id__isnull=False
    ).values_list("order_id", "supplier_id", "qty", "paid"):
        o = today[order_id]
        for s in _add(acc, "supplier", str(supplier_id), orders.keys_of[order_id], o, paid):
            s.units += qty
    refund_lines = [(r["order_id"], row) for r in orders.refunds for row in r["lines"] or []]
    complaints = list(
        Refund.objects.filter(kind="customer", created_at__gte=start, created_at__lt=end)
        .values_list("order_id", "lines")
        .order_by("id")
    )
    line_ids = {row.get("line_id") for _, row in refund_lines if isinstance(row, dict)}
    line_ids |= {
        row.get("line_id")
        for _, lines in complaints
        for row in lines or []
        if isinstance(row, dict)
    }
    reviews = []
    if apps.is_installed("quanzi.content"):
        from quanzi.content.models import Review

        reviews = list(
            Review.objects.filter(
                created_at__gte=start, created_at__lt=end, visibility="visible"
            ).values_list("order_id", "line_id", "rating")
        )
        line_ids |= {line_id for _, line_id, _ in reviews}
    supplier_of = dict(
        OrderLine.objects.filter(
            pk__in=[i for i in line_ids if i], supplier_id__isnull=False
        ).values_list("id", "supplier_id")
    )
    for order_id, row in refund_lines:
        supplier_id = supplier_of.get(row.get("line_id")) if isinstance(row, dict) else None
        if supplier_id is None:
            continue
        for channel, dim, dim_id in orders.keys_of[order_id]:
            acc[("supplier", str(supplier_id), channel, dim, dim_id)].units_refunded += int(
                row.get("qty") or 0
            )
    for order_id, lines in complaints:
        named = {
            supplier_of.get(row.get("line_id")) for row in lines or [] if isinstance(row, dict)
        }
        for supplier_id in named - {None}:
            for channel, dim, dim_id in orders.keys_of[order_id]:
                acc[("supplier", str(supplier_id), channel, dim, dim_id)].orders_complained.add(
                    order_id
                )
    for order_id, line_id, rating in reviews:
        supplier_id = supplier_of.get(line_id)
        if supplier_id is None:
            continue
        for channel, dim, dim_id in orders.keys_of[order_id]:
            s = acc[("supplier", str(supplier_id), channel, dim, dim_id)]
            s.reviews += 1
            s.rating_total += rating


# ------------------------------------------------------------------ notes and shares


def _note_dims(note_ids) -> tuple[dict[int, int], dict[int, list]]:
    """Each note's author, and its dimensions: [("all", 0), ("creator", author),
    ("circle", circle it was posted to)]."""
    from quanzi.content.models import Note

    authors = dict(Note.objects.filter(pk__in=list(note_ids)).values_list("pk", "author_id"))
    dims = {pk: [("all", 0), ("creator", author)] for pk, author in authors.items()}
    if apps.is_installed("quanzi.circles"):
        from quanzi.circles.models import Post

        for note_id, circle_id in Post.objects.filter(note_id__in=list(authors)).values_list(
            "note_id", "circle_id"
        ):
            dims[note_id].append(("circle", circle_id))
    return authors, dims


def _notes(acc, day: date, orders) -> None:
    from quanzi.content.models import CreatorCommission, NoteTouch

    start, end = _window(day)
    touches = list(
        NoteTouch.objects.filter(at__gte=start, at__lt=end).values_list("note_id", "user_id")
    )
    today = {o["id"]: o for o in orders.paid_today}
    attributed = list(
        CreatorCommission.objects.filter(order_id__in=list(today)).values_list(
            "note_id", "order_id", "line__paid"
        )
    )
    authors, dims = _note_dims({n for n, _ in touches} | {n for n, _, _ in attributed})

    def slices(note_id):
        for dim, dim_id in dims.get(note_id, []):
            yield acc[("note", str(note_id), "all", dim, dim_id)]
            yield acc[("creator", str(authors[note_id]), "all", dim, dim_id)]

    for note_id, user_id in touches:
        for s in slices(note_id):
            s.opens += 1
            s.openers.add(user_id)
    for note_id, order_id, paid in attributed:  # one row per attributed line
        for s in slices(note_id):
            s.paid_orders.add(order_id)
            s.buyers.add(today[order_id]["user_id"])
            s.gmv += paid


def share_target_dims(links: list[dict]) -> dict[tuple[str, int], list]:
    """Each shared campaign's dimensions: the shop shared, the note's author and circle,
    the circle shared."""
    out = {(link["target"], link["target_id"]): [("all", 0)] for link in links}
    notes = [tid for target, tid in out if target == "note"]
    if notes and apps.is_installed("quanzi.content"):
        _, note_dims = _note_dims(notes)
        for note_id, dims in note_dims.items():
            out[("note", note_id)] = dims
    for target, tid in out:
        if target == "shop":
            out[(target, tid)].append(("shop", tid))
        elif target == "circle":
            out[(target, tid)].append(("circle", tid))
    return out


def _shares(acc, day: date) -> None:
    from quanzi.social.models import ConversionKind, ShareConversion, ShareLink, ShareVisit

    start, end = _window(day)
    fields = ("id", "sharer_id", "target", "target_id", "depth")
    made = list(ShareLink.objects.filter(created_at__gte=start, created_at__lt=end).values(*fields))
    visits = list(
        ShareVisit.objects.filter(first_at__gte=start, first_at__lt=end).values_list(
            "link_id", "visitor_id", "session_key"
        )
    )
    conversions = list(
        ShareConversion.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
            "link_id", "kind", "user_id", "order_id", "amount"
        )
    )
    wanted = {v[0] for v in visits} | {c[0] for c in conversions}
    links = {link["id"]: link for link in made}
    for link in ShareLink.objects.filter(pk__in=list(wanted - set(links))).values(*fields):
        links[link["id"]] = link
    dims = share_target_dims(list(links.values()))

    def slices(link):
        key = f"{link['target']}:{link['target_id']}"[:64]
        for dim, dim_id in dims[(link["target"], link["target_id"])]:
            yield acc[("share", key, "all", dim, dim_id)]

    for link in made:
        for s in slices(link):
            s.links += 1
            s.sharers.add(link["sharer_id"])
            s.depth = max(s.depth, link["depth"])
    for link_id, visitor_id, session_key in visits:
        link = links[link_id]
        if visitor_id is not None and visitor_id == link["sharer_id"]:
            continue
        recipient = f"u:{visitor_id}" if visitor_id is not None else f"s:{session_key}"
        for s in slices(link):
            s.recipients.add(recipient)
            s.sharers.add(link["sharer_id"])
    for link_id, kind, user_id, order_id, amount in conversions:
        for s in slices(links[link_id]):
            if kind == ConversionKind.REGISTER:
                s.registrations += 1
            else:
                s.paid_orders.add(order_id)
                s.buyers.add(user_id)
                s.gmv += amount
