"""Feature apps add fields to the product page here (e.g. group buying's ``open_groups``).

A provider is ``fn(product, user) -> dict`` registered from the feature app's ``ready()``.
A section is ``fn(request, product, user) -> str``: HTML the storefront's product page
shows below the product's details (content's reviews and notes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

ProductExtra = Callable[[Any, Any], dict[str, Any]]
_product_extras: list[ProductExtra] = []


def register_product_extra(provider: ProductExtra) -> None:
    if provider not in _product_extras:
        _product_extras.append(provider)


def product_extras(product, user) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for provider in _product_extras:
        extras.update(provider(product, user))
    return extras


ProductSection = Callable[[Any, Any, Any], str]
_product_sections: list[ProductSection] = []


def register_product_section(provider: ProductSection) -> None:
    if provider not in _product_sections:
        _product_sections.append(provider)


def product_sections(request, product, user) -> list[str]:
    return [provider(request, product, user) for provider in _product_sections]


# Sections feature apps add to other storefront pages: ``fn(request, **context) -> str``
# (HTML, or "" for nothing). Pages: "home" (below the deals) and "order_paid" (an order's
# page once it is paid; ``order=`` is given).
PageSection = Callable[..., str]
_page_sections: dict[str, list[PageSection]] = {}


def register_page_section(page: str, provider: PageSection) -> None:
    providers = _page_sections.setdefault(page, [])
    if provider not in providers:
        providers.append(provider)


def page_sections(page: str, request, **context) -> list[str]:
    return [html for p in _page_sections.get(page, ()) if (html := p(request, **context))]


# Sent by the storefront when a signed-in person adds a product to the cart
# (``user_id``, ``product_id``, ``sku_id``, ``qty``); feature apps connect receivers.
product_carted = Signal()
