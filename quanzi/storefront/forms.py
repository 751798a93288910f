"""Storefront forms: each validates what a person types and shows errors by the field."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from quanzi.accounts.services import PHONE_RE

PHONE_ATTRS = {"inputmode": "numeric", "autocomplete": "tel", "maxlength": "11"}


class YuanField(forms.DecimalField):
    """A price typed in yuan (two decimals), cleaned to whole fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("step", "0.01")
        self.widget.attrs.setdefault("inputmode", "decimal")

    def clean(self, value):
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        return int((cleaned * 100).quantize(Decimal("1")))


def _phone(value: str) -> str:
    value = (value or "").strip()
    if not PHONE_RE.match(value):
        raise forms.ValidationError(_("Enter an 11-digit mainland mobile number."))
    return value


class LoginForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"), max_length=20, widget=forms.TextInput(PHONE_ATTRS)
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_phone(self):
        return _phone(self.cleaned_data["phone"])


class RegisterForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"), max_length=20, widget=forms.TextInput(PHONE_ATTRS)
    )
    password = forms.CharField(
        label=_("Password"),
        min_length=6,
        max_length=128,
        help_text=_("At least 6 characters."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    nickname = forms.CharField(label=_("Nickname"), max_length=40, required=False)
    invite_code = forms.CharField(
        label=_("Invite code"),
        max_length=12,
        required=False,
        help_text=_("Optional: the code of the friend who invited you."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters"}),
    )
    agree = forms.BooleanField(
        label=_("I have read and accept the user agreement and the privacy policy"),
        error_messages={
            "required": _("Read and accept the user agreement and the privacy policy first.")
        },
    )

    def clean_phone(self):
        return _phone(self.cleaned_data["phone"])

    def clean_invite_code(self):
        return (self.cleaned_data.get("invite_code") or "").strip().upper()


class AddressForm(forms.Form):
    name = forms.CharField(label=_("Recipient"), max_length=40)
    phone = forms.CharField(
        label=_("Phone number"), max_length=20, widget=forms.TextInput(PHONE_ATTRS)
    )
    # Cascading selects filled from the bundled region list (quanzi/storefront/regions.py).
    province = forms.CharField(
        label=_("Province"), max_length=40, widget=forms.Select(attrs={"data-region": "province"})
    )
    city = forms.CharField(
        label=_("City"), max_length=40, widget=forms.Select(attrs={"data-region": "city"})
    )
    district = forms.CharField(
        label=_("District"), max_length=40, widget=forms.Select(attrs={"data-region": "district"})
    )
    detail = forms.CharField(label=_("Street and number"), max_length=200)
    is_default = forms.BooleanField(label=_("Set as default address"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from quanzi.storefront.regions import regions

        tree = regions()
        value = {
            name: (self.data.get(name) if self.is_bound else self.initial.get(name)) or ""
            for name in ("province", "city", "district")
        }
        # What the page shows before (or without) the script: every province, and the
        # cities and districts of the one chosen.
        empty = [("", _("Please choose"))]
        cities = tree.get(value["province"], {})
        self.fields["province"].widget.choices = empty + [(p, p) for p in tree]
        self.fields["city"].widget.choices = empty + [(c, c) for c in cities]
        self.fields["district"].widget.choices = empty + [
            (d, d) for d in cities.get(value["city"], [])
        ]

    def clean_phone(self):
        return _phone(self.cleaned_data["phone"])

    def clean(self):
        from quanzi.storefront.regions import region_known

        data = super().clean()
        parts = [data.get(name) for name in ("province", "city", "district")]
        if all(parts) and not region_known(*parts):
            self.add_error("district", _("Choose the province, city and district from the lists."))
        return data


class BuyForm(forms.Form):
    """The product page: which SKU and how many."""

    sku_id = forms.IntegerField(min_value=1, error_messages={"required": _("Choose a variant.")})
    qty = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)


class CheckoutForm(forms.Form):
    address_id = forms.TypedChoiceField(
        label=_("Delivery address"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a delivery address.")},
    )
    coupon_id = forms.TypedChoiceField(
        label=_("Coupon"), coerce=int, required=False, empty_value=None
    )
    points = forms.IntegerField(
        label=_("Points to use"), min_value=0, max_value=100_000_000, required=False
    )
    note = forms.CharField(label=_("Note to the seller"), max_length=200, required=False)

    def __init__(self, *args, addresses=(), coupons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_id"].choices = [(a.pk, a.one_line()) for a in addresses]
        self.fields["coupon_id"].choices = [("", _("No coupon"))] + [
            (c["id"], c["label"]) for c in coupons
        ]


class RefundForm(forms.Form):
    REASONS = [
        ("", _("Choose a reason")),
        ("not_needed", _("No longer needed")),
        ("wrong_item", _("Wrong item or size")),
        ("quality", _("Quality problem")),
        ("not_received", _("Not received")),
        ("other", _("Other")),
    ]
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    detail = forms.CharField(
        label=pgettext_lazy("refund", "Details"),
        max_length=150,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_text(self) -> str:
        reason, detail = (
            self.cleaned_data["reason"],
            (self.cleaned_data.get("detail") or "").strip(),
        )
        return f"{reason}: {detail}"[:200] if detail else reason


class ProfileForm(forms.Form):
    nickname = forms.CharField(label=_("Nickname"), max_length=40)
