"""Platform settings, one page per section (distribution settings included)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from quanzi.core.errors import QuanziError
from quanzi.core.platform_settings import get_settings, settings_update
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.settings_form import GENERAL, SettingsSectionForm, sections
from quanzi.storefront.web import error_text


@operator_required
@require_http_methods(["GET", "POST"])
def settings_page(request, section: str = GENERAL):
    names = dict(sections())
    if section not in names:
        raise Http404("no such settings section")
    current = get_settings()
    form = SettingsSectionForm(
        request.POST if request.method == "POST" else None, section=section, current=current
    )
    if request.method == "POST" and form.is_valid():
        try:
            settings_update(patch=form.patch())
        except QuanziError as exc:
            shown = form.add_schema_errors((exc.detail or {}).get("errors") or [])
            if exc.code == "pyramid_forbidden" and "levels" in form.fields:
                form.errors.pop("levels", None)
                form.add_error("levels", error_text(exc))
            elif not shown:
                form.add_error(None, error_text(exc))
        else:
            messages.success(request, _("Settings saved."))
            return redirect(request.path)
    return render(
        request,
        "dashboard/settings.html",
        {"form": form, "section": section, "sections": sections(), "title": names[section]},
    )
