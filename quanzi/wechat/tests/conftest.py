from __future__ import annotations

import os

import pytest

from quanzi.storefront.tests.browser import browser  # noqa: F401 - fixture
from quanzi.storefront.tests.test_deals import bargain_campaign, deal  # noqa: F401 - fixtures
from quanzi.wechat.tests.standin import FakeWechat

MINI_APPID, MINI_SECRET = "wxmini0000000001", "mini-secret-1234"
MP_APPID, MP_SECRET = "wxmp000000000001", "mp-secret-5678"


PORTS = range(18440, 18450)  # the ports these tests may listen on


def _start() -> FakeWechat:
    """The stand-in on a free port of ``PORTS``, starting from this worker's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    for step in range(len(PORTS)):
        port = PORTS[(index + step) % len(PORTS)]
        try:
            return FakeWechat(port)
        except OSError:  # taken by another test run
            continue
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the stand-in")


@pytest.fixture(scope="session")
def _wechat_server():
    fake = _start()
    yield fake
    fake.stop()


@pytest.fixture
def wx(_wechat_server, settings, monkeypatch):
    """The stand-in, fresh, with the mini-program and the 公众号 configured."""
    from quanzi.wechat import client

    fake = _wechat_server
    fake.reset()
    fake.oauth_person = None
    fake.add_app(MINI_APPID, MINI_SECRET)
    fake.add_app(MP_APPID, MP_SECRET)
    settings.QUANZI_WECHAT_API_URL = fake.url
    settings.QUANZI_WECHAT_OPEN_URL = fake.url
    settings.QUANZI_WECHAT_MINI_APPID = MINI_APPID
    settings.QUANZI_WECHAT_MINI_SECRET = MINI_SECRET
    settings.QUANZI_WECHAT_MP_APPID = MP_APPID
    settings.QUANZI_WECHAT_MP_SECRET = MP_SECRET
    monkeypatch.setattr(client, "TIMEOUT", (1, 0.5))
    fake.state.slow_seconds = 1.5
    return fake
