from quanzi.storefront.tests.browser import browser, new_desktop  # noqa: F401 - fixtures
