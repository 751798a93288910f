from quanzi.storefront.tests.browser import browser, new_desktop, new_phone  # noqa: F401
