"""A draining sweep works a backlog off in one run, and stops on a short batch or time."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from quanzi.core import jobs
from quanzi.core.jobs import drain


def _steps(*sizes):
    calls = []

    def step(*, batch):
        calls.append(batch)
        return sizes[len(calls) - 1]

    return step, calls


def test_full_batches_are_followed_by_more_until_a_short_one():
    step, calls = _steps(3, 3, 1, 3)
    assert drain(step, batch=3) == 7
    assert calls == [3, 3, 3]  # each batch asked for with its size


def test_an_empty_first_batch_is_one_call():
    step, calls = _steps(0)
    assert drain(step, batch=3) == 0
    assert len(calls) == 1


def test_the_time_budget_ends_a_run_that_keeps_finding_work(monkeypatch):
    clock = iter(range(0, 1000, 10))  # every look at the clock is 10 s later
    monkeypatch.setattr(jobs.time, "monotonic", lambda: next(clock))
    step, calls = _steps(*([5] * 50))
    assert drain(step, batch=5, seconds=35) == 20  # four batches fit in 35 s
    assert len(calls) == 4


def test_one_settle_run_settles_a_backlog_bigger_than_its_batch(monkeypatch, customer, buy, sku):
    from quanzi.orders import jobs as order_jobs
    from quanzi.orders.models import Order

    for _ in range(5):
        buy(customer, sku)
    past = timezone.now() - timedelta(days=1)
    Order.objects.update(status="completed", completed_at=past, after_sales_ends_at=past)
    monkeypatch.setattr(order_jobs, "SETTLE_BATCH", 2)
    assert order_jobs.settle_due() == 5
    assert not Order.objects.filter(settled_at__isnull=True).exists()


def test_old_sweep_runs_are_forgotten_but_each_sweeps_last_run_stays(db):
    from quanzi.core.jobs import JOB_RUNS_KEEP_DAYS, job_runs_prune
    from quanzi.core.models import JobRun

    now = timezone.now()
    old = now - timedelta(days=JOB_RUNS_KEEP_DAYS + 1)
    recent = now - timedelta(days=1)
    for started in (old, old, recent):
        JobRun.objects.create(name="busy", started_at=started, finished_at=started)
    JobRun.objects.create(name="rare", started_at=old, finished_at=old)  # its only run

    assert job_runs_prune(now=now, batch=1) == 1  # a batch at a time
    assert job_runs_prune(now=now) == 1
    assert job_runs_prune(now=now) == 0
    left = sorted(JobRun.objects.values_list("name", "started_at"))
    assert left == [("busy", recent), ("rare", old)]
