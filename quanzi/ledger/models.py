"""Double-entry ledger: accounts, journal entries, postings (integer fen or points).

A posting's amount is positive for a debit and negative for a credit; the postings of
an entry sum to zero in each unit. Accounts are named by a code; user accounts carry a
cached balance that ``quanzi ledger check`` proves equal to their postings.
"""

from __future__ import annotations

from django.db import models

CNY = "CNY"
POINTS = "PTS"
UNITS = [(CNY, "CNY (fen)"), (POINTS, "points")]


class Account(models.Model):
    code = models.CharField(max_length=120, unique=True)
    unit = models.CharField(max_length=3, choices=UNITS, default=CNY)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Cached balance (debits minus credits). Kept for user accounts, where withdrawals
    # and spending lock the row; platform accounts derive theirs from postings.
    balance = models.BigIntegerField(default=0)
    cached = models.BooleanField(default=False)
    # For accounts that hold money owed to a user (credit balances): the user-facing
    # balance is ``-balance``; ``no_overdraw`` means it may never go below zero.
    no_overdraw = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class JournalEntry(models.Model):
    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=40, db_index=True)
    order_id = models.BigIntegerField(null=True, db_index=True)
    payment_id = models.BigIntegerField(null=True, db_index=True)
    refund_id = models.BigIntegerField(null=True, db_index=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "journal entries"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    unit = models.CharField(max_length=3, choices=UNITS, default=CNY)
    amount = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["account", "entry"])]
