"""WeChat's sweep: subscribe messages whose retry time came are sent again."""

from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.wechat.subscribe import subscribe_retry


@sweep("wechat.subscribe_retry", every=60)
def wechat_subscribe_retry() -> int:
    return subscribe_retry()
