"""Ranks have no head-count threshold any more (see 0002 for the data)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("distribution", "0004_lawful_distribution_data"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="distributorrank",
            name="min_team",
        ),
        migrations.AlterField(
            model_name="distributorrank",
            name="min_sales",
            field=models.BigIntegerField(
                default=0, help_text="settled sales brought as level 1, fen (0 = reached at once)"
            ),
        ),
    ]
