from django.core.management.base import BaseCommand

from quanzi.flash.reconcile import GRACE_SECONDS, reconcile


class Command(BaseCommand):
    help = "Return flash-sale units whose order was never written or never paid (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=int, default=GRACE_SECONDS)

    def handle(self, *args, grace: int, **options):
        report = reconcile(grace=grace)
        self.stdout.write(
            f"tickets returned {report.tickets_returned}, cleared {report.tickets_cleared}; "
            f"orders cancelled {report.orders_cancelled}; sales closed {report.sales_closed}; "
            f"gate corrections {report.gate_corrections}"
        )
