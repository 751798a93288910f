"""Scheduled work: training (the model is swapped atomically), precomputing the lists of
active people, pruning old events, and the opt-in pushes."""

from quanzi.core.jobs import sweep
from quanzi.recommend import als, events, push, serving


@sweep("recommend.train", every=6 * 3600)
def train() -> int:
    return 1 if als.model_train() is not None else 0


@sweep("recommend.precompute", every=900)
def precompute() -> int:
    return serving.precompute_all()


@sweep("recommend.prune_events", every=24 * 3600)
def prune_events() -> int:
    return events.events_prune()


@sweep("recommend.push", every=3600)
def push_recommendations() -> int:
    return push.recommendations_push_run()


@sweep("recommend.deferred_pushes", every=300)
def deferred_pushes() -> int:
    return push.deferred_deliver()
