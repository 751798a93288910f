"""Dashboard pages of content commerce: the moderation queue, creator approvals and the
sensitive-word list (operators only)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.storefront.web import PageOf

from . import moderation, services
from .models import Creator, SensitiveWord
from .views import error_text


@operator_required
def queue(request):
    return render(request, "content/dash_queue.html", {"items": moderation.moderation_queue()})


@operator_required
@require_POST
def moderate_action(request, target: str, target_id: str, action: str):
    try:
        moderation.moderate(
            operator=request.user, target=target, target_id=target_id, action=action
        )
        messages.success(request, _("Done."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/content/")


@operator_required
def creators(request):
    status = request.GET.get("status", "applied")
    qs = Creator.objects.select_related("user").order_by("-applied_at", "-id")
    if status:
        qs = qs.filter(status=status)
    page = PageOf(request, qs)
    return render(
        request,
        "content/dash_creators.html",
        {
            "page": page,
            "rows": page.items,
            "status": status,
            "statuses": ["applied", "approved", "rejected"],
        },
    )


@operator_required
@require_POST
def creator_decide(request, user_id: int, decision: str):
    if decision not in ("approve", "reject"):
        return redirect("/dashboard/content/creators/")
    try:
        services.creator_decide(
            user_id=user_id,
            operator=request.user,
            approve=decision == "approve",
            note=(request.POST.get("note") or "")[:200],
        )
        messages.success(request, _("Done."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/content/creators/")


@operator_required
def words(request):
    if request.method == "POST":
        try:
            n = moderation.words_bulk_set(
                text=request.POST.get("words") or "", action=request.POST.get("action") or "hold"
            )
            messages.success(request, _("%(n)s words saved.") % {"n": n})
        except QuanziError as exc:
            messages.error(request, error_text(exc))
        return redirect("/dashboard/content/words/")
    return render(
        request,
        "content/dash_words.html",
        {"words": SensitiveWord.objects.order_by("action", "word")},
    )


@operator_required
@require_POST
def word_delete(request, word_id: int):
    SensitiveWord.objects.filter(pk=word_id).delete()
    return redirect("/dashboard/content/words/")
