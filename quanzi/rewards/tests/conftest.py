from __future__ import annotations

import pytest


@pytest.fixture
def make_lottery(operator):
    def make(*, prizes, cost_points: int = 0, free_draws_per_day: int = 3, **fields) -> dict:
        response = operator.api.post(
            "/admin/lotteries",
            {
                "title": "幸运大转盘",
                "cost_points": cost_points,
                "free_draws_per_day": free_draws_per_day,
                "prizes": prizes,
                **fields,
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


_phones = iter(range(15_500_000_001, 15_600_000_000))


@pytest.fixture
def register(anon):
    """Sign a person up like the API does (invite code, device id), optionally through a
    share link token; returns the user with ``.api``."""
    from quanzi.accounts.services import user_register

    api_class = type(anon)

    def run(*, invite_code: str = "", device_id: str = "", share_token: str = "", nickname=""):
        user, token = user_register(
            phone=str(next(_phones)),
            password="secret123",
            nickname=nickname,
            invite_code=invite_code,
            device_id=device_id,
        )
        if share_token:
            from quanzi.social.services import share_register_attribute

            share_register_attribute(user=user, token=share_token)
        user.api = api_class(token)
        return user

    return run


@pytest.fixture
def reward_campaign(operator):
    def make(**fields) -> dict:
        body = {"kind": "invite", "trigger": "first_order", "needed": 1, "reward": {"points": 100}}
        body.update(fields)
        response = operator.api.post("/admin/reward-campaigns", body)
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def complete_order(operator, sku):
    """Buy and pay (given address), ship and confirm receipt: the order completes; then,
    unless ``settle=False``, its after-sales window ends and it settles."""
    from datetime import timedelta

    from quanzi.orders.models import Order
    from quanzi.orders.services import order_settle

    def run(user, *, address=None, settle: bool = True) -> dict:
        body = {"items": [{"sku_id": sku.pk, "qty": 1}], "address_id": address.pk}
        order = user.api.post("/orders", body).json()
        payment = user.api.post(f"/orders/{order['id']}/pay", {"gateway": "sandbox"}).json()
        user.api.post(f"/payments/sandbox/{payment['payment_id']}/complete")
        shipped = operator.api.post(
            f"/admin/orders/{order['id']}/ship", {"carrier": "顺丰", "tracking_no": "SF1"}
        )
        assert shipped.status_code == 200, shipped.content
        done = user.api.post(f"/orders/{order['id']}/confirm-receipt")
        assert done.json()["status"] == "completed", done.content
        if settle:
            ends = Order.objects.get(pk=order["id"]).after_sales_ends_at
            assert order_settle(order_id=order["id"], now=ends + timedelta(seconds=1))
        return done.json()

    return run


@pytest.fixture
def bring(register, complete_order, own_address):
    """A friend signs up with ``inviter``'s invite code and a first order of theirs
    settles; returns the friend."""

    def run(inviter, *, device_id: str = "", settle: bool = True):
        friend = register(invite_code=inviter.invite_code, device_id=device_id)
        complete_order(friend, address=own_address(friend), settle=settle)
        return friend

    return run


@pytest.fixture
def own_address(db):
    """A distinct address per call, whose phone and place the test may choose."""
    from quanzi.accounts.services import address_create

    counter = iter(range(1, 10_000))

    def make(user, *, phone: str | None = None, detail: str | None = None):
        n = next(counter)
        return address_create(
            user=user,
            data={
                "name": f"收件人{n}",
                "phone": phone or f"1880000{n:04d}",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": detail or f"文三路 {n} 号 {user.pk} 室",
            },
        )

    return make
