"""Shopkeepers' shops (小店): a public page of the products a distributor selected, and
the owner's page to open the shop and pick products. Prices are the platform's own."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quanzi.core.errors import NotFound, QuanziError
from quanzi.storefront.web import back, error_text, form_add_domain_error, int_or_none


class ShopForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Shop name"), max_length=40)
    description = forms.CharField(
        label=gettext_lazy("About the shop"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@require_GET
def shop_page(request, shop_id: int):
    from quanzi.distribution.selectors import shop_public

    shop = shop_public(shop_id=shop_id)
    if shop is None:
        raise Http404("no such shop")
    cards = shop["products"]
    return render(request, "storefront/shop.html", {"shop": shop, "cards": cards})


@login_required
@require_http_methods(["GET", "POST"])
def my_shop(request):
    from quanzi.distribution.models import Shop
    from quanzi.distribution.selectors import shop_out
    from quanzi.distribution.shops import shop_create, shop_update

    shop = Shop.objects.filter(owner=request.user).first()
    initial = {"name": shop.name, "description": shop.description} if shop else {}
    form = ShopForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if shop is None:
                shop = shop_create(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
            else:
                shop_update(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                )
        except QuanziError as exc:
            form_add_domain_error(form, exc, codes={"invalid_shop_name": "name"})
        else:
            messages.success(request, _("Shop saved."))
            return redirect("/me/shop/")
    return render(
        request,
        "storefront/my_shop.html",
        {"form": form, "shop": shop_out(shop) if shop else None},
    )


@login_required
@require_POST
def my_shop_add(request):
    from quanzi.distribution.shops import shop_products_add

    product_id = int_or_none(request.POST.get("product_id"))
    if product_id is None:
        raise Http404("no such product")
    try:
        shop_products_add(owner=request.user, product_ids=[product_id])
    except NotFound:
        messages.info(request, _("Open your shop first."))
        return redirect("/me/shop/")
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Added to your shop."))
    return back(request, "/me/shop/")


@login_required
@require_POST
def my_shop_remove(request, product_id: int):
    from quanzi.distribution.shops import shop_product_remove

    try:
        shop_product_remove(owner=request.user, product_id=product_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return redirect("/me/shop/")
