from io import StringIO

from django.core.management import call_command

from quanzi.recommend import evaluation as ev


def test_metrics_count_a_hit_where_the_held_out_item_is_ranked():
    data = ev.generated(users=120, items=60, communities=3, per_user=12, seed=5)
    split = ev.split_temporal(data)
    results = ev.evaluate(split, data.friends, k=10)

    for model in ("popularity", "als", "friends", "blend"):
        row = results[model]
        assert 0 < row["hr@10"] <= 1
        assert row["recall@10"] <= row["hr@10"]
    # On a population built around communities of friends, friends beat popularity.
    assert results["friends"]["recall@10"] > results["popularity"]["recall@10"]


def test_the_command_prints_the_table_and_says_why_public_data_is_skipped(db):
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
