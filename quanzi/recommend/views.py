"""Pages: 猜你喜欢 (picked for you), the push settings page, and the product page's
"friends bought this" section (registered with the catalog from ``ready()``)."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from quanzi.core.errors import QuanziError
from quanzi.recommend import preferences, selectors, serving
from quanzi.recommend.events import event_record
from quanzi.recommend.models import TOPICS


def friends_bought_section(request, product, user) -> str:
    """The product page's "friends bought this"; viewing the page is a ``view`` event."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    event_record(user_id=user.pk, product_id=product.pk, kind="view")
    friends = selectors.friends_who_bought(user_id=user.pk, product_id=product.pk)
    if not friends:
        return ""
    return render_to_string("recommend/_friends_bought.html", {"friends": friends})


SLOT_ITEMS = 6


def picked_section(request, **context) -> str:
    """ "猜你喜欢" on the storefront's home page and on a paid order's page (registered
    with the catalog's page sections): nothing for visitors or when nothing fits."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    order = context.get("order")
    if order is None:
        # The home page is the most viewed page: it shows the stored list only (the
        # precompute sweep keeps one for every active person) and never blends there.
        items = serving.stored_for(user_id=user.pk, limit=SLOT_ITEMS + 4) or []
    else:
        items = serving.recommendations_for(user_id=user.pk, limit=SLOT_ITEMS + 4)
    if order is not None:
        bought = set(order.lines.values_list("product_id", flat=True))
        items = [s for s in items if s.product_id not in bought]
    cards = selectors.cards_for(items[:SLOT_ITEMS])
    if not cards:
        return ""
    return render_to_string(
        "recommend/_picked_section.html",
        {"cards": cards, "slot": "order" if order is not None else "home"},
        request=request,
    )


@login_required
def picked_page(request):
    items = serving.recommendations_for(user_id=request.user.pk, limit=20)
    return render(request, "recommend/picked.html", {"cards": selectors.cards_for(items)})


def sms_available() -> bool:
    """Texts can be sent here: the SMS app is installed and a provider is configured."""
    return apps.is_installed("quanzi.sms") and bool(getattr(settings, "QUANZI_SMS_PROVIDER", ""))


def _masked_phone(phone: str) -> str:
    from quanzi.accounts.services import PHONE_RE

    return f"{phone[:3]}****{phone[-4:]}" if PHONE_RE.match(phone or "") else ""


def _words(text: str) -> list[str]:
    return [w for w in text.replace("，", ",").split(",") if w.strip()]


@login_required
def push_settings_page(request):
    user_id = request.user.pk
    if request.method == "POST":
        post = request.POST

        def hour(name: str, default: int) -> int:
            try:
                return max(0, min(23, int(post.get(name, default))))
            except ValueError:
                return default

        data = {
            "topics": {t: post.get(f"topic_{t}") == "on" for t in TOPICS},
            # The text toggles are on the page only when texts can be sent.
            "sms": {t: post.get(f"sms_{t}") == "on" for t in TOPICS}
            if sms_available() and _masked_phone(request.user.phone)
            else None,
            "keywords": {
                "follow": _words(post.get("follow", ""))[:20],
                "never": _words(post.get("never", ""))[:20],
            },
            "quiet_hours": {"start": hour("quiet_start", 22), "end": hour("quiet_end", 8)},
            "frequency": "daily" if post.get("frequency") == "daily" else "weekly",
            "daily_cap": max(0, min(20, hour("daily_cap", 3))),
            "show_purchases": post.get("show_purchases") == "on",
        }
        try:
            preferences.preferences_update(user_id=user_id, data=data)
            messages.success(request, _("Saved."))
        except QuanziError:
            messages.error(request, _("A keyword is at most 20 characters."))
        return redirect("recommend_push_settings")
    prefs = preferences.preferences_out(user_id=user_id)
    return render(
        request,
        "recommend/push_settings.html",
        {
            "prefs": prefs,
            "topics": [(t, prefs["topics"][t], prefs["sms"][t]) for t in TOPICS],
            "sms_on": sms_available(),
            "sms_phone": _masked_phone(request.user.phone),
            "follow": ", ".join(prefs["keywords"]["follow"]),
            "never": ", ".join(prefs["keywords"]["never"]),
            "hours": range(24),
        },
    )
