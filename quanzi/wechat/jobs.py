"""WeChat's sweep: subscribe messages whose retry time came are sent again."""

from __future__ import annotations

from quanzi.core.jobs import sweep
from quanzi.wechat.subscribe import subscribe_retry


@sweep("wechat.subscribe_retry", every=60)
def wechat_subscribe_retry() -> int:
    return subscribe_retry()


@sweep("wechat.oauth_states_prune", every=3600)
def wechat_oauth_states_prune() -> int:
    """Forget OAuth states a day old (they were good for ten minutes)."""
    from datetime import timedelta

    from django.utils import timezone

    from quanzi.wechat.models import OAuthState

    deleted, _ = OAuthState.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted
