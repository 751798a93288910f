"""Stored distribution data made lawful (docs/distribution.md, "Lawful by construction").

Ranks depend on the distributor's own sales only: head-count thresholds are dropped.

* A rank that had both thresholds keeps its sales threshold alone.
* A rank that only head count could reach is deleted (with no threshold left it would
  be reached by everyone at once, multiplier included).
* A distributor holding a rank that had a head-count threshold keeps it only if its
  own sales reach the rank; otherwise it loses the rank, and the ranks sweep gives it
  back whatever its own sales reach.

The stored settings:

* ``qualification: first_purchase`` (buying to earn: an entry fee in disguise) becomes
  the default, ``everyone``;
* ``rank_upgrade`` (whether a rank needed its sales *or* team threshold) is dropped:
  ranks have only a sales threshold now.

(The column goes in the next migration: PostgreSQL does not alter a table whose rows
this transaction changed.)
"""

from django.db import migrations


def drop_head_count(apps, schema_editor):
    Rank = apps.get_model("distribution", "DistributorRank")
    Profile = apps.get_model("distribution", "DistributorProfile")
    for rank in Rank.objects.filter(min_team__gt=0).order_by("pk"):
        holders = Profile.objects.filter(rank_id=rank.pk)
        if rank.min_sales > 0:
            holders.filter(sales__lt=rank.min_sales).update(rank=None)
            rank.min_team = 0
            rank.save(update_fields=["min_team"])
        else:
            holders.update(rank=None)
            rank.delete()


def lawful_settings(apps, schema_editor):
    PlatformSettings = apps.get_model("core", "PlatformSettings")
    for row in PlatformSettings.objects.all():
        distribution = (row.data or {}).get("distribution")
        if not isinstance(distribution, dict):
            continue
        changed = distribution.pop("rank_upgrade", None) is not None
        if distribution.get("qualification") == "first_purchase":
            distribution["qualification"] = "everyone"
            changed = True
        if changed:
            row.save(update_fields=["data"])


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("distribution", "0003_withdrawal_payee"),
    ]

    operations = [
        migrations.RunPython(drop_head_count, migrations.RunPython.noop),
        migrations.RunPython(lawful_settings, migrations.RunPython.noop),
    ]
