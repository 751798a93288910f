"""``quanzi manage recommend_evaluate`` (also ``quanzi recommend evaluate``): offline
evaluation of the recommenders."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from quanzi.recommend import evaluation as ev


class Command(BaseCommand):
    help = "Recall/NDCG/HR@K of popularity, ALS, friends and the blend on held-out data"

    def add_arguments(self, parser):
        ev.add_arguments(parser)

    def handle(self, *args, **opts):
        ev.run_evaluation(
            datasets=opts["dataset"],
            k=opts["k"],
            users=opts["users"],
            items=opts["items"],
            tune=opts["tune"],
            write=self.stdout.write,
        )
