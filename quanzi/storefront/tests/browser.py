"""Headless Chromium for the browser tests (Debian's ``chromium`` package, driven by
Playwright). Every page is watched: a JavaScript error, a console error, or a request
to any host but the live server fails the test. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(
    os.environ.get("QUANZI_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts")
)


class Watch:
    """What a browser context did wrong: page errors, console errors, foreign requests."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.errors: list[str] = []
        self.foreign: list[str] = []

    def attach(self, context) -> None:
        def route(route):
            url = route.request.url
            if url.startswith(self.base_url + "/") or url == self.base_url:
                route.continue_()
            elif url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        context.route("**/*", route)
        context.on("page", self._page)

    def _page(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )

    def check(self) -> None:
        assert not self.errors, "the browser saw errors:\n" + "\n".join(self.errors)
        assert not self.foreign, "requests left the server:\n" + "\n".join(self.foreign)


@pytest.fixture
def browser(monkeypatch):
    if CHROMIUM is None:
        pytest.skip("browser tests need Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield instance
        finally:
            instance.close()
            # ORM calls made while Playwright's loop ran may have opened a connection of
            # their own; close it so that the test database can be dropped afterwards.
            from django.db import connections

            connections.close_all()


@pytest.fixture
def new_phone(browser, live_server):
    """Open a phone-sized browser context (390×844, Chinese) on the live server."""
    watches: list[Watch] = []
    contexts = []

    def make(locale: str = "zh-CN"):
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=locale,
            base_url=live_server.url,
        )
        context.set_default_timeout(15_000)
        watch = Watch(live_server.url)
        watch.attach(context)
        watches.append(watch)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        watch.check()


@pytest.fixture
def new_desktop(browser, live_server):
    watches: list[Watch] = []
    contexts = []

    def make(locale: str = "zh-CN"):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=locale, base_url=live_server.url
        )
        context.set_default_timeout(15_000)
        watch = Watch(live_server.url)
        watch.attach(context)
        watches.append(watch)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        watch.check()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^\w.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


A11Y_CHECK = """() => {
  const problems = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  document.querySelectorAll('button, .btn, .tabbar a, .buybar a, .chip span, .stepper button').forEach((el) => {
    if (!visible(el)) return;
    const r = el.getBoundingClientRect();
    if (r.height < 44 - 0.5) problems.push(`small tap target (${Math.round(r.width)}×${Math.round(r.height)}): ${el.outerHTML.slice(0, 80)}`);
  });
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach((el) => {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`unlabelled field: ${el.outerHTML.slice(0, 80)}`);
  });
  document.querySelectorAll('img').forEach((el) => { if (!el.hasAttribute('alt')) problems.push(`img without alt: ${el.src}`); });
  return problems;
}"""


def accessible(page) -> list[str]:
    """Tap targets under 44 px, fields without a label, images without alt (measured once
    the page and its stylesheets have loaded)."""
    page.wait_for_load_state("load")
    return page.evaluate(A11Y_CHECK)
