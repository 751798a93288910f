"""Reward campaigns that paid for sign-ups alone are closed (docs/distribution.md,
"Lawful by construction"): points and coupons are money at checkout, so recruitment
alone may earn nothing. They are closed rather than switched to first orders: people
were told "sign up and your friend earns", and quietly changing what earns is not for a
migration to decide. Rewards already granted stay; people counted but not yet behind a
grant earn nothing more. The operator may open a ``first_order`` campaign instead.
"""

from django.db import migrations, models


def close_register_campaigns(apps, schema_editor):
    Campaign = apps.get_model("rewards", "RewardCampaign")
    Campaign.objects.filter(trigger="register", is_active=True).update(is_active=False)


class Migration(migrations.Migration):

    dependencies = [
        ('rewards', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(close_register_campaigns, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='rewardcampaign',
            constraint=models.CheckConstraint(condition=models.Q(('is_active', False), models.Q(('trigger', 'register'), _negated=True), _connector='OR'), name='reward_not_for_sign_up_alone'),
        ),
    ]
