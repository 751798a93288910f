"""Dashboard forms. Money is typed in yuan and stored in fen; the domain services make
the business decisions and their refusals are shown beside the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from quanzi.catalog.models import Supplier
from quanzi.core.money import yuan
from quanzi.storefront.forms import YuanField


def fen_to_yuan(amount: int | None) -> str:
    if amount is None:
        return ""
    return yuan(amount)


class OperatorLoginForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=20)
    password = forms.CharField(label=_("Password"), max_length=128, widget=forms.PasswordInput)


class ProductForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    category = forms.CharField(
        label=_("Category"),
        max_length=60,
        required=False,
        help_text=_("Pick one or type a new name."),
        widget=forms.TextInput(attrs={"list": "category-list"}),
    )
    supplier_id = forms.TypedChoiceField(
        label=_("Supplier"), coerce=int, required=False, empty_value=None
    )
    images = forms.CharField(
        label=_("Image URLs"),
        required=False,
        help_text=_("One per line, served by this site (e.g. /static/demo/apple.jpg)."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    upload = forms.ImageField(label=_("Upload an image"), required=False)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)
    level1_rate_bp = forms.IntegerField(
        label=_("Level-1 commission (basis points)"),
        min_value=0,
        max_value=10_000,
        required=False,
        help_text=_("Empty = the global default. 1000 = 10%."),
    )
    level2_rate_bp = forms.IntegerField(
        label=_("Level-2 commission (basis points)"), min_value=0, max_value=10_000, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier_id"].choices = [("", _("Platform (no supplier)"))] + [
            (s.pk, s.name) for s in Supplier.objects.order_by("name")
        ]

    def clean_images(self):
        urls = [line.strip() for line in (self.cleaned_data.get("images") or "").splitlines()]
        urls = [u for u in urls if u]
        for url in urls:
            if not url.startswith("/") or url.startswith("//") or len(url) > 300:
                raise forms.ValidationError(
                    _("Use addresses on this site that start with “/” (no other hosts).")
                )
        return urls

    def commission(self) -> dict:
        return {
            key: self.cleaned_data[key]
            for key in ("level1_rate_bp", "level2_rate_bp")
            if self.cleaned_data.get(key) is not None
        }


class SkuForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The stock shown when the page was made (see catalog.services._stock_check).
    stock_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Variant"), max_length=80, required=False)
    price = YuanField(label=_("Price (¥)"), required=False)
    supply_price = YuanField(label=_("Supply price (¥)"), required=False)
    member_price = YuanField(label=_("Member price (¥)"), required=False)
    stock = forms.IntegerField(label=_("Stock"), min_value=0, max_value=10_000_000, required=False)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not data.get("id") and not data.get("name") and data.get("price") is None

    def clean(self):
        data = super().clean()
        if self.errors or (
            not data.get("id") and not data.get("name") and data.get("price") is None
        ):
            return data
        for field in ("name", "price", "supply_price", "stock"):
            if data.get(field) in (None, ""):
                self.add_error(field, _("This field is required."))
        return data

    def payload(self) -> dict:
        data = self.cleaned_data
        out = {
            "name": data["name"],
            "price": data["price"],
            "supply_price": data["supply_price"],
            "member_price": data.get("member_price") or None,
            "stock": data["stock"],
        }
        if data.get("id"):
            out["id"] = data["id"]
            out["is_active"] = bool(data.get("is_active"))
            if data.get("stock_seen") is not None:
                out["stock_expected"] = data["stock_seen"]
        return out


SkuFormSet = forms.formset_factory(SkuForm, extra=2, max_num=30)


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=40)
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=60)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


def sku_choices() -> list[tuple[int, str]]:
    from quanzi.catalog.models import SKU

    skus = (
        SKU.objects.select_related("product")
        .filter(is_active=True, product__is_active=True, product__is_virtual=False)
        .order_by("-product_id", "id")[:500]
    )
    return [(s.pk, f"#{s.pk} {s.product.title} / {s.name} — ¥{yuan(s.price)}") for s in skus]


class _SkuChoiceForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku_id"].choices = [("", "—")] + sku_choices()


WINDOW_HELP = _("Optional; empty = from now, without end.")


class GroupCampaignForm(_SkuChoiceForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    sku_id = forms.TypedChoiceField(label=_("Item"), coerce=int)
    group_price = YuanField(label=_("Group price (¥)"), min_value=Decimal("0.01"))
    leader_price = YuanField(
        label=_("Leader price (¥)"), required=False, help_text=_("Optional: what the leader pays.")
    )
    group_size = forms.IntegerField(label=_("Group size"), min_value=2, max_value=100, initial=2)
    group_ttl_hours = forms.IntegerField(
        label=_("A group stays open (hours)"), min_value=1, max_value=720, initial=24
    )
    per_user_limit = forms.IntegerField(
        label=_("Units per customer"), min_value=1, max_value=10_000, initial=5
    )
    stock = forms.IntegerField(
        label=_("Units allotted to the deal"), min_value=1, max_value=10_000_000, initial=100
    )
    simulated_fill_max_missing = forms.IntegerField(
        label=_("Simulated fill: complete groups missing at most"),
        min_value=0,
        max_value=99,
        initial=0,
        help_text=_("0 = never; the platform books the subsidy."),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        help_text=WINDOW_HELP,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    commission_enabled = forms.BooleanField(label=_("Pay distribution commission"), required=False)
    accepts_coupons = forms.BooleanField(label=_("Accept coupons"), required=False)
    accepts_points = forms.BooleanField(label=_("Accept points"), required=False)


class BargainCampaignForm(_SkuChoiceForm):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    sku_id = forms.TypedChoiceField(label=_("Item"), coerce=int)
    start_price = YuanField(label=_("Start price (¥)"), min_value=Decimal("0.01"))
    floor_price = YuanField(label=_("Lowest price (¥)"), help_text=_("May be 0 (free)."))
    helpers_min = forms.IntegerField(label=_("Helpers needed, at least"), min_value=1, initial=3)
    helpers_max = forms.IntegerField(label=_("Helpers needed, at most"), min_value=1, initial=8)
    ttl_hours = forms.IntegerField(
        label=_("A bargain stays open (hours)"), min_value=1, max_value=720, initial=24
    )
    per_user_limit = forms.IntegerField(
        label=_("Bargains per customer"), min_value=1, max_value=100, initial=1
    )
    helps_per_day = forms.IntegerField(
        label=_("Helps per helper per day"), min_value=1, max_value=100, initial=3
    )
    stock = forms.IntegerField(
        label=_("Units allotted"), min_value=1, max_value=10_000_000, initial=50
    )
    buy_mode = forms.ChoiceField(
        label=_("The owner may buy"),
        choices=[
            ("any_price", _("at any time, at the current price")),
            ("floor_only", _("only at the lowest price")),
        ],
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        required=False,
        help_text=WINDOW_HELP,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class CouponTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("amount_off", _("Amount off (满减 / no threshold)")),
            ("percent_off", _("Percent off (折扣)")),
        ],
    )
    amount = YuanField(label=_("Amount off (¥)"), required=False)
    percent = forms.DecimalField(
        label=_("Percent off (%)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("99.99"),
        decimal_places=2,
        help_text=_("15 means 15 percent off (八五折)."),
    )
    cap = YuanField(label=_("At most off (¥)"), required=False)
    threshold = YuanField(
        label=_("Minimum spend (¥)"), required=False, help_text=_("0 or empty = no threshold.")
    )
    scope = forms.ChoiceField(
        label=_("Applies to"),
        choices=[
            ("all", _("all products")),
            ("products", _("some products")),
            ("categories", _("some categories")),
        ],
    )
    scope_ids = forms.CharField(
        label=_("Product or category IDs"),
        required=False,
        help_text=_("Comma-separated, for a limited scope."),
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days after claiming)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Or leave empty and give an end date."),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    total = forms.IntegerField(
        label=_("How many to issue"), min_value=1, max_value=10_000_000, initial=1000
    )
    per_user_limit = forms.IntegerField(
        label=_("Per customer"), min_value=1, max_value=1000, initial=1
    )
    claimable = forms.BooleanField(
        label=_("Shown in the coupon centre"), required=False, initial=True
    )
    new_user_gift = forms.BooleanField(label=_("Given to new customers"), required=False)

    def clean_scope_ids(self):
        raw = (self.cleaned_data.get("scope_ids") or "").replace("，", ",")
        ids = []
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) < 1:
                raise forms.ValidationError(_("Use whole numbers separated by commas."))
            ids.append(int(part))
        return ids

    def payload(self) -> dict:
        data = self.cleaned_data
        out = {
            "name": data["name"],
            "kind": data["kind"],
            "threshold": data.get("threshold") or 0,
            "scope": data["scope"],
            "scope_ids": data["scope_ids"],
            "total": data["total"],
            "per_user_limit": data["per_user_limit"],
            "claimable": bool(data.get("claimable")),
            "new_user_gift": bool(data.get("new_user_gift")),
        }
        if data["kind"] == "amount_off":
            out["amount"] = data.get("amount")
        else:
            percent = data.get("percent")
            out["percent_bp"] = int(percent * 100) if percent is not None else None
            out["cap"] = data.get("cap")
        if data.get("valid_days"):
            out["valid_days"] = data["valid_days"]
        else:
            out["valid_until"] = data.get("valid_until")
        return out


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    price = YuanField(label=_("Price (¥)"), min_value=Decimal("0.01"))
    duration_days = forms.IntegerField(label=_("Days"), min_value=1, max_value=3660, initial=365)
    points_multiplier_bp = forms.IntegerField(
        label=_("Points multiplier (basis points)"),
        min_value=0,
        max_value=100_000,
        initial=10_000,
        help_text=_("10000 = ×1, 15000 = ×1.5."),
    )
    free_shipping = forms.BooleanField(label=_("Free shipping"), required=False, initial=True)
    monthly_coupon_template_id = forms.TypedChoiceField(
        label=_("Monthly coupon"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from quanzi.marketing.selectors import coupon_templates_all

        self.fields["monthly_coupon_template_id"].choices = [("", _("None"))] + [
            (t.pk, t.name)
            for t in coupon_templates_all().filter(is_active=True).order_by("-id")[:200]
        ]
