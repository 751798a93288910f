"""Partner sweeps: forget nonces and codes that can no longer be used."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.core.jobs import sweep
from quanzi.partners.models import PartnerCode, PartnerNonce


def partners_forget_expired(*, now=None) -> int:
    """A nonce past ``forget_after`` belongs to a token refused as expired anyway; an
    unused code a day past its expiry is gone."""
    now = now or timezone.now()
    nonces, _ = PartnerNonce.objects.filter(forget_after__lt=now).delete()
    codes, _ = PartnerCode.objects.filter(
        used_at__isnull=True, expires_at__lt=now - timedelta(days=1)
    ).delete()
    return nonces + codes


@sweep("partners.forget_expired", every=3600)
def forget_expired() -> int:
    return partners_forget_expired()
