"""``quanzi manage analytics_backfill --from 2026-11-01 --to 2026-11-30``."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from quanzi.analytics.facts import facts_backfill


class Command(BaseCommand):
    help = "Rebuild the daily analytics facts of a date range (both ends included)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")

    def handle(self, *args, start, end, **options):
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise CommandError(f"dates are YYYY-MM-DD: {exc}") from exc
        if last < first:
            raise CommandError("--to comes before --from")
        days = facts_backfill(start=first, end=last)
        self.stdout.write(f"built {days} day(s) of facts, {first} to {last}")
