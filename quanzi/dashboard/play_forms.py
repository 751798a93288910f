"""Dashboard forms of the lottery and the share / invite reward campaigns."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from quanzi.dashboard.forms import sku_choices

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})
PRIZE_ROWS = 8

PRIZE_KINDS = [
    ("", "—"),
    ("points", _("Points")),
    ("coupon", _("Coupon")),
    ("product", _("Gift")),
    ("none", _("Thanks for playing")),
]


class LotteryForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    cost_points = forms.IntegerField(
        label=_("Points a draw"), min_value=0, max_value=100_000_000, initial=0
    )
    free_draws_per_day = forms.IntegerField(
        label=_("Free draws a day"), min_value=0, max_value=1000, initial=1
    )
    starts_at = forms.DateTimeField(label=_("Starts"), required=False, widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends"), required=False, widget=DATETIME)

    def __init__(self, *args, coupon_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        skus = [("", "—")] + sku_choices()
        coupons = [("", "—")] + list(coupon_choices)
        for i in range(1, PRIZE_ROWS + 1):
            self.fields[f"prize{i}_name"] = forms.CharField(
                label=_("Prize %(n)s") % {"n": i}, max_length=60, required=False
            )
            self.fields[f"prize{i}_kind"] = forms.ChoiceField(
                label=_("Kind"), choices=PRIZE_KINDS, required=False
            )
            self.fields[f"prize{i}_weight"] = forms.IntegerField(
                label=_("Weight"), min_value=0, max_value=1_000_000_000, required=False
            )
            self.fields[f"prize{i}_stock"] = forms.IntegerField(
                label=_("Stock"), min_value=0, max_value=10_000_000, required=False
            )
            self.fields[f"prize{i}_points"] = forms.IntegerField(
                label=_("Points"), min_value=1, max_value=100_000_000, required=False
            )
            self.fields[f"prize{i}_coupon"] = forms.TypedChoiceField(
                label=_("Coupon"), choices=coupons, coerce=int, empty_value=None, required=False
            )
            self.fields[f"prize{i}_sku"] = forms.TypedChoiceField(
                label=_("Item"), choices=skus, coerce=int, empty_value=None, required=False
            )

    def main_fields(self):
        return [self[name] for name in ("title", "cost_points", "free_draws_per_day")] + [
            self["starts_at"],
            self["ends_at"],
        ]

    def prize_rows(self):
        return [
            [
                self[f"prize{i}_{part}"]
                for part in ("name", "kind", "weight", "stock", "points", "coupon", "sku")
            ]
            for i in range(1, PRIZE_ROWS + 1)
        ]

    def prizes(self) -> list[dict]:
        data = self.cleaned_data
        prizes = []
        for i in range(1, PRIZE_ROWS + 1):
            name = (data.get(f"prize{i}_name") or "").strip()
            if not name:
                continue
            kind = data.get(f"prize{i}_kind") or "none"
            prize = {
                "name": name,
                "kind": kind,
                "weight": data.get(f"prize{i}_weight") or 0,
                "stock": data.get(f"prize{i}_stock"),
            }
            if kind == "points":
                prize["points"] = data.get(f"prize{i}_points")
            elif kind == "coupon":
                prize["coupon_template_id"] = data.get(f"prize{i}_coupon")
            elif kind == "product":
                prize["sku_id"] = data.get(f"prize{i}_sku")
            prizes.append(prize)
        return prizes


class RewardCampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("invite", _("Invite rewards")), ("share", _("Share rewards"))]
    )
    needed = forms.IntegerField(
        label=_("New friends needed for one reward"), min_value=1, max_value=1000, initial=1
    )
    reward_points = forms.IntegerField(
        label=_("Reward: points"), min_value=1, max_value=100_000_000, required=False
    )
    reward_coupon = forms.TypedChoiceField(
        label=_("Reward: coupon"), coerce=int, empty_value=None, required=False
    )
    max_per_user = forms.IntegerField(
        label=_("Most rewards per person (0 = no limit)"),
        min_value=0,
        max_value=100_000,
        initial=0,
    )
    starts_at = forms.DateTimeField(label=_("Starts"), required=False, widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("Ends"), required=False, widget=DATETIME)

    def __init__(self, *args, coupon_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward_coupon"].choices = [("", "—")] + list(coupon_choices)
        self.fields["needed"].help_text = _(
            "A friend counts once their first paid order is completed: a sign-up alone earns "
            "nothing."
        )

    def clean(self):
        data = super().clean()
        if not data.get("reward_points") and not data.get("reward_coupon"):
            self.add_error("reward_points", _("Give points, a coupon, or both."))
        return data
