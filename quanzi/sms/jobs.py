"""The SMS sweep: text messages whose retry time came are sent again."""

from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.sms.channel import sms_retry


@sweep("sms.retry", every=60)
def sms_retry_due() -> int:
    return sms_retry()
