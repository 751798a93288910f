from django.core.management.base import BaseCommand

from quanzi.flash import gate, writer


class Command(BaseCommand):
    help = (
        "Write queued flash-sale tickets as orders, many per transaction: once per live "
        "item, or with --follow until stopped (any number of these may run at once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="keep polling the queues")
        parser.add_argument("--batch", type=int, default=writer.BATCH)
        parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
        parser.add_argument(
            "--nice",
            type=int,
            default=0,
            help="lower this process's CPU priority (os.nice) so that, on machines shared "
            "with the web processes, the buyers' requests go first and the writers catch up",
        )

    def handle(self, *args, follow: bool, batch: int, seconds: float | None, nice: int, **options):
        if nice > 0:
            import contextlib
            import os

            os.nice(nice)
            # With the kernel's autogroup scheduling (a session, a group), a nice value
            # only ranks processes of the same session: a writer started in a session
            # of its own also lowers its group's.
            with contextlib.suppress(OSError):
                with open("/proc/self/autogroup", "w") as group:
                    group.write(str(min(nice, 19)))
        if not gate.enabled():
            self.stdout.write("no Redis gate (QUANZI_REDIS_URL unset): nothing is queued")
            return
        if follow:
            self.stdout.write("flash writer following the queues")
            self.stdout.flush()
            total = writer.follow(batch=batch, seconds=seconds)
        else:
            total = 0
            for item_id in writer.live_items():
                while n := writer.write_batch(item_id=item_id, batch=batch):
                    total += n
        self.stdout.write(f"tickets taken {total}")
