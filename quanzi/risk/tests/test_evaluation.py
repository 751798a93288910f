"""The risk rules measured on a small seeded population (the CI run of the evaluation)."""

from __future__ import annotations

from quanzi.simulation.abuse import evaluate, evaluation_format


def test_the_evaluation_measures_each_rule_on_seeded_abuse(db):
    result = evaluate(seed=3, honest=30, farms=2)
    text = evaluation_format(result, seed=3)
    assert "related" in text and "burst" in text and "shared_device" in text
    # Farms sharing a device or an address, and self-dealing, are all caught.
    for kind in ("device_farm", "address_farm", "self_dealing"):
        assert result.caught_by_kind[kind] == result.abusive_by_kind[kind] > 0, kind
    # A burst is held only past the limit (30 an hour): the first 30 claims go through.
    assert result.caught_by_kind["claim_burst"] == 2 * (45 - 30)
    assert result.precision("shared_device") == 1.0 and result.precision("burst") == 1.0
    # Households (one address, two people) helping each other are honest, and held.
    assert 0 < result.honest_held <= 3
