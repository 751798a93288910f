"""``quanzi demo`` shows the community home at once: two leaders in one city and an
open wave of fresh produce."""


def test_demo_has_points_and_an_open_wave(db, anon):
    from quanzi.core.demo import demo_load

    assert demo_load() is True
    points = anon.get("/community/points?lat=30.28&lng=120.13").json()["items"]
    assert len(points) == 2
    assert all(p["distance_m"] < 2_000 for p in points)
    wave = anon.get("/community/waves/current").json()
    assert len(wave["items"]) == 4 and wave["seconds_left"] > 0
    assert anon.client.get("/community/").status_code == 200
