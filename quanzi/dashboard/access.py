"""Who may open the dashboard: logged-in operators only."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.shortcuts import redirect, render


def operator_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect(f"/dashboard/login/?next={quote(request.get_full_path())}")
        if not (user.is_active and user.is_operator):
            return render(request, "dashboard/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
