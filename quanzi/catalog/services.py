"""Catalog writes: suppliers, categories, products, SKUs and stock."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from quanzi.catalog.models import SKU, Category, Product, ProductImage, Supplier
from quanzi.core.errors import Conflict, Invalid, NotFound, QuanziError
from quanzi.core.sql import rows_update, run, take_if_enough


class OutOfStock(QuanziError):
    status = 409
    code = "out_of_stock"


def _validate_sku(data: dict[str, Any]) -> dict[str, Any]:
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 80:
        raise Invalid("invalid_sku", "an SKU needs a name of at most 80 characters")
    price, supply = data.get("price"), data.get("supply_price")
    for field, value in (("price", price), ("supply_price", supply)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Invalid(
                "invalid_price", f"{field} is a whole number of fen ≥ 0", {"field": field}
            )
    if price <= 0:
        raise Invalid("invalid_price", "price must be above 0", {"field": "price"})
    if supply > price:
        raise Invalid(
            "invalid_price",
            "supply price cannot exceed the retail price",
            {"field": "supply_price"},
        )
    member = data.get("member_price")
    if member is not None and (not isinstance(member, int) or member <= 0 or member > price):
        raise Invalid(
            "invalid_price",
            "member price is between 1 fen and the retail price",
            {"field": "member_price"},
        )
    stock = data.get("stock", 0)
    if not isinstance(stock, int) or stock < 0 or stock > 10_000_000:
        raise Invalid(
            "invalid_stock", "stock is a whole number between 0 and 10,000,000", {"field": "stock"}
        )
    return {
        "name": name,
        "price": price,
        "supply_price": supply,
        "member_price": member,
        "stock": stock,
    }


def _validate_commission(commission: dict[str, Any] | None) -> dict[str, Any]:
    if not commission:
        return {}
    allowed = {"level1_rate_bp", "level2_rate_bp", "level1_fixed", "level2_fixed"}
    clean = {}
    for key, value in commission.items():
        if value is None:
            continue
        if key not in allowed:
            raise Invalid("invalid_commission", f"unknown commission key {key}", {"field": key})
        if not isinstance(value, int) or value < 0 or (key.endswith("_bp") and value > 10_000):
            raise Invalid("invalid_commission", f"{key} is out of range", {"field": key})
        clean[key] = value
    return clean


def _resolve_refs(
    category: str | int | None, supplier_id: int | None
) -> tuple[Category | None, Supplier | None]:
    cat = None
    if category not in (None, ""):
        if isinstance(category, int):
            cat = Category.objects.filter(pk=category).first()
            if cat is None:
                raise Invalid("invalid_category", "no such category", {"field": "category"})
        else:
            name = str(category).strip()[:60]
            cat, _ = Category.objects.get_or_create(name=name)
    sup = None
    if supplier_id is not None:
        sup = Supplier.objects.filter(pk=supplier_id).first()
        if sup is None:
            raise Invalid("invalid_supplier", "no such supplier", {"field": "supplier_id"})
    return cat, sup


@transaction.atomic
def product_create(
    *,
    title: str,
    skus: list[dict[str, Any]],
    description: str = "",
    category: str | int | None = None,
    supplier_id: int | None = None,
    images: list[str] | None = None,
    commission: dict[str, Any] | None = None,
    is_virtual: bool = False,
) -> Product:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise Invalid(
            "invalid_title", "a product needs a title of at most 120 characters", {"field": "title"}
        )
    if not skus:
        raise Invalid("invalid_sku", "a product needs at least one SKU", {"field": "skus"})
    clean_skus = [_validate_sku(sku) for sku in skus]
    cat, sup = _resolve_refs(category, supplier_id)
    product = Product.objects.create(
        title=title,
        description=description or "",
        category=cat,
        supplier=sup,
        commission=_validate_commission(commission),
        is_virtual=is_virtual,
    )
    ProductImage.objects.bulk_create(
        [ProductImage(product=product, url=url[:300], sort=i) for i, url in enumerate(images or [])]
    )
    SKU.objects.bulk_create(
        [SKU(product=product, stock_received=sku["stock"], **sku) for sku in clean_skus]
    )
    return product


@transaction.atomic
def product_update(*, product_id: int, data: dict[str, Any]) -> Product:
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound("product_not_found", "no such product")
    if "title" in data and data["title"] is not None:
        title = str(data["title"]).strip()
        if not title or len(title) > 120:
            raise Invalid(
                "invalid_title",
                "a product needs a title of at most 120 characters",
                {"field": "title"},
            )
        product.title = title
    if data.get("description") is not None:
        product.description = data["description"]
    if data.get("is_active") is not None:
        product.is_active = bool(data["is_active"])
    if "category" in data or "supplier_id" in data:
        cat, sup = _resolve_refs(data.get("category"), data.get("supplier_id"))
        if "category" in data:
            product.category = cat
        if "supplier_id" in data:
            product.supplier = sup
    if data.get("commission") is not None:
        product.commission = _validate_commission(data["commission"])
    product.save()
    if data.get("images") is not None:
        product.images.all().delete()
        ProductImage.objects.bulk_create(
            [
                ProductImage(product=product, url=url[:300], sort=i)
                for i, url in enumerate(data["images"])
            ]
        )
    for sku_data in data.get("skus") or []:
        sku_id = sku_data.get("id")
        clean = _validate_sku(sku_data)
        if sku_id is None:
            SKU.objects.create(product=product, stock_received=clean["stock"], **clean)
            continue
        sku = SKU.objects.select_for_update().filter(pk=sku_id, product=product).first()
        if sku is None:
            raise Invalid(
                "invalid_sku", f"SKU {sku_id} is not part of this product", {"field": "skus"}
            )
        _stock_check(sku, new=clean, expected=sku_data.get("stock_expected"))
        if "stock" in clean and sku.stock_received is not None:
            # A restock (or a write-off): the shelf received the difference.
            sku.stock_received += clean["stock"] - sku.stock
        for key, value in clean.items():
            setattr(sku, key, value)
        if sku_data.get("is_active") is not None:
            sku.is_active = bool(sku_data["is_active"])
        sku.save()
    return product


def _stock_check(sku: SKU, *, new: dict[str, Any], expected: int | None) -> None:
    """Stock is sold while an operator edits it. ``expected`` is the stock the operator
    saw: left as it was, the figure is not written (the sales made meanwhile stand);
    changed, it is written only if nothing was sold or restocked meanwhile; otherwise
    ``stock_changed`` (409) says what the stock is now. Without ``expected`` (API
    clients that set stock outright) the figure is written as given."""
    if expected is None:
        return
    if new.get("stock") == expected:
        new.pop("stock")
    elif sku.stock != expected:
        raise Conflict(
            "stock_changed",
            f"the stock of {sku.name} changed from {expected} to {sku.stock} while it was"
            " being edited; nothing was saved",
            {"sku_id": sku.pk, "sku": sku.name, "stock": sku.stock, "field": "skus"},
        )


def supplier_create(*, name: str, contact: str = "", user_id: int | None = None) -> Supplier:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("invalid_name", "a supplier needs a name of at most 100 characters")
    if user_id is not None:
        from django.contrib.auth import get_user_model

        if not get_user_model().objects.filter(pk=user_id).exists():
            raise Invalid("invalid_user", "no such user", {"field": "user_id"})
    return Supplier.objects.create(name=name, contact=(contact or "")[:100], user_id=user_id)


def category_create(*, name: str, parent_id: int | None = None, sort: int = 0) -> Category:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise Invalid("invalid_name", "a category needs a name of at most 60 characters")
    if Category.objects.filter(name=name).exists():
        raise Invalid("category_exists", "a category with this name exists")
    if parent_id is not None and not Category.objects.filter(pk=parent_id).exists():
        raise Invalid("invalid_parent", "no such parent category", {"field": "parent_id"})
    return Category.objects.create(name=name, parent_id=parent_id, sort=sort)


def stock_reserve(*, sku_id: int, qty: int) -> None:
    """Take ``qty`` units atomically (``UPDATE ... WHERE stock >= qty``); never oversells."""
    if qty <= 0:
        raise Invalid("invalid_quantity", "quantity must be at least 1")
    if not take_if_enough(SKU, column="stock", qty=qty, where={"id": sku_id}):
        raise OutOfStock("out_of_stock", "not enough stock", {"sku_id": sku_id})


def stock_release(*, sku_id: int, qty: int) -> None:
    if qty > 0:
        SKU.objects.filter(pk=sku_id).update(stock=F("stock") + qty)


def sales_add(*, product_id: int, qty: int) -> None:
    Product.objects.filter(pk=product_id).update(sales=F("sales") + qty)


def sales_add_many(sold: list[tuple[int, int]]) -> None:
    """``sales_add`` for each ``(product_id, qty)``, written out (every paid order)."""
    totals: dict[int, int] = {}
    for product_id, qty in sold:
        totals[product_id] = totals.get(product_id, 0) + qty
    if not totals:
        return
    if len(totals) > 1:
        rows_update(Product, fields=["sales"], add=["sales"], rows=sorted(totals.items()))
        return
    ((product_id, qty),) = totals.items()
    table = transaction.get_connection().ops.quote_name(Product._meta.db_table)
    run(f"UPDATE {table} SET sales = sales + %s WHERE id = %s", [qty, product_id])
