"""The API documentation works with no internet: Swagger UI and ReDoc come from this
site's static files, and the browser asks no other host for anything."""

from __future__ import annotations

import pytest

from quanzi.storefront.tests.browser import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screen(page, name: str) -> None:
    """The first screen only: the full ReDoc page is too long to photograph."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_swagger_ui_and_redoc_render_from_local_files(new_desktop, live_server):
    page = new_desktop()
    page.set_default_timeout(90_000)  # ReDoc lays out the whole schema before it shows
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Quanzi API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag")  # the operations are listed
    screen(page, "api-01-swagger")

    page.goto("/api/v1/redoc")
    page.wait_for_selector("#redoc-ui h1")
    assert "Quanzi API" in page.inner_text("#redoc-ui h1")
    screen(page, "api-02-redoc")
    # new_desktop fails the test on any request that left the live server (no CDN).
