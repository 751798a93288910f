"""Bulk data for the benchmarks, written with the ORM (``bulk_create``) in the shapes the
services write, so that thousands of users and SKUs take seconds, not minutes.

Call only after ``_common.django_setup``.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass

ADDRESS = {
    "name": "压测",
    "phone": "13900000000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
}
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class BenchUser:
    id: int
    token: str
    address_id: int


def phone_prefix() -> str:
    """Three digits that make this run's phone numbers its own (``16PPPxxxxxx``)."""
    return f"{random.randrange(100, 1000)}"


def users_bulk(n: int, *, prefix: str, batch: int = 2000) -> list[BenchUser]:
    """``n`` users with a bearer token and a default address each (tokens issued directly)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from quanzi.accounts.models import Address, AuthToken, User

    password = make_password("secret123")  # one hash for all: hashing is the slow part
    codes: set[str] = set()
    while len(codes) < n:
        codes.add("B" + "".join(secrets.choice(_ALPHABET) for _ in range(9)))
    codes_list = sorted(codes)
    out: list[BenchUser] = []
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [
                    User(
                        phone=f"16{prefix}{i:06d}",
                        nickname=f"压测{i}",
                        invite_code=codes_list[i],
                        password=password,
                    )
                    for i in range(start, stop)
                ]
            )
            raws = [secrets.token_urlsafe(32) for _ in users]
            AuthToken.objects.bulk_create(
                [
                    AuthToken(
                        user=user, key_hash=hashlib.sha256(raw.encode()).hexdigest(), prefix=raw[:8]
                    )
                    for user, raw in zip(users, raws, strict=True)
                ]
            )
            # Each buyer its own phone and door: risk control refuses a group join between
            # accounts that share one (the same person's accounts).
            addresses = Address.objects.bulk_create(
                [
                    Address(
                        user=user,
                        is_default=True,
                        **(ADDRESS | {"phone": user.phone, "detail": f"文三路 {user.phone} 号"}),
                    )
                    for user in users
                ]
            )
        out.extend(
            BenchUser(id=u.pk, token=raw, address_id=a.pk)
            for u, raw, a in zip(users, raws, addresses, strict=True)
        )
    return out


def catalog_bulk(
    products: int,
    *,
    skus_per_product: int = 2,
    stock: int = 1_000_000,
    suppliers: int = 20,
    batch: int = 2000,
) -> list[int]:
    """``products`` products with images and SKUs; returns the SKU ids."""
    from django.db import transaction

    from quanzi.catalog.models import SKU, Product, ProductImage, Supplier

    rng = random.Random(7)
    with transaction.atomic():
        sups = Supplier.objects.bulk_create(
            [Supplier(name=f"压测供应商 {i}") for i in range(suppliers)]
        )
    sku_ids: list[int] = []
    for start in range(0, products, batch):
        stop = min(products, start + batch)
        with transaction.atomic():
            prods = Product.objects.bulk_create(
                [
                    Product(
                        title=f"压测商品 {i}",
                        description="bench",
                        supplier=sups[i % suppliers],
                        commission={},
                    )
                    for i in range(start, stop)
                ]
            )
            ProductImage.objects.bulk_create(
                [ProductImage(product=p, url=f"/static/bench/{p.pk}.jpg", sort=0) for p in prods]
            )
            rows = []
            for p in prods:
                for k in range(skus_per_product):
                    price = rng.randrange(990, 29_900, 10)
                    rows.append(
                        SKU(
                            product=p,
                            name=f"规格 {k + 1}",
                            price=price,
                            supply_price=price * 6 // 10,
                            stock=stock,
                        )
                    )
            sku_ids.extend(s.pk for s in SKU.objects.bulk_create(rows))
    return sku_ids


def hot_sku(*, stock: int, price: int = 990) -> int:
    """One flash-deal product with limited stock; returns its SKU id."""
    from quanzi.catalog.services import product_create

    product = product_create(
        title="压测秒杀 · 限量",
        skus=[{"name": "秒杀", "price": price, "supply_price": price // 2, "stock": stock}],
        images=["/static/bench/hot.jpg"],
    )
    return product.skus.get().pk
