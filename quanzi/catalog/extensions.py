"""Feature apps add fields to the product page here (e.g. group buying's ``open_groups``).

A provider is ``fn(product, user) -> dict`` registered from the feature app's ``ready()``.
A section is ``fn(request, product, user) -> str``: HTML the storefront's product page
shows below the product's details (content's reviews and notes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
