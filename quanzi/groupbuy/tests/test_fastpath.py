"""The group join's fast path (``POST /groups/{id}/join`` refused in front of Django)
answers each refusal as the API does: same status, body and headers, and the same record
under the ``Idempotency-Key``. What it cannot answer exactly goes to Django, and the
answer is then Django's own."""

from __future__ import annotations

import uuid

import pytest

from quanzi.core import fastpaths
from quanzi.core.models import IdempotencyRecord
from quanzi.core.testing import CountingDjango, post_environ, wsgi_call
from quanzi.groupbuy.models import Group, GroupStatus
from quanzi.groupbuy.tests.test_joining import forming_group
from quanzi.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(settings, monkeypatch):
    """(Django alone, the fast paths in front of it), tokens cached as in production."""
    from quanzi.risk import recording

    settings.AUTH_TOKEN_CACHE_SECONDS = 30
    monkeypatch.setattr(recording, "_asked", {})  # outlives a test's rollback otherwise
    django = CountingDjango()
    return django, fastpaths.wrap(django)


@pytest.fixture
def joiner(make_user, flow):
    def make(*, warm=True):
        user = make_user()
        flow.address(user)
        if warm:  # a page seen before: the token is in the token cache
            assert user.api.get("/me").status_code == 200
        return user

    return make


def _path(group_id):
    return f"/api/v1/groups/{group_id}/join"


def _body(flow, user, sku, **extra):
    return {"sku_id": sku.pk, "qty": 1, "address_id": flow.address(user), **extra}


def _send(app, group_id, user, body, *, key=None, headers=None, raw=None):
    headers = dict(headers or {})
    if key is not None:
        headers["Idempotency-Key"] = key
    environ = post_environ(_path(group_id), body, token=user.api.token, headers=headers, raw=raw)
    return wsgi_call(app, environ)


def _both(paths, group_id, a, b, body_a, body_b, *, keyed=True):
    """The same join by ``a`` to Django and by ``b`` to the fast path; the fast path
    must answer it itself."""
    django, fast = paths
    key_a, key_b = (uuid.uuid4().hex, uuid.uuid4().hex) if keyed else (None, None)
    d = _send(django, group_id, a, body_a, key=key_a)
    before = django.calls
    f = _send(fast, group_id, b, body_b, key=key_b)
    assert django.calls == before, "the fast path handed the request to Django"
    assert (f.status, f.reason, f.json()) == (d.status, d.reason, d.json())
    assert f.headers_but_request_id() == d.headers_but_request_id()
    return d, f, key_a, key_b


def _full_group(make_user, make_campaign, peach_sku, flow):
    """A group of 2 whose second place is reserved (not paid yet): full, still forming."""
    _, _, group_id = forming_group(make_user, make_campaign, peach_sku, flow, group_size=2)
    flow.join(make_user(), group_id, peach_sku, pay=False)
    return group_id


def test_full_group_refused_in_front_and_recorded_under_the_key(
    paths, joiner, make_user, make_campaign, peach_sku, flow
):
    group_id = _full_group(make_user, make_campaign, peach_sku, flow)
    a, b = joiner(), joiner()
    orders = Order.objects.count()
    d, f, key_a, key_b = _both(
        paths, group_id, a, b, _body(flow, a, peach_sku), _body(flow, b, peach_sku)
    )
    assert f.status == 409 and f.json()["code"] == "group_full"
    assert f.json()["detail"] == {"size": 2}
    ra = IdempotencyRecord.objects.get(user_id=a.pk, key=key_a)
    rb = IdempotencyRecord.objects.get(user_id=b.pk, key=key_b)
    assert (rb.route, rb.status_code, rb.response) == (ra.route, ra.status_code, ra.response)
    assert Order.objects.count() == orders  # nothing placed, no place taken


def test_a_keyed_retry_gets_the_first_answer_whichever_path_answers(
    paths, joiner, make_user, make_campaign, peach_sku, flow
):
    django, fast = paths
    group_id = _full_group(make_user, make_campaign, peach_sku, flow)
    b = joiner()
    key = uuid.uuid4().hex
    first = _send(fast, group_id, b, _body(flow, b, peach_sku), key=key)
    assert first.json()["code"] == "group_full"
    # The same key again: the fast path finds the key answered and hands over; Django
    # replays the recorded refusal.
    before = django.calls
    again = _send(fast, group_id, b, _body(flow, b, peach_sku), key=key)
    assert django.calls == before + 1
    assert (again.status, again.json()) == (first.status, first.json())
    # The same key with another body is the API's conflict.
    other = _send(fast, group_id, b, _body(flow, b, peach_sku, qty=2), key=key)
    assert other.status == 409 and other.json()["code"] == "idempotency_key_reused"


