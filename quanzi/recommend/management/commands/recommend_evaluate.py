"""``quanzi manage recommend_evaluate``: offline evaluation of the recommenders."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from quanzi.recommend import evaluation as ev


class Command(BaseCommand):
    help = "Recall/NDCG/HR@K of popularity, ALS, friends and the blend on held-out data"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset",
            action="append",
            choices=["generated", "quanzi", "ml-100k", "ciao"],
            help="repeatable; default: generated, quanzi, ml-100k, ciao",
        )
        parser.add_argument("--k", type=int, default=ev.K_DEFAULT)
        parser.add_argument("--users", type=int, default=600, help="generated population")
        parser.add_argument("--items", type=int, default=400, help="generated population")

    def handle(self, *args, **opts):
        k = opts["k"]
        for name in opts["dataset"] or ["generated", "quanzi", "ml-100k", "ciao"]:
            if name == "generated":
                data = ev.generated(users=opts["users"], items=opts["items"])
                split = ev.split_temporal(data)
            elif name == "quanzi":
                data = ev.quanzi_log()
                if len({r[0] for r in data.interactions}) < 2:
                    self.stdout.write("quanzi: skipped (fewer than two people with events)\n")
                    continue
                split = ev.split_temporal(data)
            elif name == "ml-100k":
                data = ev.movielens_100k()
                if isinstance(data, str):
                    self.stdout.write(f"ml-100k: skipped ({data})\n")
                    continue
                split = ev.split_random(data)
            else:
                data = ev.ciao()
                if isinstance(data, str):
                    self.stdout.write(f"ciao: skipped ({data})\n")
                    continue
                split = ev.split_temporal(data)
            results = ev.evaluate(split, data.friends, k=k)
            self.stdout.write(
                f"\n{data.name}: {data.protocol}; {len(split.train)} training interactions, "
                f"{len(split.test)} test users; ALS trained in "
                f"{results['_train_seconds']['seconds']:.2f} s\n"
            )
            self.stdout.write(ev.table(results, k=k) + "\n")
