"""Collaborative filtering with ``implicit`` (ALS on the user × product matrix of
weighted interactions). Training writes a new ``ModelVersion`` and swaps it in
atomically; serving keeps the active version's factors in memory and scores a user with
one matrix-vector product."""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone
from scipy import sparse

from quanzi.core.logging import get_logger
from quanzi.recommend.config import config
from quanzi.recommend.models import Event, ModelVersion

log = get_logger("quanzi.recommend")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@dataclass
class Factors:
    version: int
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray

    def __post_init__(self) -> None:
        self.user_index = {int(u): i for i, u in enumerate(self.user_ids)}

    def scores(self, user_id: int, n: int) -> dict[int, float]:
        row = self.user_index.get(user_id)
        if row is None or n <= 0:
            return {}
        raw = self.item_factors @ self.user_factors[row]
        n = min(n, len(raw))
        top = np.argpartition(-raw, n - 1)[:n]
        return {int(self.item_ids[i]): float(raw[i]) for i in top if raw[i] > 0}


def matrix(triples, *, user_ids=None, item_ids=None):
    """(user, item, weight) triples → CSR matrix plus the id arrays of its rows/columns."""
    users = np.asarray([t[0] for t in triples], dtype=np.int64)
    items = np.asarray([t[1] for t in triples], dtype=np.int64)
    weights = np.asarray([t[2] for t in triples], dtype=np.float32)
    user_ids = np.unique(users) if user_ids is None else user_ids
    item_ids = np.unique(items) if item_ids is None else item_ids
    rows = np.searchsorted(user_ids, users)
    cols = np.searchsorted(item_ids, items)
    m = sparse.csr_matrix(
        (weights, (rows, cols)), shape=(len(user_ids), len(item_ids)), dtype=np.float32
    )
    m.sum_duplicates()
    return m, user_ids, item_ids


def fit(user_items, *, factors=None, iterations=None, regularization=None, alpha=10.0, seed=7):
    """Fit ALS; returns (user_factors, item_factors) as numpy arrays. Without explicit
    knobs the settings (``config()``) give them."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):  # implicit's own threads do the work
        return _fit(user_items, factors, iterations, regularization, alpha, seed)


def _fit(user_items, factors, iterations, regularization, alpha, seed):
    from implicit.als import AlternatingLeastSquares

    if factors is None or iterations is None or regularization is None:
        cfg = config()
        factors = factors or cfg.factors
        iterations = iterations or cfg.iterations
        regularization = regularization if regularization is not None else cfg.regularization
    model = AlternatingLeastSquares(
        factors=factors,
        iterations=iterations,
        regularization=regularization,
        random_state=seed,
        num_threads=1,
        use_gpu=False,
    )
    # Confidence 1 + alpha·weight (Hu, Koren, Volinsky); log-scaled so a heavy buyer
    # does not drown everyone else.
    confidence = user_items.copy()
    confidence.data = 1.0 + alpha * np.log1p(confidence.data)
    model.fit(confidence, show_progress=False)
    return np.asarray(model.user_factors), np.asarray(model.item_factors)


def training_triples():
    since = timezone.now() - timedelta(days=config().event_days)
    return list(
        Event.objects.filter(created_at__gte=since).values_list("user_id", "product_id", "weight")
    )


def model_train() -> ModelVersion | None:
    """Train on the interaction log and make the result the active model."""
    started = time.perf_counter()
    triples = training_triples()
    if len(triples) < 2:
        log.info("recommend model not trained: too few interactions")
        return None
    user_items, user_ids, item_ids = matrix(triples)
    user_factors, item_factors = fit(user_items)
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        user_ids=user_ids,
        item_ids=item_ids,
        user_factors=user_factors.astype(np.float32),
        item_factors=item_factors.astype(np.float32),
    )
    seconds = time.perf_counter() - started
    with transaction.atomic():
        ModelVersion.objects.filter(is_active=True).select_for_update().update(is_active=False)
        version = ModelVersion.objects.create(
            algorithm="implicit-als",
            data=buf.getvalue(),
            users=len(user_ids),
            items=len(item_ids),
            interactions=user_items.nnz,
            seconds=seconds,
            is_active=True,
        )
        # Keep the previous few for rollback; older ones go.
        keep = ModelVersion.objects.order_by("-id").values_list("pk", flat=True)[:3]
        ModelVersion.objects.exclude(pk__in=list(keep)).delete()
    log.info(
        "recommend model trained",
        extra={"version": version.pk, "users": version.users, "items": version.items},
    )
    return version


_held: dict[str, object] = {"checked": 0.0, "factors": None}
CHECK_SECONDS = 30.0


def active_factors(*, fresh: bool = False) -> Factors | None:
    """The active model's factors; which one is active is re-read every 30 s."""
    now = time.monotonic()
    held = _held["factors"]
    if not fresh and now - float(_held["checked"]) < CHECK_SECONDS:
        return held  # type: ignore[return-value]
    active = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    _held["checked"] = now
    if active is None:
        _held["factors"] = None
        return None
    if isinstance(held, Factors) and held.version == active:
        return held
    row = ModelVersion.objects.filter(pk=active).values_list("data", flat=True).first()
    if row is None:
        return held  # type: ignore[return-value]
    with np.load(io.BytesIO(bytes(row))) as data:
        factors = Factors(
            version=active,
            user_ids=data["user_ids"],
            item_ids=data["item_ids"],
            user_factors=data["user_factors"],
            item_factors=data["item_factors"],
        )
    _held["factors"] = factors
    return factors


def forget() -> None:
    _held["checked"], _held["factors"] = 0.0, None
