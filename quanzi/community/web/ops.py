"""Dashboard pages of community group buying: leader applications and leaders, waves,
purchase orders (with CSV), sorting lists (CSV, and a print page per leader)."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from quanzi.community import leaders, selectors, sweeps, waves
from quanzi.community.models import Leader, LeaderApplication, Wave
from quanzi.core.errors import QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.storefront.web import error_text


@operator_required
def leaders_page(request):
    apps = LeaderApplication.objects.select_related("user").order_by("-id")[:100]
    rows = Leader.objects.select_related("user").prefetch_related("points").order_by("-id")[:200]
    return render(request, "community/ops_leaders.html", {"applications": apps, "leaders": rows})


@operator_required
@require_POST
def application_decide(request, application_id: int, decision: str):
    try:
        if decision == "approve":
            leaders.application_approve(application_id=application_id, operator=request.user)
        else:
            leaders.application_reject(
                application_id=application_id,
                operator=request.user,
                reason=request.POST.get("reason", ""),
            )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/community/")


@operator_required
@require_POST
def leader_action(request, leader_id: int, action: str):
    try:
        leaders.leader_set_status(leader_id=leader_id, action=action, operator=request.user)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/dashboard/community/")


class WaveForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=80, required=False)
    cutoff_at = forms.DateTimeField(
        label=gettext_lazy("Order cutoff"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    pickup_date = forms.DateField(
        label=gettext_lazy("Pickup date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    items = forms.CharField(
        label=gettext_lazy("Items"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line: SKU id, wave price in fen, wave stock, per-user limit"
        ),
    )

    def clean_items(self):
        rows = []
        for line in self.cleaned_data["items"].splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if len(parts) < 3 or not all(p.isdigit() for p in parts):
                raise forms.ValidationError(_("Each line is: SKU id, price, stock, limit"))
            rows.append(
                {
                    "sku_id": int(parts[0]),
                    "price": int(parts[1]),
                    "stock": int(parts[2]),
                    "per_user_limit": int(parts[3]) if len(parts) > 3 else 0,
                }
            )
        if not rows:
            raise forms.ValidationError(_("List at least one item."))
        return rows


@operator_required
@require_http_methods(["GET", "POST"])
def waves_page(request):
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cutoff = data["cutoff_at"]
        if timezone.is_naive(cutoff):
            cutoff = timezone.make_aware(cutoff)
        try:
            waves.wave_create(
                title=data["title"],
                sale_date=timezone.localdate(cutoff),
                cutoff_at=cutoff,
                pickup_date=data["pickup_date"],
                items=data["items"],
            )
        except QuanziError as exc:
            form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Wave published."))
            return redirect("/dashboard/community/waves/")
    elif request.method == "GET":
        tonight = timezone.make_aware(datetime.combine(timezone.localdate(), time(23, 0)))
        form = WaveForm(
            initial={
                "cutoff_at": tonight.strftime("%Y-%m-%dT%H:%M"),
                "pickup_date": timezone.localdate() + timedelta(days=1),
            }
        )
    rows = [selectors.wave_out(w) for w in Wave.objects.order_by("-id")[:50]]
    return render(request, "community/ops_waves.html", {"form": form, "waves": rows})


@operator_required
@require_POST
def sweep_now(request):
    closed = sweeps.waves_close_due()
    written = sweeps.waves_aggregate_due()
    messages.success(
        request,
        _("%(closed)s wave(s) closed, %(written)s purchase order set(s) written.")
        % {"closed": closed, "written": written},
    )
    return redirect("/dashboard/community/waves/")


def _wave(wave_id: int) -> Wave:
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None:
        raise Http404
    return wave


@operator_required
def wave_page(request, wave_id: int):
    wave = _wave(wave_id)
    return render(
        request,
        "community/ops_wave.html",
        {
            "wave": selectors.wave_out(wave),
            "purchase_orders": selectors.purchase_orders_out(wave),
            "lists": selectors.sorting_lists(wave),
            "routes": selectors.routes(wave),
        },
    )


def _csv(name: str, header: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


@operator_required
def purchase_orders_csv(request, wave_id: int):
    wave = _wave(wave_id)
    rows = [
        [
            po["supplier_id"] or "",
            po["supplier_name"],
            line["sku_id"],
            line["title"],
            line["qty"],
            line["supply_price"],
            line["cost"],
        ]
        for po in selectors.purchase_orders_out(wave)
        for line in po["lines"]
    ]
    header = ["supplier_id", "supplier", "sku_id", "title", "qty", "supply_price", "cost"]
    return _csv(f"wave-{wave.pk}-purchase-orders.csv", header, rows)


@operator_required
def sorting_csv(request, wave_id: int):
    wave = _wave(wave_id)
    rows = [
        [
            entry["point_id"],
            entry["point_name"],
            entry["leader"]["nickname"],
            bag["order_id"],
            bag["code"],
            bag["customer"],
            line["sku_id"],
            line["title"],
            line["qty"],
        ]
        for entry in selectors.sorting_lists(wave)
        for bag in entry["bags"]
        for line in bag["lines"]
    ]
    header = [
        "point_id",
        "point",
        "leader",
        "order_id",
        "code",
        "customer",
        "sku_id",
        "title",
        "qty",
    ]
    return _csv(f"wave-{wave.pk}-sorting.csv", header, rows)


@operator_required
def sorting_print(request, wave_id: int, point_id: int):
    wave = _wave(wave_id)
    lists = selectors.sorting_lists(wave, point_id=point_id)
    if not lists:
        raise Http404
    return render(
        request, "community/ops_print.html", {"wave": selectors.wave_out(wave), "entry": lists[0]}
    )
