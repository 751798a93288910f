"""The address picker: 省/市/区 from the bundled list, and paste-to-fill."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from quanzi.storefront.regions import address_parse, region_known, regions


def test_the_bundled_list_has_every_province_and_their_districts():
    tree = regions()
    assert len(tree) == 34
    assert "西湖区" in tree["浙江省"]["杭州市"]
    assert tree["北京市"] == {"北京市": tree["北京市"]["北京市"]}  # a municipality
    assert "朝阳区" in tree["北京市"]["北京市"]
    assert region_known("广东省", "深圳市", "南山区")
    assert not region_known("广东省", "杭州市", "西湖区")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "张三 13800138000 浙江省杭州市西湖区文三路88号",
            ("张三", "13800138000", "浙江省", "杭州市", "西湖区", "文三路88号"),
        ),
        (
            "收货人：李四，电话：139-1234-5678，地址：北京市朝阳区建国路1号",
            ("李四", "13912345678", "北京市", "北京市", "朝阳区", "建国路1号"),
        ),
        (
            "广东深圳南山区科技园1栋 王五 13700001111",
            ("王五", "13700001111", "广东省", "深圳市", "南山区", "科技园1栋"),
        ),
        (
            "王六 13600001111 杭州市西湖区文一路2号",
            ("王六", "13600001111", "浙江省", "杭州市", "西湖区", "文一路2号"),
        ),
    ],
)
def test_a_pasted_address_is_split_into_its_fields(text, expected):
    got = address_parse(text)
    assert tuple(got[k] for k in ("name", "phone", "province", "city", "district", "detail")) == (
        expected
    )


def test_nonsense_fills_nothing_wrongly():
    got = address_parse("hello")
    assert got["province"] == got["city"] == got["district"] == got["phone"] == ""


@pytest.mark.django_db
def test_the_form_refuses_a_district_of_another_city(customer):
    client = Client()
    client.force_login(customer)
    data = {
        "name": "李雷",
        "phone": "13900001111",
        "province": "广东省",
        "city": "深圳市",
        "district": "西湖区",
        "detail": "科技园 1 号",
    }
    refused = client.post("/me/addresses/new/", data)
    assert "请从列表中选择省、市、区" in refused.content.decode()
    assert not customer.addresses.exists()
    client.post("/me/addresses/new/", {**data, "district": "南山区"})
    assert customer.addresses.get().district == "南山区"
    parsed = client.post(
        "/me/addresses/parse/", {"text": "张三 13800138000 浙江省杭州市西湖区文三路88号"}
    )
    assert json.loads(parsed.content)["district"] == "西湖区"
    assert "浙江省" in Client().get("/regions.json").content.decode()
