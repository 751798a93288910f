"""Print a signed arrival link of a partner (the demo partner by default), as the
partner's own server would make it: ``manage.py partner_link --uid 6225880012345678``."""

from __future__ import annotations

import secrets
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print a signed arrival link for a partner user (HMAC partners whose secret you hold)"

    def add_arguments(self, parser):
        from quanzi.partners.demo import DEMO_CODE, DEMO_SECRET

        parser.add_argument("--partner", default=DEMO_CODE)
        parser.add_argument("--secret", default=DEMO_SECRET)
        parser.add_argument("--uid", default="6225880000000001")
        parser.add_argument("--level", default="gold")
        parser.add_argument("--ttl", type=int, default=600)
        parser.add_argument("--base", default="http://127.0.0.1:8000")

    def handle(self, *args, **opts):
        from quanzi.partners.models import Partner
        from quanzi.partners.signing import token_make

        partner = Partner.objects.filter(code=opts["partner"]).first()
        if partner is None:
            raise CommandError(f"no partner {opts['partner']} (load the demo: quanzi demo)")
        now = int(time.time())
        ttl = min(opts["ttl"], partner.token_max_age)
        token = token_make(
            "hmac",
            opts["secret"],
            {
                "partner": partner.code,
                "uid": opts["uid"],
                "level": opts["level"],
                "iat": now,
                "exp": now + ttl,
                "nonce": secrets.token_urlsafe(12),
            },
        )
        self.stdout.write(f"{opts['base'].rstrip('/')}/p/{partner.code}?token={token}")
