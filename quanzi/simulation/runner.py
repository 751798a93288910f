"""The driver: a seed in, the same run out.

``simulate(seed=, steps=)`` builds the shop, then draws ``steps`` operations with the
run's own ``random.Random(seed)``, advancing the simulated clock between them, with the
gateway's refunds and payouts under seeded faults, and checks every invariant after every
step. At the end it switches the faults off, lets every window pass, runs the sweeps
until nothing moves, and checks that nothing was left half-done. The first failure stops
the run and is reported with its seed and step; ``simulate(seed=S, steps=step)`` replays
the run up to it exactly.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from quanzi.core.errors import QuanziError
from quanzi.simulation import invariants
from quanzi.simulation.clock import SimClock
from quanzi.simulation.faults import GatewayFaults, seeded_draws
from quanzi.simulation.ops import OPS
from quanzi.simulation.world import World, world_build

# How far the clock moves before each step: mostly seconds, sometimes hours or a day.
ADVANCE = [(5, 90, 80), (120, 1200, 15), (3600, 6 * 3600, 4), (86_400, 2 * 86_400, 1)]

# Rounds of "advance a day, run every sweep" when the run settles down at the end.
SETTLE_ROUNDS = 6


@dataclass
class Failure:
    seed: int
    step: int  # 1-based; 0 while building the world, steps + 1 when settling down
    op: str
    problems: list[str]

    def __str__(self) -> str:
        lines = [f"simulation FAILED at seed {self.seed}, step {self.step} ({self.op}):"]
        lines += [f"  {problem}" for problem in self.problems]
        lines.append(f"replay: quanzi simulate --seed {self.seed} --steps {max(self.step, 1)}")
        return "\n".join(lines)


@dataclass
class Report:
    seed: int
    steps: int
    ops: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    checks: int = 0
    steps_done: int = 0
    failure: Failure | None = None
    trace: list[str] = field(default_factory=list)
    simulated_days: float = 0.0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def digest(self) -> str:
        """A fingerprint of what happened, step by step: equal for equal runs."""
        return hashlib.sha256("\n".join(self.trace).encode()).hexdigest()[:16]


def _advance(world: World) -> None:
    low, high, _ = world.rng.choices(ADVANCE, weights=[w for *_, w in ADVANCE])[0]
    world.clock.advance(world.rng.randint(low, high))


def _step(world: World, name: str) -> str:
    try:
        return OPS[name].run(world)
    except QuanziError as exc:
        return f"refused:{exc.code}"


def _settle_down(world: World, report: Report, gateway: GatewayFaults) -> None:
    """Faults off, every decision taken, every window passed, the sweeps run to rest."""
    from quanzi.core.jobs import discover, run_sweep
    from quanzi.distribution.models import Withdrawal, WithdrawalStatus
    from quanzi.distribution.withdrawals import withdrawal_approve
    from quanzi.orders.models import Refund, RefundStatus
    from quanzi.orders.refunds import refund_approve
    from quanzi.payments.services import notification_handle

    gateway.enabled = False
    for held in list(world.held):
        if not held.lost:  # lost ones stay lost: reconciliation must find them
            notification_handle(gateway="sandbox", headers=held.headers, body=held.body)
    world.held.clear()
    for refund_id in Refund.objects.filter(status=RefundStatus.REQUESTED).values_list(
        "id", flat=True
    ):
        refund_approve(refund_id=refund_id, operator=world.operator)
    for withdrawal_id in Withdrawal.objects.filter(status=WithdrawalStatus.REQUESTED).values_list(
        "id", flat=True
    ):
        withdrawal_approve(withdrawal_id=withdrawal_id, operator=world.operator)
    jobs = discover()
    for _ in range(SETTLE_ROUNDS):
        world.clock.advance(86_400)
        for name in sorted(jobs):
            run_sweep(jobs[name])


def simulate(*, seed: int, steps: int, settle: bool = True, progress=None) -> Report:
    """Run ``steps`` random operations from ``seed``; returns the report (never raises
    for a failure of the shop: it is in ``report.failure``)."""
    started = time.monotonic()
    report = Report(seed=seed, steps=steps)
    clock = SimClock()
    with clock.installed():
        with transaction.atomic():
            world = world_build(seed=seed, clock=clock)
        report.faults = world.faults
        gateway = GatewayFaults(world.rng, counter=world.faults)
        names = sorted(OPS)
        weights = [OPS[name].weight for name in names]
        with gateway.installed(), seeded_draws(world.rng):
            problems = invariants.check_all(world)
            report.checks += 1
            if problems:
                report.failure = Failure(seed, 0, "build", problems)
            for step in range(1, steps + 1):
                if report.failure:
                    break
                _advance(world)
                name = world.rng.choices(names, weights=weights)[0]
                report.ops[name] += 1
                try:
                    outcome = _step(world, name)
                except Exception:  # noqa: BLE001 - the shop broke: report it with the seed
                    report.failure = Failure(seed, step, name, [traceback.format_exc()])
                    break
                report.outcomes[f"{name} → {outcome}"] += 1
                report.trace.append(f"{step} {name} {outcome}")
                report.steps_done = step
                problems = invariants.check_all(world)
                report.checks += 1
                if problems:
                    report.failure = Failure(seed, step, name, problems)
                if progress is not None:
                    progress(step, name, outcome)
            if settle and report.failure is None:
                try:
                    _settle_down(world, report, gateway)
                    problems = invariants.settled_checks(world)
                except Exception:  # noqa: BLE001
                    problems = [traceback.format_exc()]
                report.checks += 1
                if problems:
                    report.failure = Failure(seed, steps + 1, "settle down", problems)
        report.simulated_days = clock.elapsed.total_seconds() / 86_400
    report.seconds = time.monotonic() - started
    return report


def report_format(report: Report, *, database: str = "") -> str:
    lines = [
        f"quanzi simulate: seed {report.seed}, {report.steps_done} of {report.steps} steps"
        + (f" on {database}" if database else "")
        + f", {report.simulated_days:.1f} simulated days, {report.seconds:.1f} s",
        "operations:",
    ]
    for name, count in sorted(report.ops.items()):
        lines.append(f"  {name:<20} {count}")
    lines.append("outcomes:")
    for name, count in sorted(report.outcomes.items()):
        lines.append(f"  {name:<50} {count}")
    lines.append("faults injected:")
    for name, count in sorted(report.faults.items()):
        lines.append(f"  {name:<32} {count}")
    lines.append(f"  total                            {sum(report.faults.values())}")
    lines.append(
        f"invariant checks: {report.checks} (after every step: "
        f"{len(invariants.CHECKS)} groups of invariants; at the end: nothing left behind)"
    )
    lines.append(f"trace digest: {report.digest}")
    lines.append("result: OK" if report.ok else str(report.failure))
    return "\n".join(lines)
