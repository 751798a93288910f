"""The order state machine: every legal transition works, every other one is refused."""

import pytest

from quanzi.core.errors import InvalidTransition
from quanzi.orders.models import Order, OrderEvent
from quanzi.orders.models import Status as S
from quanzi.orders.states import TRANSITIONS, transition

ALL = [s.value for s in S]
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
ILLEGAL = [(a, b) for a in ALL for b in ALL if b not in TRANSITIONS[a]]


@pytest.fixture
def order(customer, sku, buy):
    data = buy(customer, sku, pay=False)
    return Order.objects.get(pk=data["id"])


def _force(order, status, before=""):
    Order.objects.filter(pk=order.pk).update(status=status, status_before_refund=before)
    order.refresh_from_db()


# These two force raw states onto an order (paid without a payment…), so the books
# cannot balance by construction; the API test below keeps the ledger check.
@pytest.mark.ledger_dirty
@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_every_legal_transition_is_taken_and_recorded(order, current, target):
    before = target if current == S.REFUNDING and target != S.REFUNDED else ""
    _force(order, current, before)
    transition(order, target)
    order.refresh_from_db()
    assert order.status == target
    assert OrderEvent.objects.filter(order=order, from_status=current, to_status=target).exists()


@pytest.mark.ledger_dirty
@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_other_transition_is_refused(order, current, target):
    _force(order, current)
    with pytest.raises(InvalidTransition):
        transition(order, target)
    order.refresh_from_db()
    assert order.status == current


@pytest.mark.ledger_dirty
def test_refunding_returns_only_to_where_it_came_from(order):
    _force(order, S.TO_SHIP)
    transition(order, S.REFUNDING)
    with pytest.raises(InvalidTransition):
        transition(order, S.SHIPPED)
    transition(order, S.TO_SHIP)
    assert order.status == S.TO_SHIP


def test_terminal_states_have_no_way_out():
    assert TRANSITIONS[S.CANCELLED] == set()
    assert TRANSITIONS[S.REFUNDED] == set()


def test_illegal_transitions_through_the_api_are_409(customer, operator, sku, buy):
    unpaid = buy(customer, sku, pay=False)
    ship = operator.api.post(
        f"/admin/orders/{unpaid['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
    )
    assert ship.status_code == 409
    assert ship.json()["code"] == "invalid_transition"
    confirm = customer.api.post(f"/orders/{unpaid['id']}/confirm-receipt")
    assert confirm.status_code == 409

    paid = buy(customer, sku)
    cancel = customer.api.post(f"/orders/{paid['id']}/cancel")
    assert cancel.status_code == 409
    assert cancel.json()["code"] == "invalid_transition"
    assert customer.api.get(f"/orders/{paid['id']}").json()["status"] == "to_ship"
