"""``quanzi demo``, the README's first command, run as a newcomer runs it: a fresh data
directory, no database or Redis configured. The storefront, the API and the dashboard
answer on localhost, and the process stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Language": "zh-hans"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - localhost
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def test_quanzi_demo_serves_the_shop_the_api_and_the_dashboard(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("QUANZI_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["QUANZI_DATA_DIR"] = str(tmp_path)
    log = open(tmp_path / "demo.log", "wb")  # noqa: SIM115 - closed below
    demo = subprocess.Popen(
        [sys.executable, "-m", "quanzi.cli", "demo", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        status = 0
        while time.monotonic() < deadline and demo.poll() is None:
            status, _ = _get(f"{base}/")
            if status == 200:
                break
            time.sleep(0.5)
        output = (tmp_path / "demo.log").read_text(errors="replace")
        assert status == 200, f"the storefront never answered; demo printed:\n{output}"
        assert f"http://127.0.0.1:{port}/dashboard/" in output  # the addresses it printed

        status, body = _get(f"{base}/api/v1/products?limit=50")
        assert status == 200 and len(json.loads(body)["items"]) >= 12
        status, body = _get(f"{base}/dashboard/login/")
        assert status == 200 and "运营" in body.decode()
        assert (tmp_path / "quanzi.sqlite3").exists()  # the embedded database
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
        log.close()
