"""Daily facts and the traffic they are built from.

A ``DailyFact`` row is one day × channel × dimension (``all``, ``shop``, ``leader``,
``creator``) × the dimension's id (0 for ``all``). ``channel`` is ``all`` for the row
that counts every channel: distinct counts (visitors, buyers) cannot be summed over
channels, so that row is counted, not added up.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TrafficEvent(models.Model):
    """A product view or an add-to-cart, reported by the storefront or the mini-program."""

    VIEW, CART = "view", "cart"
    KINDS = [(VIEW, "view"), (CART, "cart")]

    kind = models.CharField(max_length=4, choices=KINDS)
    visitor = models.CharField(max_length=64, help_text='"u:<user id>" or "s:<session>"')
    user_id = models.BigIntegerField(null=True, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20, default="direct")
    shop_id = models.BigIntegerField(null=True, blank=True)
    leader_id = models.BigIntegerField(null=True, blank=True)
    creator_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"])]


class DailyFact(models.Model):
    day = models.DateField()
    channel = models.CharField(max_length=20)
    dim = models.CharField(max_length=10, default="all")
    dim_id = models.BigIntegerField(default=0)
    visitors = models.IntegerField(default=0)
    viewers = models.IntegerField(default=0)
    views = models.IntegerField(default=0)
    carters = models.IntegerField(default=0)
    carts = models.IntegerField(default=0)
    placers = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)
    paid_orders = models.IntegerField(default=0)
    gmv = models.BigIntegerField(default=0, help_text="fen paid that day")
    refund_amount = models.BigIntegerField(default=0, help_text="fen refunded that day")
    refund_orders = models.IntegerField(default=0)
    repeat_buyers_30 = models.IntegerField(default=0)
    repeat_buyers_90 = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "dim", "dim_id"], name="daily_fact_once"
            )
        ]
        indexes = [models.Index(fields=["dim", "dim_id", "day"])]


class FactDay(models.Model):
    """When a day's facts were last built; a day built after its end plus the grace
    period is closed and the job leaves it alone (the backfill command rebuilds any)."""

    day = models.DateField(unique=True)
    built_at = models.DateTimeField()
    closed = models.BooleanField(default=False)


class MechanicFact(models.Model):
    """One day × selling mechanic (``group``, ``bargain``), by the day each was started:
    how many started, succeeded (a group formed, a bargain bought or at its floor), failed
    (a group ran out of time, a bargain expired), the seconds groups took to fill and the
    helpers bargains had. The job rebuilds the last days until their outcomes are known."""

    day = models.DateField()
    mechanic = models.CharField(max_length=10)
    started = models.IntegerField(default=0)
    succeeded = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    fill_seconds = models.BigIntegerField(default=0, help_text="summed over succeeded groups")
    helpers = models.IntegerField(default=0, help_text="summed over bargains")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "mechanic"], name="mechanic_fact_once")
        ]


class SliceFact(models.Model):
    """One day × report × key × channel × dimension: the breakdowns built beside the
    daily facts (see ``slices.py``). ``report`` names what ``key`` is:

    * ``member`` (``member`` / ``other``), ``region`` (the delivery province), ``level``
      (the member level's id, ``0`` for none), ``buyer`` (``new`` / ``returning``):
      GMV, paid orders and buyers of the orders paid that day;
    * ``supplier`` (its id): units sold and GMV of its lines paid that day, units
      refunded that day, orders complained about that day, reviews written that day;
    * ``note`` (its id) and ``creator`` (the author's id): opens and openers that day,
      orders paid that day attributed to the note, their buyers and the lines' GMV;
    * ``share`` (``<target>:<id>``, the campaign shared): links made, sharers,
      recipients who first opened a link, registrations and paid orders through the
      links that day, and the deepest link made that day in the share tree.

    Only the measures of its report are set; the others stay 0.
    """

    day = models.DateField()
    report = models.CharField(max_length=10)
    key = models.CharField(max_length=64)
    channel = models.CharField(max_length=20, default="all")
    dim = models.CharField(max_length=10, default="all")
    dim_id = models.BigIntegerField(default=0)
    gmv = models.BigIntegerField(default=0)
    paid_orders = models.IntegerField(default=0)
    buyers = models.IntegerField(default=0)
    units = models.IntegerField(default=0)
    units_refunded = models.IntegerField(default=0)
    orders_complained = models.IntegerField(default=0)
    reviews = models.IntegerField(default=0)
    rating_total = models.IntegerField(default=0)
    opens = models.IntegerField(default=0)
    openers = models.IntegerField(default=0)
    links = models.IntegerField(default=0)
    sharers = models.IntegerField(default=0)
    recipients = models.IntegerField(default=0)
    registrations = models.IntegerField(default=0)
    depth = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "report", "key", "channel", "dim", "dim_id"],
                name="slice_fact_once",
            )
        ]
        indexes = [models.Index(fields=["report", "dim", "dim_id", "day"])]
