from quanzi.distribution.tests.payout_gateways import alipay  # noqa: F401 - fixture
from quanzi.storefront.tests.browser import browser, new_desktop, new_phone  # noqa: F401
