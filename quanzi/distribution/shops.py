"""Shops (S2b2c 小店): a distributor's storefront of selected platform products.

A shop holds no stock and sets no prices: its products sell at the platform's unified
prices and S ships every order. Opening a shop is free; it needs the owner to qualify
as a distributor. Each shop has its owner's share link (``share_token``): the shop
page hands it to the orders placed from it, so they are attributed to the shopkeeper
like any share link (see commission.py).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from quanzi.accounts.models import User
from quanzi.catalog.models import Product
from quanzi.core.errors import Conflict, Forbidden, Invalid, NotFound
from quanzi.distribution.distributors import distributor_is_qualified
from quanzi.distribution.models import Shop, ShopProduct

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
MAX_PRODUCTS = 500


def _clean(name: str | None, description: str | None) -> dict[str, str]:
    fields = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 40:
            raise Invalid("invalid_shop_name", "a shop name has 1 to 40 characters")
        fields["name"] = name
    if description is not None:
        fields["description"] = description.strip()[:200]
    return fields


def _slug(slug: str | None, owner: User) -> str:
    if not slug:
        return f"shop-{owner.pk}"
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise Invalid("invalid_shop_slug", "a shop address has 3 to 40 letters, digits or '-'")
    return slug


def shop_create(*, owner: User, name: str, slug: str | None = None, description: str = "") -> Shop:
    from quanzi.social.services import share_create

    if not distributor_is_qualified(user_id=owner.pk):
        raise Forbidden("not_a_distributor", "only distributors open shops (apply, it is free)")
    fields = _clean(name, description)
    slug = _slug(slug, owner)
    try:
        with transaction.atomic():
            if Shop.objects.filter(owner=owner).exists():
                raise Conflict("shop_exists", "you have a shop already")
            if Shop.objects.filter(slug=slug).exists():
                raise Conflict("shop_slug_taken", "this shop address is taken")
            shop = Shop.objects.create(owner=owner, slug=slug, **fields)
            link = share_create(sharer=owner, target="shop", target_id=shop.pk, channel="shop")
            shop.share_token = link.token
            shop.save(update_fields=["share_token"])
            return shop
    except IntegrityError as exc:
        raise Conflict("shop_exists", "this shop or its address exists already") from exc


def shop_of(*, owner: User) -> Shop:
    shop = Shop.objects.filter(owner=owner).first()
    if shop is None:
        raise NotFound("shop_not_found", "you have no shop yet")
    return shop


def shop_update(
    *,
    owner: User,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Shop:
    shop = shop_of(owner=owner)
    for key, value in _clean(name, description).items():
        setattr(shop, key, value)
    if is_active is not None:
        shop.is_active = is_active
    shop.save()
    return shop


def shop_products_add(*, owner: User, product_ids: list[int]) -> Shop:
    shop = shop_of(owner=owner)
    wanted = list(dict.fromkeys(product_ids))
    found = set(Product.objects.filter(pk__in=wanted, is_active=True).values_list("id", flat=True))
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise Invalid(
            "product_unavailable", "these products are not on sale", {"product_ids": missing}
        )
    with transaction.atomic():
        present = set(
            ShopProduct.objects.filter(shop=shop, product_id__in=wanted).values_list(
                "product_id", flat=True
            )
        )
        new = [pid for pid in wanted if pid not in present]
        if ShopProduct.objects.filter(shop=shop).count() + len(new) > MAX_PRODUCTS:
            raise Invalid("too_many_products", f"a shop holds at most {MAX_PRODUCTS} products")
        ShopProduct.objects.bulk_create(
            [ShopProduct(shop=shop, product_id=pid) for pid in new], ignore_conflicts=True
        )
    return shop


def shop_product_remove(*, owner: User, product_id: int) -> Shop:
    shop = shop_of(owner=owner)
    deleted, _ = ShopProduct.objects.filter(shop=shop, product_id=product_id).delete()
    if not deleted:
        raise NotFound("product_not_in_shop", "this product is not in your shop")
    return shop
