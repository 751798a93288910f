"""Payouts booked before payout funding existed took their money out of ``gateway:<gw>``
(customers' payments through the paying gateway). Rebook each one, appending entries
(nothing is edited): the operator's deposit into ``payout_funding:<gw>``, and the payout
moved from ``gateway:<gw>`` to ``payout_funding:<gw>``. Running it twice books once."""

from django.db import migrations
from django.db.models import Sum

FUNDING = "payout_funding:"
DEPOSITS = "payout_deposits"


def rebook_payouts(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    JournalEntry = apps.get_model("ledger", "JournalEntry")
    Posting = apps.get_model("ledger", "Posting")

    def account(code):
        return Account.objects.get_or_create(code=code, defaults={"unit": "CNY"})[0]

    def post(key, kind, memo, legs):
        if JournalEntry.objects.filter(key=key).exists():
            return
        entry = JournalEntry.objects.create(key=key, kind=kind, memo=memo[:200])
        Posting.objects.bulk_create(
            [Posting(entry=entry, account=account(code), unit="CNY", amount=a) for code, a in legs]
        )

    legacy = (
        Posting.objects.filter(entry__kind="withdrawal_paid", account__code__startswith="gateway:")
        .values_list("entry__key", "account__code")
        .annotate(total=Sum("amount"))
        .order_by("entry__key")
    )
    for key, code, total in legacy:
        net = -int(total or 0)
        if net <= 0:
            continue
        gateway = code.removeprefix("gateway:")
        prefix = key.removesuffix(":paid")  # "withdrawal:<id>"
        post(
            f"{prefix}:funding",
            "payout_funding",
            f"{prefix}: payout balance at {gateway} topped up by the operator (rebooked)",
            [(FUNDING + gateway, net), (DEPOSITS, -net)],
        )
        post(
            f"{prefix}:paid:rebook",
            "withdrawal_paid_rebook",
            f"{prefix}: paid from the payout balance, not customers' payments",
            [(code, net), (FUNDING + gateway, -net)],
        )


def unbook(apps, schema_editor):
    JournalEntry = apps.get_model("ledger", "JournalEntry")
    Posting = apps.get_model("ledger", "Posting")
    rebooked = list(
        JournalEntry.objects.filter(kind="withdrawal_paid_rebook").values_list("key", flat=True)
    )
    keys = rebooked + [key.replace(":paid:rebook", ":funding") for key in rebooked]
    Posting.objects.filter(entry__key__in=keys).delete()
    JournalEntry.objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0001_initial"),
        ("ledger", "0001_initial"),
    ]

    operations = [migrations.RunPython(rebook_payouts, unbook)]
