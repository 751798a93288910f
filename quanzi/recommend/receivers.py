"""Interactions recorded from the apps people interact in, through Django's model signals:
those apps never import this one. A like, a favourite or an opened note counts for every
product the note tags; a share link counts for the product it shares; an add-to-cart
counts whether the storefront sent it (``catalog.extensions.product_carted``) or a
client reported it to analytics."""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_save

from quanzi.recommend.events import event_record
from quanzi.recommend.models import EventKind


def _note_products(note_id: int) -> list[int]:
    link = apps.get_model("content", "NoteProduct")
    return list(link.objects.filter(note_id=note_id).values_list("product_id", flat=True))


def _for_note(kind: str, *, created_only: bool):
    def receiver(sender, instance, created, raw=False, **kwargs):
        if raw or (created_only and not created) or not instance.user_id:
            return
        for product_id in _note_products(instance.note_id):
            event_record(user_id=instance.user_id, product_id=product_id, kind=kind)

    return receiver


def _share(sender, instance, created, raw=False, **kwargs):
    if raw or not created or instance.target != "product":
        return
    event_record(user_id=instance.sharer_id, product_id=instance.target_id, kind=EventKind.SHARE)


def _carted(sender, *, user_id, product_id, **kwargs):
    """The storefront's add-to-cart (``catalog.extensions.product_carted``)."""
    event_record(user_id=user_id, product_id=product_id, kind=EventKind.CART)


def _traffic(sender, instance, created, raw=False, **kwargs):
    """An add-to-cart a signed-in client (the mini-program) reported to analytics."""
    if raw or not created or instance.kind != "cart" or not instance.user_id:
        return
    if instance.product_id:
        event_record(user_id=instance.user_id, product_id=instance.product_id, kind=EventKind.CART)


# Kept at module level: signals hold their receivers weakly.
_RECEIVERS = {
    ("content", "Like"): _for_note(EventKind.LIKE, created_only=True),
    ("content", "Favourite"): _for_note(EventKind.FAVOURITE, created_only=True),
    ("content", "NoteTouch"): _for_note(EventKind.NOTE_OPEN, created_only=False),
    ("social", "ShareLink"): _share,
    ("analytics", "TrafficEvent"): _traffic,
}


def connect() -> None:
    from quanzi.catalog.extensions import product_carted

    product_carted.connect(_carted, dispatch_uid="recommend:product_carted")
    for (app_label, model), receiver in _RECEIVERS.items():
        if apps.is_installed(f"quanzi.{app_label}"):
            post_save.connect(
                receiver,
                sender=apps.get_model(app_label, model),
                dispatch_uid=f"recommend:{app_label}.{model}",
            )
