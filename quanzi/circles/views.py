"""Storefront pages of circles: the list (by label), a circle's home (feed, pinned
announcements, join and leave), its "circle buy" page, members and health for the owner,
and "my circles"."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from quanzi.circles import members, selectors
from quanzi.circles.errors import error_text
from quanzi.circles.models import Circle, Label, Membership, MemberStatus
from quanzi.core.errors import QuanziError
from quanzi.storefront.web import int_or_none


def _user(request):
    return request.user if request.user.is_authenticated else None


def _circle_or_404(circle_id: int) -> Circle:
    circle = Circle.objects.prefetch_related("labels").filter(pk=circle_id).first()
    if circle is None:
        raise Http404("no such circle")
    return circle


def circle_list(request):
    label_id = int_or_none(request.GET.get("label"))
    circles = list(selectors.circles_find(label_id=label_id, q=request.GET.get("q", "")[:40])[:60])
    return render(
        request,
        "circles/list.html",
        {
            "labels": Label.objects.filter(is_active=True),
            "label_id": label_id,
            "circles": circles,
            "recommended": [] if label_id else selectors.circles_recommended(user=_user(request)),
            "q": request.GET.get("q", ""),
        },
    )


def circle_page(request, circle_id: int):
    from quanzi.content.selectors import note_cards

    circle = _circle_or_404(circle_id)
    me = members.membership_of(circle_id=circle.pk, user=_user(request))
    can_read = selectors.can_read_feed(circle, me)
    notes = selectors.feed_notes(circle=circle) if can_read else []
    return render(
        request,
        "circles/circle.html",
        {
            "circle": circle,
            "me": me,
            "is_member": me is not None and me.status == MemberStatus.MEMBER,
            "is_owner": _user(request) is not None and circle.owner_id == request.user.pk,
            "can_read": can_read,
            "announcements": selectors.announcements_pinned(circle=circle) if can_read else [],
            "cards": note_cards(notes, user=_user(request)),
            "invite": request.GET.get("invite", "")[:24],
            "deal_count": circle.deals.count(),
        },
    )


@login_required
@require_POST
def circle_join(request, circle_id: int):
    try:
        m = members.circle_join(
            circle_id=circle_id,
            user=request.user,
            invite_token=request.POST.get("invite", "")[:24],
            answer=request.POST.get("answer", "")[:200],
        )
        if m.status == MemberStatus.PENDING:
            messages.success(request, pgettext("circle", "Asked to join: the owner will decide."))
        else:
            messages.success(request, pgettext("circle", "Welcome to the circle!"))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/circles/{circle_id}/")


@login_required
@require_POST
def circle_leave(request, circle_id: int):
    try:
        members.circle_leave(circle_id=circle_id, user=request.user)
        messages.success(request, pgettext("circle", "You left the circle."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/circles/{circle_id}/")


@login_required
@require_POST
def circle_invite(request, circle_id: int):
    try:
        invite = members.invite_create(circle_id=circle_id, user=request.user)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return redirect(f"/circles/{circle_id}/")
    link = request.build_absolute_uri(f"/s/{invite.token}")
    messages.success(request, pgettext("circle", "Your invitation link: %(link)s") % {"link": link})
    return redirect(f"/circles/{circle_id}/")


def circle_buy(request, circle_id: int):
    circle = _circle_or_404(circle_id)
    me = members.membership_of(circle_id=circle.pk, user=_user(request))
    deals = selectors.deals_of(circle=circle)
    return render(
        request,
        "circles/buy.html",
        {
            "circle": circle,
            "deals": [d for d in deals if d["active"]],
            "is_member": me is not None and me.status == MemberStatus.MEMBER,
        },
    )


def _owned(request, circle_id: int) -> Circle:
    circle = _circle_or_404(circle_id)
    if circle.owner_id != request.user.pk and not request.user.is_operator:
        raise Http404("no such circle")
    return circle


@login_required
def circle_members(request, circle_id: int):
    circle = _owned(request, circle_id)
    rows = Membership.objects.filter(
        circle=circle, status__in=[MemberStatus.MEMBER, MemberStatus.PENDING]
    ).select_related("user")
    return render(
        request,
        "circles/members.html",
        {"circle": circle, "rows": rows.order_by("status", "-joined_at", "-id")[:500]},
    )


@login_required
@require_POST
def member_action(request, circle_id: int, user_id: int, action: str):
    try:
        if action in ("approve", "reject"):
            members.member_decide(
                circle_id=circle_id,
                actor=request.user,
                user_id=user_id,
                approve=action == "approve",
            )
        elif action == "remove":
            members.member_remove(circle_id=circle_id, actor=request.user, user_id=user_id)
        elif action in ("mute", "unmute"):
            members.member_mute(
                circle_id=circle_id, actor=request.user, user_id=user_id, muted=action == "mute"
            )
        else:
            raise Http404("no such action")
        messages.success(request, _("Done."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/circles/{circle_id}/members/")


@login_required
@require_POST
def announce(request, circle_id: int):
    from quanzi.circles.feed import announcement_create

    try:
        announcement_create(
            circle_id=circle_id, author=request.user, body=request.POST.get("body", "")
        )
        messages.success(request, pgettext("circle", "Announcement pinned."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"/circles/{circle_id}/")


def health_context(circle: Circle) -> dict:
    health = selectors.health_of(circle=circle)
    days = health["days"][-60:]
    chart = {
        "labels": [d["day"].strftime("%m-%d") for d in days],
        "members": [d["members"] for d in days],
        "active_7d": [d["active_7d"] for d in days],
        "joins": [d["joins"] for d in days],
        "leaves": [d["leaves"] for d in days],
    }
    # What the ECharts charts draw (circles/static/circles/health.js): the daily lines,
    # sales net of refunds, and one retention curve per join week (share still members).
    charts = {
        **chart,
        "orders": [d["orders"] for d in days],
        "gmv_yuan": [d["gmv"] / 100 for d in days],
        "weeks": [f"W+{w}" for w in range(9)],
        "cohorts": [
            {
                "name": c["week_start"].strftime("%m-%d"),
                "share": [bp / 100 for bp in c["member_share_bp"]],
            }
            for c in health["retention"][-8:]
        ],
        "names": {
            "members": pgettext("circle", "Members"),
            "active": pgettext("circle", "Active in 7 days"),
            "joins": pgettext("circle", "Joins"),
            "leaves": pgettext("circle", "Leaves"),
            "gmv": pgettext("circle", "Sales (yuan, net of refunds)"),
            "orders": pgettext("circle", "Orders"),
            "retention": pgettext("circle", "Still members (%)"),
        },
    }
    peak = max([1, *chart["members"], *chart["joins"], *chart["leaves"]])
    bars = [
        {
            "label": label,
            "members": m * 100 // peak,
            "active": a * 100 // m if m else 0,  # share of that day's members
            "joins": j,
            "leaves": lv,
        }
        for label, m, a, j, lv in zip(
            chart["labels"],
            chart["members"],
            chart["active_7d"],
            chart["joins"],
            chart["leaves"],
            strict=True,
        )
    ]
    from quanzi.accounts.models import User

    names = dict(
        User.objects.filter(pk__in=[t["user_id"] for t in health["top_contributors"]]).values_list(
            "id", "nickname"
        )
    )
    top = [
        {"nickname": names.get(t["user_id"], ""), "acts": t["acts"]}
        for t in health["top_contributors"]
    ]
    return {
        "circle": circle,
        "h": health,
        "bars": bars,
        "chart_json": json.dumps(chart),
        "charts": charts,
        "top": top,
        "weeks": list(range(9)),
    }


@login_required
def circle_health(request, circle_id: int):
    circle = _owned(request, circle_id)
    return render(request, "circles/health.html", health_context(circle))


@login_required
def my_circles(request):
    return render(request, "circles/mine.html", {"rows": selectors.circles_of(user=request.user)})
