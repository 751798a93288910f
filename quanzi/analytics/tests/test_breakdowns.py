"""Each breakdown the job builds equals a direct count over the generated history, for
the whole shop and for a circle; rebuilding a day changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Q, Sum

from quanzi.analytics.facts import day_start, facts_backfill, facts_build_day
from quanzi.analytics.models import DailyFact, SliceFact
from quanzi.analytics.tests.history import DAYS, rich_history  # noqa: F401  (the fixture)

MEASURES = [f.name for f in SliceFact._meta.fields if f.name not in ("id", "day", "report")]


def _window(day):
    return day_start(day), day_start(day + timedelta(days=1))


def _built(report, day, *, dim="all", dim_id=0, channel="all") -> dict:
    rows = SliceFact.objects.filter(
        report=report, day=day, channel=channel, dim=dim, dim_id=dim_id
    ).values()
    out = {}
    for row in rows:
        got = {k: v for k, v in row.items() if k not in ("id", "day", "report", "key")}
        got = {k: v for k, v in got.items() if k in MEASURES and v and k not in ("channel", "dim")}
        got.pop("dim_id", None)
        out[row["key"]] = got
    return out


def _scope_orders(dim, dim_id, channel="all"):
    from quanzi.circles.models import Sale
    from quanzi.orders.models import Order
    from quanzi.partners.models import PartnerOrder

    ids = set(Order.objects.values_list("id", flat=True))
    circle_sales = set(Sale.objects.values_list("order_id", flat=True))
    if dim == "circle":
        ids &= set(Sale.objects.filter(circle_id=dim_id).values_list("order_id", flat=True))
    if channel == "circle":
        ids &= circle_sales
    if channel == "partner":
        ids &= set(PartnerOrder.objects.values_list("order_id", flat=True)) - circle_sales
    return ids


def _clean(expected: dict) -> dict:
    out = {}
    for key, measures in expected.items():
        row = {}
        for k, v in measures.items():
            v = len(v) if isinstance(v, set) else v
            if v:
                row[k] = v
        if row:
            out[key] = row
    return out


def _order_breakdowns(day, ids) -> dict[str, dict]:
    """member / region / level / buyer, counted order by order."""
    from quanzi.membership.models import GrowthEntry, MemberLevel, MembershipPeriod
    from quanzi.orders.models import Order

    start, end = _window(day)
    out = {
        r: defaultdict(lambda: {"gmv": 0, "paid_orders": set(), "buyers": set()})
        for r in (
            "member",
            "region",
            "level",
            "buyer",
        )
    }
    for o in Order.objects.filter(paid_at__gte=start, paid_at__lt=end, pk__in=ids):
        member = (
            MembershipPeriod.objects.filter(
                user_id=o.user_id, starts_at__lte=o.paid_at, ends_at__gt=o.paid_at
            )
            .exclude(order_id=o.pk)
            .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=o.paid_at))
            .exists()
        )
        growth = (
            GrowthEntry.objects.filter(user_id=o.user_id, created_at__lt=o.paid_at).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
        level = MemberLevel.objects.filter(min_growth__lte=growth).order_by("-min_growth").first()
        first = (
            Order.objects.filter(user_id=o.user_id, paid_at__isnull=False)
            .order_by("paid_at")
            .first()
        )
        keys = {
            "member": "member" if member else "other",
            "region": o.address.get("province", ""),
            "level": str(level.pk if level else 0),
            "buyer": "new" if first.paid_at >= start else "returning",
        }
        for report, key in keys.items():
            row = out[report][key]
            row["gmv"] += o.payable
            row["paid_orders"].add(o.pk)
            row["buyers"].add(o.user_id)
    return {r: _clean(v) for r, v in out.items()}


def _suppliers(day, ids) -> dict:
    from quanzi.content.models import Review
    from quanzi.orders.models import OrderLine, Refund

    start, end = _window(day)
    out = defaultdict(
        lambda: {
            "gmv": 0,
            "paid_orders": set(),
            "buyers": set(),
            "units": 0,
            "units_refunded": 0,
            "orders_complained": set(),
            "reviews": 0,
            "rating_total": 0,
        }
    )
    for line in OrderLine.objects.filter(
        order__paid_at__gte=start, order__paid_at__lt=end, order_id__in=ids
    ).select_related("order"):
        if line.supplier_id:
            row = out[str(line.supplier_id)]
            row["gmv"] += line.paid
            row["units"] += line.qty
            row["paid_orders"].add(line.order_id)
            row["buyers"].add(line.order.user_id)
    for refund in Refund.objects.filter(
        status="succeeded", succeeded_at__gte=start, succeeded_at__lt=end, order_id__in=ids
    ):
        for item in refund.lines:
            line = OrderLine.objects.get(pk=item["line_id"])
            if line.supplier_id:
                out[str(line.supplier_id)]["units_refunded"] += item["qty"]
    for refund in Refund.objects.filter(
        kind="customer", created_at__gte=start, created_at__lt=end, order_id__in=ids
    ):
        for item in refund.lines:
            line = OrderLine.objects.get(pk=item["line_id"])
            if line.supplier_id:
                out[str(line.supplier_id)]["orders_complained"].add(refund.order_id)
    for review in Review.objects.filter(
        created_at__gte=start, created_at__lt=end, visibility="visible", order_id__in=ids
    ):
        line = OrderLine.objects.get(pk=review.line_id)
        if line.supplier_id:
            out[str(line.supplier_id)]["reviews"] += 1
            out[str(line.supplier_id)]["rating_total"] += review.rating
    return _clean(out)


def _notes(day) -> tuple[dict, dict]:
    from quanzi.content.models import CreatorCommission, NoteTouch

    start, end = _window(day)
    notes = defaultdict(
        lambda: {"opens": 0, "openers": set(), "paid_orders": set(), "buyers": set(), "gmv": 0}
    )
    creators = defaultdict(lambda: {"opens": 0, "openers": set(), "paid_orders": set(), "buyers": set(), "gmv": 0})  # fmt: skip
    for touch in NoteTouch.objects.filter(at__gte=start, at__lt=end).select_related("note"):
        for row in (notes[str(touch.note_id)], creators[str(touch.note.author_id)]):
            row["opens"] += 1
            row["openers"].add(touch.user_id)
    for cc in CreatorCommission.objects.filter(
        order__paid_at__gte=start, order__paid_at__lt=end
    ).select_related("order", "line", "note"):
        for row in (notes[str(cc.note_id)], creators[str(cc.note.author_id)]):
            row["paid_orders"].add(cc.order_id)
            row["buyers"].add(cc.order.user_id)
            row["gmv"] += cc.line.paid
    return _clean(notes), _clean(creators)


def _shares(day) -> dict:
    from quanzi.social.models import ShareConversion, ShareLink, ShareVisit

    start, end = _window(day)
    out = defaultdict(
        lambda: {
            "links": 0,
            "depth": 0,
            "sharers": set(),
            "recipients": set(),
            "registrations": 0,
            "paid_orders": set(),
            "buyers": set(),
            "gmv": 0,
        }
    )

    def key(link):
        return f"{link.target}:{link.target_id}"

    for link in ShareLink.objects.filter(created_at__gte=start, created_at__lt=end):
        row = out[key(link)]
        row["links"] += 1
        row["depth"] = max(row["depth"], link.depth)
        row["sharers"].add(link.sharer_id)
    for visit in ShareVisit.objects.filter(first_at__gte=start, first_at__lt=end).select_related(
        "link"
    ):
        if visit.visitor_id == visit.link.sharer_id:
            continue
        row = out[key(visit.link)]
        row["recipients"].add(visit.visitor_id or visit.session_key)
        row["sharers"].add(visit.link.sharer_id)
    for conv in ShareConversion.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).select_related("link"):
        row = out[key(conv.link)]
        if conv.kind == "register":
            row["registrations"] += 1
        else:
            row["paid_orders"].add(conv.order_id)
            row["buyers"].add(conv.user_id)
            row["gmv"] += conv.amount
    return _clean(out)


def test_each_breakdown_equals_a_direct_count(rich_history):  # noqa: F811
    facts_backfill(start=DAYS[0], end=DAYS[-1])
    circle = rich_history["circle"].pk
    assert SliceFact.objects.filter(report="share").exists()
    seen = defaultdict(int)
    for day in DAYS:
        for dim, dim_id, channel in (
            ("all", 0, "all"),
            ("circle", circle, "all"),
            ("all", 0, "circle"),
            ("all", 0, "partner"),
        ):
            ids = _scope_orders(dim, dim_id, channel)
            scope = {"dim": dim, "dim_id": dim_id, "channel": channel}
            for report, expected in _order_breakdowns(day, ids).items():
                assert _built(report, day, **scope) == expected, (report, day, scope)
                seen[report] += len(expected)
            expected = _suppliers(day, ids)
            assert _built("supplier", day, **scope) == expected, (day, scope)
            seen["supplier"] += len(expected)
        notes, creators = _notes(day)
        assert _built("note", day) == notes, day
        assert _built("creator", day) == creators, day
        assert _built("share", day) == _shares(day), day
        seen["note"] += len(notes)
        seen["share"] += len(_shares(day))
    # The history exercises every breakdown (none is trivially empty on both sides).
    assert all(seen[r] for r in ("member", "region", "level", "buyer", "supplier", "note", "share"))
    keys = set(SliceFact.objects.filter(report="member").values_list("key", flat=True))
    assert keys == {"member", "other"}
    assert SliceFact.objects.filter(report="level").exclude(key="0").exists()
    assert SliceFact.objects.filter(report="supplier", orders_complained__gt=0).exists()
    assert SliceFact.objects.filter(report="supplier", units_refunded__gt=0).exists()


def test_circles_and_partners_are_channels_and_dimensions_of_the_daily_facts(rich_history):  # noqa: F811
    from quanzi.analytics.tests.test_facts import _direct, _fact

    facts_backfill(start=DAYS[0], end=DAYS[-1])
    circle, partner = rich_history["circle"].pk, rich_history["partner"].pk
    for day in DAYS:
        assert _fact(day, dim="circle", dim_id=circle) == _direct(
            day, pk__in=_scope_orders("circle", circle)
        )
        assert _fact(day, channel="circle") == _direct(
            day, pk__in=_scope_orders("all", 0, "circle")
        )
        assert _fact(day, channel="partner") == _direct(
            day, pk__in=_scope_orders("all", 0, "partner")
        )
        assert _fact(day, dim="partner", dim_id=partner) == _fact(day, channel="partner")
    assert DailyFact.objects.filter(channel="circle", gmv__gt=0).exists()
    assert DailyFact.objects.filter(channel="partner", gmv__gt=0).exists()


def test_rebuilding_a_day_changes_no_breakdown(rich_history):  # noqa: F811
    facts_backfill(start=DAYS[0], end=DAYS[-1])
    order = ("day", "report", "key", "channel", "dim", "dim_id")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "id"} for r in rows]  # noqa: E731
    before = strip(SliceFact.objects.order_by(*order).values())
    for day in DAYS:
        facts_build_day(day=day)
    assert strip(SliceFact.objects.order_by(*order).values()) == before
    assert len(before) > 50
