"""The seeded whole-system simulation, short runs: every invariant after every step,
nothing left behind at the end, the same seed replaying the same run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from quanzi.simulation import ops
from quanzi.simulation.command import forget_caches
from quanzi.simulation.runner import report_format, simulate

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = 150


@pytest.fixture(autouse=True)
def _tasks_in_process(settings):
    settings.TASKS_EAGER = True


def _ran_clean(report) -> None:
    assert report.ok, report_format(report)
    assert report.steps_done == report.steps
    # One check before the first step, one after each step, one once settled down.
    assert report.checks == report.steps + 2


@pytest.mark.parametrize("seed", [11, 12])
def test_a_short_run_keeps_every_invariant_and_leaves_nothing_behind(seed):
    report = simulate(seed=seed, steps=STEPS)

    _ran_clean(report)
    # The run really went through the shop, not around it.
    assert sum(report.ops.values()) == STEPS
    assert len(report.ops) >= 15, report.ops
    done = [o for o, n in report.outcomes.items() if "skip" not in o and "refused" not in o]
    assert len(done) >= 20, report.outcomes
    assert sum(report.faults.values()) > 0


@pytest.mark.postgres
def test_a_short_run_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL pass of the suite runs it")
    _ran_clean(simulate(seed=21, steps=STEPS))


def test_the_same_seed_replays_the_same_run_and_another_seed_does_not():
    first = simulate(seed=5, steps=60, settle=False)
    _start_afresh()
    again = simulate(seed=5, steps=60, settle=False)
    _start_afresh()
    other = simulate(seed=6, steps=60, settle=False)

    for report in (first, again, other):
        assert report.ok, report_format(report)
    assert again.trace == first.trace
    assert again.faults == first.faults
    assert other.trace != first.trace


def _start_afresh():
    call_command("flush", interactive=False, verbosity=0)
    forget_caches()


@pytest.mark.ledger_dirty
def test_a_broken_invariant_stops_the_run_with_its_seed_and_step(monkeypatch):
    """A step that puts a unit on a shelf from nowhere is caught right after it."""
    from quanzi.catalog.models import SKU

    real = ops.OPS["sign_in"]

    def sign_in_and_conjure_stock(world):
        SKU.objects.filter(pk=world.skus[0]).update(stock=F("stock") + 1)
        return real.run(world)

    monkeypatch.setitem(ops.OPS, "sign_in", ops.Op("sign_in", 40, sign_in_and_conjure_stock))

    report = simulate(seed=3, steps=STEPS)

    assert not report.ok
    assert report.failure.op == "sign_in"
    assert report.steps_done == report.failure.step  # nothing ran after it
    text = str(report.failure)
    assert "stock is conserved per SKU" in text
    assert f"seed 3, step {report.failure.step}" in text
    assert f"quanzi simulate --seed 3 --steps {report.failure.step}" in text


def test_the_command_runs_a_seed_on_a_database_of_its_own(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QUANZI_DATABASE_URL"}
    env["QUANZI_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "quanzi.simulation", "--seed", "4", "--steps", "40"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "seed 4, 40 of 40 steps on sqlite" in done.stdout
    assert "faults injected:" in done.stdout
    assert "result: OK" in done.stdout
