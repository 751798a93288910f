"""Catalog reads."""

from __future__ import annotations

from django.db.models import Min, Prefetch, QuerySet

from quanzi.catalog.models import SKU, Category, Product, ProductImage
from quanzi.core.errors import NotFound


def product_list(
    *, category_id: int | None = None, q: str | None = None, include_inactive: bool = False
) -> QuerySet[Product]:
    qs = Product.objects.annotate(min_price=Min("skus__price")).prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))
    )
    if not include_inactive:
        qs = qs.filter(is_active=True, is_virtual=False)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    if q:
        qs = qs.filter(title__icontains=q.strip())
    return qs


def product_get(*, product_id: int, include_inactive: bool = False) -> Product:
    qs = Product.objects.prefetch_related(
        "images", Prefetch("skus", queryset=SKU.objects.filter(is_active=True).order_by("id"))
    ).select_related("category", "supplier")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    product = qs.filter(pk=product_id).first()
    if product is None:
        raise NotFound("product_not_found", "no such product")
    return product


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def product_card(product: Product) -> dict:
    images = list(product.images.all())
    return {
        "id": product.pk,
        "title": product.title,
        "min_price": getattr(product, "min_price", None) or 0,
        "cover": images[0].url if images else "",
        "sales": product.sales,
        "category_id": product.category_id,
    }
