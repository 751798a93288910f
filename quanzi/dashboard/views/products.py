"""Products and stock: list, create, edit (through ``catalog.services``)."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db.models import Min, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from quanzi.catalog import services as catalog
from quanzi.catalog.models import SKU, Category, Product
from quanzi.core.errors import NotFound, QuanziError
from quanzi.dashboard.access import operator_required
from quanzi.dashboard.forms import ProductForm, SkuFormSet, fen_to_yuan
from quanzi.storefront.web import PageOf, error_text, form_add_domain_error, int_or_none

MAX_UPLOAD = 5 * 1024 * 1024


@operator_required
def product_list(request):
    q = (request.GET.get("q") or "").strip()
    qs = Product.objects.select_related("category").annotate(
        min_price=Min("skus__price"), stock=Sum("skus__stock")
    )
    qs = qs.filter(is_virtual=False)
    if q:
        filters = Q(title__icontains=q)
        if q.isdigit():
            filters |= Q(pk=int(q))
        qs = qs.filter(filters)
    category = int_or_none(request.GET.get("category"))
    if category:
        qs = qs.filter(category_id=category)
    state = request.GET.get("state")
    if state == "on":
        qs = qs.filter(is_active=True)
    elif state == "off":
        qs = qs.filter(is_active=False)
    elif state == "low":
        low = SKU.objects.filter(is_active=True, stock__lt=10).values("product_id")
        qs = qs.filter(pk__in=low)
    page = PageOf(request, qs.order_by("-id"))
    return render(
        request,
        "dashboard/products.html",
        {
            "page": page,
            "q": q,
            "categories": Category.objects.all(),
            "category": category,
            "state": state,
        },
    )


def _save_upload(upload) -> str:
    """Store an uploaded product image under MEDIA_ROOT; returns its URL on this site."""
    from PIL import Image

    if upload.size > MAX_UPLOAD:
        raise ValueError(_("An image may be at most 5 MB."))
    try:
        with Image.open(upload) as image:
            image.verify()
            kind = (image.format or "").lower()
    except Exception as exc:  # noqa: BLE001 - any unreadable file is refused
        raise ValueError(_("This file is not an image.")) from exc
    ext = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}.get(kind)
    if ext is None:
        raise ValueError(_("Use a JPEG, PNG, WebP or GIF image."))
    folder = Path(settings.MEDIA_ROOT) / "products"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(12)}.{ext}"
    upload.seek(0)
    with open(folder / name, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return f"{settings.MEDIA_URL}products/{name}"


PRODUCT_FIELDS = {
    "invalid_title": "title",
    "invalid_category": "category",
    "invalid_supplier": "supplier_id",
    "invalid_commission": "level1_rate_bp",
}


@operator_required
@require_http_methods(["GET", "POST"])
def product_edit(request, product_id: int | None = None):
    product = None
    if product_id is not None:
        product = Product.objects.prefetch_related("images", "skus").filter(pk=product_id).first()
        if product is None:
            raise Http404("no such product")
    if request.method == "POST":
        form = ProductForm(request.POST, request.FILES)
        formset = SkuFormSet(request.POST, prefix="sku")
    else:
        form = ProductForm(initial=_initial(product))
        formset = SkuFormSet(prefix="sku", initial=_sku_initial(product))
    sku_error = ""
    if request.method == "POST":
        # Every problem in one round: the form and the variants are checked together, and
        # an uploaded picture is kept (added to the image list) even when something else
        # must be corrected.
        form_ok = form.is_valid()
        formset_ok = formset.is_valid()
        upload = form.cleaned_data.get("upload") if "upload" not in form.errors else None
        uploaded = None
        if upload:
            try:
                uploaded = _save_upload(upload)
            except ValueError as exc:
                form.add_error("upload", str(exc))
            else:
                form.data = form.data.copy()
                listed = (form.data.get("images") or "").rstrip()
                form.data["images"] = f"{listed}\n{uploaded}".strip()
        skus = (
            [f.payload() for f in formset.forms if f.cleaned_data and not f.is_blank()]
            if formset_ok
            else []
        )
        if formset_ok and not skus:
            sku_error = _("A product needs at least one variant.")
        if form_ok and formset_ok and skus and not form.errors:
            images = form.cleaned_data["images"] + ([uploaded] if uploaded else [])
            try:
                saved = _save(product, form, skus, images)
            except QuanziError as exc:
                if exc.code == "stock_changed":
                    # Shown with the stock as it is now: saving again is a choice made
                    # knowing it.
                    sku_error = _(
                        "Orders came in while you were editing: the stock of %(sku)s is now"
                        " %(stock)s. Nothing was saved; check the stock and save again."
                    ) % {"sku": exc.detail["sku"], "stock": exc.detail["stock"]}
                    formset = SkuFormSet(_stock_seen_now(request.POST, exc.detail), prefix="sku")
                    formset.is_valid()
                elif exc.code in ("invalid_sku", "invalid_price", "invalid_stock"):
                    sku_error = error_text(exc)
                else:
                    form_add_domain_error(form, exc, codes=PRODUCT_FIELDS)
            else:
                messages.success(request, _("Product saved."))
                return redirect(f"/dashboard/products/{saved.pk}/")
    context = {
        "form": form,
        "formset": formset,
        "product": product,
        "sku_error": sku_error,
        "categories": Category.objects.all(),
    }
    return render(request, "dashboard/product_form.html", context)


def _save(product, form, skus, images):
    data = form.cleaned_data
    if product is None:
        created = catalog.product_create(
            title=data["title"],
            description=data["description"],
            category=data["category"] or None,
            supplier_id=data["supplier_id"],
            images=images,
            skus=skus,
            commission=form.commission(),
        )
        if not data.get("is_active"):
            catalog.product_update(product_id=created.pk, data={"is_active": False})
        return created
    try:
        return catalog.product_update(
            product_id=product.pk,
            data={
                "title": data["title"],
                "description": data["description"],
                "category": data["category"] or None,
                "supplier_id": data["supplier_id"],
                "images": images,
                "is_active": bool(data.get("is_active")),
                "commission": form.commission(),
                "skus": skus,
            },
        )
    except NotFound as exc:
        raise Http404("no such product") from exc


def _stock_seen_now(post, details: dict):
    """The form's data with the changed SKU's stock seen set to what it is now."""
    data = post.copy()
    for key, value in post.items():
        if key.startswith("sku-") and key.endswith("-id") and value == str(details["sku_id"]):
            data[key[: -len("id")] + "stock_seen"] = str(details["stock"])
    return data


def _initial(product) -> dict:
    if product is None:
        return {"is_active": True}
    return {
        "title": product.title,
        "description": product.description,
        "category": product.category.name if product.category else "",
        "supplier_id": product.supplier_id,
        "images": "\n".join(img.url for img in product.images.all()),
        "is_active": product.is_active,
        "level1_rate_bp": product.commission.get("level1_rate_bp"),
        "level2_rate_bp": product.commission.get("level2_rate_bp"),
    }


def _sku_initial(product) -> list[dict]:
    if product is None:
        return []
    return [
        {
            "id": sku.pk,
            "name": sku.name,
            "price": fen_to_yuan(sku.price),
            "supply_price": fen_to_yuan(sku.supply_price),
            "member_price": fen_to_yuan(sku.member_price),
            "stock": sku.stock,
            "stock_seen": sku.stock,
            "is_active": sku.is_active,
        }
        for sku in product.skus.order_by("id")
    ]