def test_unkeyed_refusal_records_nothing(paths, joiner, make_user, make_campaign, peach_sku, flow):
    group_id = _full_group(make_user, make_campaign, peach_sku, flow)
    a, b = joiner(), joiner()
    _, f, _, _ = _both(
        paths, group_id, a, b, _body(flow, a, peach_sku), _body(flow, b, peach_sku), keyed=False
    )
    assert f.json()["code"] == "group_full"
    assert not IdempotencyRecord.objects.filter(user_id=b.pk).exists()


def test_closed_missing_pending_and_own_groups(
    paths, joiner, make_user, make_campaign, peach_sku, flow
):
    a, b = joiner(), joiner()
    body_a, body_b = _body(flow, a, peach_sku), _body(flow, b, peach_sku)
    _, f, _, _ = _both(paths, 999_999, a, b, body_a, body_b)
    assert (f.status, f.json()["code"]) == (404, "group_not_found")

    leader, campaign, group_id = forming_group(make_user, make_campaign, peach_sku, flow)
    Group.objects.filter(pk=group_id).update(status=GroupStatus.FAILED)
    _, f, _, _ = _both(paths, group_id, a, b, body_a, body_b)
    assert f.json()["code"] == "group_closed" and f.json()["detail"] == {"status": "failed"}

    pending = flow.open(make_user(), campaign, peach_sku, pay=False)["group_id"]
    _, f, _, _ = _both(paths, pending, a, b, body_a, body_b)
    assert f.json()["code"] == "group_not_open"

    # Each leader at their own group: one through Django, one through the fast path.
    other_leader = make_user()
    other_group = flow.open(other_leader, campaign, peach_sku)["group_id"]
    for user in (leader, other_leader):
        assert user.api.get("/me").status_code == 200
    Group.objects.filter(pk=group_id).update(status=GroupStatus.FORMING)
    _, f, _, _ = _both_at(paths, (group_id, leader), (other_group, other_leader), flow, peach_sku)
    assert f.json()["code"] == "own_group"


def _both_at(paths, one, other, flow, sku):
    django, fast = paths
    (group_a, a), (group_b, b) = one, other
    d = _send(django, group_a, a, _body(flow, a, sku), key=uuid.uuid4().hex)
    before = django.calls
    f = _send(fast, group_b, b, _body(flow, b, sku), key=uuid.uuid4().hex)
    assert django.calls == before, "the fast path handed the request to Django"
    assert (f.status, f.json()) == (d.status, d.json())
    assert f.headers_but_request_id() == d.headers_but_request_id()
    return d, f, None, None


def test_what_the_fast_path_hands_to_django(
    paths, joiner, make_user, make_campaign, peach_sku, flow
):
    django, fast = paths
    _, campaign, full = forming_group(make_user, make_campaign, peach_sku, flow, group_size=2)
    flow.join(make_user(), full, peach_sku, pay=False)
    open_group = flow.open(make_user(), campaign, peach_sku)["group_id"]  # one place free

    def handed(group_id, user, body, *, key=None, raw=None, status, code=None):
        before = django.calls
        answer = _send(fast, group_id, user, body, key=key, raw=raw)
        assert django.calls == before + 1, "Django did not answer it"
        assert answer.status == status, answer.body
        if code is not None:
            assert answer.json()["code"] == code
        return answer

    # A place that may be free: the API takes it and places the order.
    b = joiner()
    placed = handed(open_group, b, _body(flow, b, peach_sku), key=uuid.uuid4().hex, status=201)
    assert Order.objects.filter(pk=placed.json()["order_id"], user=b).exists()
    # Already in the group: the API's answer (it waits for a join of theirs in flight).
    handed(
        open_group,
        b,
        _body(flow, b, peach_sku),
        key=uuid.uuid4().hex,
        status=409,
        code="already_joined",
    )
    # A token the cache does not know yet.
    cold = joiner(warm=False)
    handed(full, cold, _body(flow, cold, peach_sku), status=409, code="group_full")
    # Bodies the schema would refuse or read otherwise, and keys the API refuses.
    c = joiner()
    handed(full, c, {**_body(flow, c, peach_sku), "qty": "1"}, status=422)
    handed(full, c, {**_body(flow, c, peach_sku), "points": -1}, status=422)
    handed(
        full,
        c,
        _body(flow, c, peach_sku),
        key="k" * 129,
        status=422,
        code="invalid_idempotency_key",
    )
    handed(full, c, None, raw="[1, 2]", status=422)
    # Signed out: the API's 401.
    c.api.token = "not-a-token"
    handed(full, c, _body(flow, c, peach_sku), status=401)
