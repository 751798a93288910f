"""Settings that would make distribution unlawful are refused with a clear code."""

from __future__ import annotations


def test_qualification_may_never_require_a_purchase(operator):
    answer = operator.api.put(
        "/admin/settings", {"distribution": {"qualification": "first_purchase"}}
    )
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "entry_fee_forbidden"
    assert "entry fee" in body["message"]
    assert body["detail"]["errors"][0]["loc"] == "distribution.qualification"


def test_ranks_have_no_head_count_rule_to_set(operator):
    answer = operator.api.put("/admin/settings", {"distribution": {"rank_upgrade": "all"}})
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_setting"
    assert "rank_upgrade" not in operator.api.get("/admin/settings").json()["distribution"]


def test_the_lawful_choices_still_save(operator):
    for qualification in ("everyone", "approval"):
        answer = operator.api.put(
            "/admin/settings", {"distribution": {"qualification": qualification}}
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["distribution"]["qualification"] == qualification


def test_the_dashboard_form_offers_no_purchase_qualification(operator):
    from quanzi.core.platform_settings import get_settings
    from quanzi.dashboard.settings_form import SettingsSectionForm

    form = SettingsSectionForm(section="distribution", current=get_settings())
    choices = [value for value, _ in form.fields["qualification"].choices]
    assert choices == ["everyone", "approval"]
    assert "rank_upgrade" not in form.fields
