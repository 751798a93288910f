from __future__ import annotations

from typing import Any

from ninja import Query, Router, Status
from pydantic import Field

from quanzi.catalog import selectors, services
from quanzi.catalog.extensions import product_extras
from quanzi.catalog.models import SKU, Supplier
from quanzi.core.auth import require_operator
from quanzi.core.pagination import paginate
from quanzi.core.schemas import MAX_INT32, ErrorOut, Id, Schema

router = Router(tags=["catalog"])


class SkuIn(Schema):
    id: Id | None = None
    name: str = Field(max_length=80)
    price: int = Field(gt=0, le=100_000_000)
    supply_price: int = Field(ge=0, le=100_000_000)
    stock: int = Field(default=0, ge=0, le=10_000_000)
    member_price: int | None = Field(default=None, gt=0, le=100_000_000)
    is_active: bool | None = None
    # On update: the stock the editor saw. Unchanged, the stock is left as it is (sales
    # made meanwhile stand); changed while units sold, 409 stock_changed.
    stock_expected: int | None = Field(default=None, ge=0, le=10_000_000)


class CommissionIn(Schema):
    level1_rate_bp: int | None = Field(default=None, ge=0, le=10_000)
    level2_rate_bp: int | None = Field(default=None, ge=0, le=10_000)
    level1_fixed: int | None = Field(default=None, ge=0)
    level2_fixed: int | None = Field(default=None, ge=0)


class ProductIn(Schema):
    title: str = Field(max_length=120)
    description: str | None = Field(default=None, max_length=20_000)
    category: str | Id | None = None
    supplier_id: Id | None = None
    images: list[str] | None = Field(default=None, max_length=20)
    skus: list[SkuIn] = Field(min_length=1, max_length=100)
    commission: CommissionIn | None = None


class ProductPatch(Schema):
    title: str | None = Field(default=None, max_length=120)
    description: str | None = Field(default=None, max_length=20_000)
    category: str | Id | None = None
    supplier_id: Id | None = None
    images: list[str] | None = Field(default=None, max_length=20)
    is_active: bool | None = None
    skus: list[SkuIn] | None = Field(default=None, max_length=100)
    commission: CommissionIn | None = None


class SkuOut(Schema):
    id: int
    name: str
    price: int
    member_price: int | None
    stock: int


class SkuAdminOut(SkuOut):
    supply_price: int
    is_active: bool


class ProductCard(Schema):
    id: int
    title: str
    min_price: int
    cover: str
    sales: int
    category_id: int | None


class ProductPage(Schema):
    items: list[ProductCard]
    next_cursor: str | None


class ProductOut(Schema):
    id: int
    title: str
    description: str
    category: str | None
    images: list[str]
    sales: int
    skus: list[SkuOut]
    open_groups: list[dict[str, Any]] = []
    # Reviews' average and count, when an app provides them (content's verified reviews).
    rating: dict[str, Any] | None = None
    extras: dict[str, Any] = {}


class ProductAdminOut(Schema):
    id: int
    title: str
    is_active: bool
    supplier_id: int | None
    commission: dict[str, Any]
    skus: list[SkuAdminOut]


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None


class CategoryIn(Schema):
    name: str = Field(max_length=60)
    parent_id: Id | None = None
    sort: int = Field(default=0, ge=-MAX_INT32, le=MAX_INT32)


class SupplierIn(Schema):
    name: str = Field(max_length=100)
    contact: str = Field(default="", max_length=100)
    user_id: Id | None = None


class SupplierOut(Schema):
    id: int
    name: str
    contact: str


def _admin_out(product) -> dict:
    return {
        "id": product.pk,
        "title": product.title,
        "is_active": product.is_active,
        "supplier_id": product.supplier_id,
        "commission": product.commission,
        "skus": list(SKU.objects.filter(product=product).order_by("id")),
    }


@router.get("/products", auth=None, response={200: ProductPage, 422: ErrorOut})
def products(
    request,
    cursor: str | None = None,
    limit: int | None = None,
    category_id: int | None = None,
    q: str | None = Query(default=None, max_length=60),
):
    qs = selectors.product_list(category_id=category_id, q=q)
    return paginate(qs, cursor=cursor, limit=limit, serialize=selectors.product_card)


@router.get("/products/{product_id}", auth=None, response={200: ProductOut, 404: ErrorOut})
def product(request, product_id: int):
    item = selectors.product_get(product_id=product_id)
    user = (
        request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    )
    extras = product_extras(item, user)
    return {
        "id": item.pk,
        "title": item.title,
        "description": item.description,
        "category": item.category.name if item.category else None,
        "images": [image.url for image in item.images.all()],
        "sales": item.sales,
        "skus": list(item.skus.all()),
        "open_groups": extras.pop("open_groups", []),
        "rating": extras.pop("rating", None),
        "extras": extras,
    }


@router.get("/categories", auth=None, response=list[CategoryOut])
def categories(request):
    return list(selectors.category_list())


@router.post("/admin/categories", response={201: CategoryOut, 403: ErrorOut, 422: ErrorOut})
def category_create(request, payload: CategoryIn):
    require_operator(request)
    return Status(
        201,
        services.category_create(name=payload.name, parent_id=payload.parent_id, sort=payload.sort),
    )


@router.get("/admin/suppliers", response={200: list[SupplierOut], 403: ErrorOut})
def suppliers(request):
    require_operator(request)
    return list(Supplier.objects.order_by("id"))


@router.post("/admin/suppliers", response={201: SupplierOut, 403: ErrorOut, 422: ErrorOut})
def supplier_create(request, payload: SupplierIn):
    require_operator(request)
    return Status(
        201,
        services.supplier_create(
            name=payload.name, contact=payload.contact, user_id=payload.user_id
        ),
    )


@router.post("/admin/products", response={201: ProductAdminOut, 403: ErrorOut, 422: ErrorOut})
def product_create(request, payload: ProductIn):
    require_operator(request)
    product = services.product_create(
        title=payload.title,
        description=payload.description or "",
        category=payload.category,
        supplier_id=payload.supplier_id,
        images=payload.images,
        skus=[sku.dict(exclude={"id", "is_active", "stock_expected"}) for sku in payload.skus],
        commission=payload.commission.dict(exclude_none=True) if payload.commission else None,
    )
    return Status(201, _admin_out(product))


@router.patch(
    "/admin/products/{product_id}",
    response={200: ProductAdminOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def product_update(request, product_id: int, payload: ProductPatch):
    require_operator(request)
    data = payload.dict(exclude_unset=True)
    if payload.commission is not None:
        data["commission"] = payload.commission.dict(exclude_none=True)
    product = services.product_update(product_id=product_id, data=data)
    return _admin_out(product)


@router.get(
    "/admin/products/{product_id}", response={200: ProductAdminOut, 403: ErrorOut, 404: ErrorOut}
)
def product_admin_get(request, product_id: int):
    require_operator(request)
    return _admin_out(selectors.product_get(product_id=product_id, include_inactive=True))
