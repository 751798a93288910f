"""Dashboard pages of circles (operators): circles with suspension, labels, owner
approvals and each circle's health."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from quanzi.circles import services
from quanzi.circles.errors import error_text
from quanzi.circles.models import Circle, Label, OwnerApplication, Snapshot
from quanzi.circles.views import health_context
from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required


@operator_required
def circles(request):
    rows = list(
        Circle.objects.select_related("owner").prefetch_related("labels").order_by("-id")[:300]
    )
    alerts = set(Snapshot.objects.filter(churn_alert=True).values_list("circle_id", flat=True))
    for row in rows:
        row.churn_alert = row.pk in alerts
    return render(request, "circles/dash_circles.html", {"rows": rows})


@operator_required
@require_POST
def circle_status(request, circle_id: int, action: str):
    try:
        services.circle_suspend(
            circle_id=circle_id, suspend=action == "suspend", reason=request.POST.get("reason", "")
        )
        messages.success(request, _("Done."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/circles/")


@operator_required
def labels(request):
    if request.method == "POST":
        try:
            services.label_create(name=request.POST.get("name", ""))
            messages.success(request, pgettext("circle", "Label added."))
        except QuanziError as exc:
            messages.error(request, error_text(exc))
        return redirect("/dashboard/circles/labels/")
    return render(request, "circles/dash_labels.html", {"rows": Label.objects.all()})


@operator_required
@require_POST
def label_toggle(request, label_id: int):
    label = Label.objects.filter(pk=label_id).first()
    if label is not None:
        services.label_set_active(label_id=label.pk, active=not label.is_active)
    return redirect("/dashboard/circles/labels/")


@operator_required
def owners(request):
    rows = OwnerApplication.objects.select_related("user").order_by("status", "-id")[:300]
    return render(request, "circles/dash_owners.html", {"rows": rows})


@operator_required
@require_POST
def owner_decide(request, user_id: int, decision: str):
    try:
        services.owner_decide(user_id=user_id, approve=decision == "approve")
        messages.success(request, _("Done."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/circles/owners/")


@operator_required
def health(request, circle_id: int):
    circle = Circle.objects.filter(pk=circle_id).first()
    if circle is None:
        from django.http import Http404

        raise Http404("no such circle")
    return render(request, "circles/dash_health.html", health_context(circle))
