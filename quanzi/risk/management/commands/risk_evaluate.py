"""``quanzi risk evaluate --seed S`` (or ``quanzi manage risk_evaluate --seed S``): the risk rules measured on a seeded population
with known abusers, in a database made for the run and dropped after it."""

import logging

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Measure each risk rule's precision and recall on seeded abuse."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--honest", type=int, default=300, help="honest people")
        parser.add_argument("--farms", type=int, default=8, help="abusers of each kind")
        parser.add_argument("--write", default=None, help="also write the table to this file")

    def handle(self, *args, seed, honest, farms, write=None, **options):
        from django.conf import settings
        from django.db import connection

        from quanzi.simulation.abuse import evaluate, evaluation_format

        logging.disable(logging.CRITICAL)
        db = settings.DATABASES["default"]
        db.setdefault("TEST", {})["NAME"] = (
            None if connection.vendor == "sqlite" else f"{db['NAME']}_risk_evaluation"
        )
        old = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            result = evaluate(seed=seed, honest=honest, farms=farms)
            text = evaluation_format(result, seed=seed)
            self.stdout.write(text)
            if write:
                with open(write, "w", encoding="utf-8") as out:
                    out.write(text + "\n")
        finally:
            connection.creation.destroy_test_db(old, verbosity=0)
