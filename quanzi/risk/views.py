"""Dashboard pages of risk control (operators): the queue of holds with their evidence,
approve / deny, and the rules with their settings."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.risk.models import RiskEvent
from quanzi.risk.rules import ACTIONS, rules_effective


@operator_required
def reviews(request):
    status = request.GET.get("review", RiskEvent.OPEN)
    if status not in (RiskEvent.OPEN, RiskEvent.APPROVED, RiskEvent.DENIED):
        status = RiskEvent.OPEN
    rows = list(RiskEvent.objects.filter(review=status).order_by("-id")[:200])
    from quanzi.accounts.models import User

    ids = {r.user_id for r in rows} | {r.counterpart_id for r in rows if r.counterpart_id}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "nickname"))
    for row in rows:
        row.user_name = names.get(row.user_id, "")
        row.counterpart_name = names.get(row.counterpart_id, "")
        row.hits = row.detail.get("hits", [])
    return render(request, "risk/reviews.html", {"rows": rows, "status": status})


@operator_required
@require_POST
def review_decide(request, event_id: int, decision: str):
    from quanzi.risk.reviews import review_decide as decide
    from quanzi.storefront.web import error_text

    try:
        decide(
            event_id=event_id,
            approve=decision == "approve",
            operator=request.user,
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Done."))
    except QuanziError as exc:
        if exc.code == "not_open":
            messages.error(request, _("This decision has been reviewed already."))
        else:
            messages.error(request, error_text(exc))
    return redirect("/dashboard/risk/")


@operator_required
def rules(request):
    if request.method == "POST":
        from quanzi.risk.services import risk_rule_update

        code = request.POST.get("code", "")
        current = rules_effective().get(code)
        if current is not None:
            threshold = request.POST.get("threshold", "").strip()
            action = request.POST.get("action", "")
            kind = request.POST.get("kind", "*").strip() or "*"
            changes = {"enabled": request.POST.get("enabled") == "on"}
            if threshold.isdigit():
                changes["threshold"] = int(threshold)
            if action in ACTIONS:
                changes["actions"] = {kind: action}
            risk_rule_update(code=code, **changes)
            messages.success(request, _("Saved."))
        return redirect("/dashboard/risk/rules/")
    return render(
        request,
        "risk/rules.html",
        {"rules": list(rules_effective().values()), "actions": ACTIONS},
    )
