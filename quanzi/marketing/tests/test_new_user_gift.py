"""The new-user red packet (新人红包): given at sign-up, once per person."""

import pytest

from quanzi.accounts.services import user_register
from quanzi.marketing.models import Coupon
from quanzi.marketing.services import coupons_new_user_gift

pytestmark = pytest.mark.django_db


def test_a_new_customer_receives_the_red_packet_once(make_template):
    template = make_template(name="新人红包", new_user_gift=True, amount=500)
    user, _ = user_register(phone="13800138001", password="secret123", device_id="dev-a")
    held = Coupon.objects.filter(user_id=user.pk, source="new_user")
    assert [c.template_id for c in held] == [template.pk]
    # The hook run again (a retry) gives nothing more.
    assert coupons_new_user_gift(user) == []
    assert Coupon.objects.filter(user_id=user.pk).count() == 1


def test_signing_up_again_on_the_same_handset_gets_no_second_packet(make_template):
    make_template(name="新人红包", new_user_gift=True)
    first, _ = user_register(phone="13800138002", password="secret123", device_id="dev-b")
    again, _ = user_register(phone="13800138003", password="secret123", device_id="dev-b")
    other, _ = user_register(phone="13800138004", password="secret123", device_id="dev-c")
    assert Coupon.objects.filter(user_id=first.pk, source="new_user").count() == 1
    assert Coupon.objects.filter(user_id=again.pk).count() == 0
    assert Coupon.objects.filter(user_id=other.pk, source="new_user").count() == 1


def test_no_packet_when_the_operator_set_none(make_template):
    make_template(name="普通券", new_user_gift=False)
    user, _ = user_register(phone="13800138005", password="secret123")
    assert not Coupon.objects.filter(user_id=user.pk).exists()


def test_a_packet_that_ran_out_never_blocks_a_sign_up(make_template):
    make_template(name="新人红包", new_user_gift=True, total=1)
    make_template(name="新人运费券", new_user_gift=True, total=5)
    first, _ = user_register(phone="13800138006", password="secret123")
    second, _ = user_register(phone="13800138007", password="secret123")
    assert Coupon.objects.filter(user_id=first.pk).count() == 2
    assert [c.template.name for c in Coupon.objects.filter(user_id=second.pk)] == ["新人运费券"]
