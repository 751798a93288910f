"""How features plug into the order pipeline without the pipeline importing them.

* A **channel** is a selling mechanic (normal checkout, group buying, bargaining,
  membership plans, lottery prizes…). It prices its lines, reserves what it needs, and
  decides what happens after payment and whether the order may ship.
* An **observer** follows every order whatever its channel (coupons, points,
  distribution, membership growth…): placed, paid, cancelled, refunded, completed,
  settled, and the shares it takes at settlement.

Feature apps register both from their ``AppConfig.ready()``. Every hook runs inside
the transaction of the order change that calls it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quanzi.core.errors import Invalid

if TYPE_CHECKING:
    from quanzi.catalog.models import SKU
    from quanzi.ledger.services import Leg
    from quanzi.orders.models import Order, Refund


@dataclass
class LineRequest:
    sku: SKU
    qty: int
    unit_price: int = 0  # the channel's price per unit, filled by ``Channel.price``
    # What the supplier is owed per unit at settlement; None: the SKU's supply price. A
    # channel selling something that is not the goods themselves (a pre-sale's deposit)
    # sets 0, so the goods' supply price is paid once, by the order that buys them.
    supply_price: int | None = None


@dataclass
class PlaceContext:
    """What a checkout asked for; channels read their own keys from ``extra``."""

    user: Any
    lines: list[LineRequest]
    extra: dict[str, Any] = field(default_factory=dict)
    channel_ref: str = ""
    commission_enabled: bool = True
    accepts_coupon: bool = True
    accepts_points: bool = True
    free_shipping: bool = False
    needs_address: bool = True
    _member_terms: Any = field(default=None, repr=False)

    def member_terms(self):
        """The buyer's membership terms (``orders.hooks.MemberTerms``), read once per order."""
        if self._member_terms is None:
            from quanzi.orders.hooks import pricing_hooks

            self._member_terms = pricing_hooks.terms(self.user)
        return self._member_terms


class Channel:
    """The normal checkout; subclasses override what their mechanic changes."""

    name = "normal"
    # Whether ``POST /orders`` may name this channel (``channel`` with its own keys, such
    # as ``wave_id``); channels with their own endpoints (groups, bargains…) say no.
    public_checkout = False

    def price(self, ctx: PlaceContext) -> None:
        """Fill ``unit_price`` of each line (retail or member price by default)."""
        terms = ctx.member_terms()
        for line in ctx.lines:
            line.unit_price = terms.unit_price(line.sku)

    def reserve(self, ctx: PlaceContext, order: Order) -> None:
        """Reserve what the channel sells beyond SKU stock (group slots, campaign stock)."""

    # Whether the core takes the lines' units from SKU stock at placement (and gives
    # them back on cancel). A channel selling from its own allotment may say no.
    reserves_sku_stock = True

    def after_paid(self, order: Order) -> str:
        """The status a freshly paid order moves to."""
        return "to_ship"

    def on_cancelled(self, order: Order) -> None:
        """Release what ``reserve`` took."""

    def on_refunded(self, order: Order, refund: Refund) -> None:
        """A refund of this order succeeded."""

    def may_ship(self, order: Order) -> bool:
        return True

    def describe(self, order: Order) -> dict[str, Any]:
        """What the channel adds to the API's view of its order (e.g. ``pickup``)."""
        return {}

    def sku_units_held(self) -> dict[int, int]:
        """Units this channel took from SKU stock outside its orders' lines, by SKU id
        (lottery prizes set aside). ``quanzi ledger check`` counts them in the stock."""
        return {}


class OrderObserver:
    """Follows every order. Default methods do nothing."""

    def on_priced(self, ctx: PlaceContext, order: Order) -> None:
        """The order and its lines exist; consume coupons, points… (same transaction)."""

    def on_paid(self, order: Order) -> None: ...

    def on_cancelled(self, order: Order) -> None: ...

    def on_refund_succeeded(self, order: Order, refund: Refund) -> None: ...

    def on_completed(self, order: Order) -> None: ...

    def on_shipped(self, order: Order) -> None:
        """The order left the warehouse (in the shipping transaction)."""

    def settlement_legs(self, order: Order, net_lines: Sequence[dict[str, int]]) -> list[Leg]:
        """Legs paid out of the order's money at settlement (credits, e.g. commissions).

        ``net_lines`` gives each line's id with what it kept after refunds. Return
        negative (credit) legs; the platform's revenue absorbs their sum.
        """
        return []

    def settlement_legs_many(
        self, orders: Sequence[Order], net_lines: Mapping[int, Sequence[dict[str, int]]]
    ) -> dict[int, list[Leg]]:
        """``settlement_legs`` of many orders (a settlement chunk), by order id; override
        it to read what the orders need in one query."""
        return {order.pk: self.settlement_legs(order, net_lines[order.pk]) for order in orders}

    def on_settled(self, order: Order) -> None: ...

    def on_settled_many(self, orders: Sequence[Order]) -> None:
        """``on_settled`` of many orders settled in one transaction."""
        for order in orders:
            self.on_settled(order)


_channels: dict[str, Channel] = {"normal": Channel()}
_observers: list[OrderObserver] = []


def register_channel(channel: Channel) -> None:
    _channels[channel.name] = channel


def register_observer(observer: OrderObserver) -> None:
    if all(type(existing) is not type(observer) for existing in _observers):
        _observers.append(observer)


def channel_for(name: str) -> Channel:
    channel = _channels.get(name)
    if channel is None:
        raise Invalid("unknown_channel", f"no selling channel named {name}")
    return channel


def channels() -> Sequence[Channel]:
    return tuple(_channels.values())


def observers() -> Sequence[OrderObserver]:
    return tuple(_observers)
