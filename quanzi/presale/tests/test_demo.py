"""``quanzi demo`` shows ideas with votes and two pre-sales taking orders."""


def test_demo_has_ideas_and_presales(db, anon):
    from quanzi.core.demo import demo_load

    assert demo_load() is True
    ideas = anon.get("/presale/proposals").json()["items"]
    assert sorted(i["votes"] for i in ideas) == [1, 2, 4]
    sales = anon.get("/presale/sales").json()["items"]
    assert {s["mode"]: s["state"] for s in sales} == {"deposit": "deposit", "threshold": "selling"}
    assert anon.client.get("/presale/").status_code == 200
