"""Verified-purchase reviews (买家秀).

* Only the buyer reviews, only a line of an order it received (``delivered``,
  ``picked_up`` or ``completed``) and not refunded in full, once per line
  (``409 already_reviewed``; the database's one-review-per-line constraint backs it).
  Anything else: ``404`` for someone else's order, ``409 not_reviewable`` before receipt.
* Rating 1–5, text (moderated like notes), up to 9 of the buyer's own photos.
* The product's rating (average and count) is kept on ``ProductRating`` and counts the
  visible reviews only: a held or hidden review leaves it, a restored one comes back.
* Review points (``content.review_points``) are credited once per line (the points key
  is the line), and clawed back if the order is later refunded in full (what the buyer
  spent meanwhile is owed, like other points).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from quanzi.accounts.models import User
from quanzi.core.errors import Conflict, Invalid, NotFound
from quanzi.core.logging import get_logger
from quanzi.core.moderation import text_require_publishable
from quanzi.core.pagination import paginate
from quanzi.core.platform_settings import get_settings

from .media import media_out, media_owned
from .models import ProductRating, Review, ReviewMedia, Visibility

log = get_logger("quanzi.content.reviews")

REVIEWABLE = ("delivered", "picked_up", "completed")
MAX_IMAGES = 9


def _rating_add(product_id: int, count: int, total: int) -> None:
    ProductRating.objects.bulk_create([ProductRating(product_id=product_id)], ignore_conflicts=True)
    ProductRating.objects.filter(product_id=product_id).update(
        count=F("count") + count, total=F("total") + total
    )


def review_create(
    *,
    user: User,
    order_id: int,
    line_id: int,
    rating: int,
    body: str = "",
    media_ids: list[int] | None = None,
) -> Review:
    from quanzi.orders.models import Order, OrderLine

    if not 1 <= rating <= 5:
        raise Invalid("validation_error", "rating is 1 to 5", {"field": "rating"})
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id, user=user).first()
        line = OrderLine.objects.filter(pk=line_id, order_id=order_id).first()
        if order is None or line is None:
            raise NotFound("not_found", "no such order line")
        if order.status not in REVIEWABLE or line.refunded_qty >= line.qty:
            raise Conflict(
                "not_reviewable",
                "review a line once you have received it",
                {"status": order.status},
            )
        if Review.objects.filter(line=line).exists():
            raise Conflict("already_reviewed", "this line has its review already")
        media = media_owned(owner=user, media_ids=media_ids or [], limit=MAX_IMAGES)
        verdict = text_require_publishable(body, kind="review", user_id=user.pk, field_name="body")
        visible = not verdict.held
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    line=line,
                    order=order,
                    product_id=line.product_id,
                    sku_id=line.sku_id,
                    author=user,
                    rating=rating,
                    body=body.strip(),
                    visibility=Visibility.VISIBLE if visible else Visibility.HELD,
                    moderation_reasons=list(verdict.reasons),
                    counted=visible,
                )
        except IntegrityError as exc:
            raise Conflict("already_reviewed", "this line has its review already") from exc
        ReviewMedia.objects.bulk_create(
            [ReviewMedia(review=review, media=m, position=i) for i, m in enumerate(media)]
        )
        if visible:
            _rating_add(line.product_id, 1, rating)
        points = get_settings().content.review_points
        if points > 0:
            try:
                from quanzi.marketing.points import points_credit
            except ImportError:  # pragma: no cover - points not installed
                points = 0
            else:
                points_credit(
                    user_id=user.pk, amount=points, reason="review", key=f"review:{line.pk}"
                )
                review.points_granted = points
                review.save(update_fields=["points_granted"])
    log.info(
        "review created", extra={"review_id": review.pk, "line_id": line.pk, "order_id": order.pk}
    )
    return review


def review_visibility_set(*, review: Review, visibility: str) -> None:
    """The operator hid or restored a review (the row is locked by the caller)."""
    review.visibility = visibility
    should_count = visibility == Visibility.VISIBLE
    if should_count != review.counted:
        sign = 1 if should_count else -1
        _rating_add(review.product_id, sign, sign * review.rating)
        review.counted = should_count
    review.save(update_fields=["visibility", "counted"])


def reviews_on_refund(*, order) -> None:
    """An order refunded in full takes back the review points of its lines."""
    lines = list(order.lines.all())
    if not lines or any(
        line.refunded_amount < line.paid or line.refunded_qty < line.qty for line in lines
    ):
        return
    reviews = list(Review.objects.filter(order=order, points_granted__gt=0))
    if not reviews:
        return
    from quanzi.marketing.points import points_clawback

    for review in reviews:
        points_clawback(
            user_id=review.author_id,
            amount=review.points_granted,
            reason="review_clawed_back",
            key=f"review:{review.line_id}:clawback",
        )


def rating_of(product_id: int) -> dict[str, Any]:
    row = ProductRating.objects.filter(product_id=product_id).first()
    return {"average": row.average if row else 0.0, "count": row.count if row else 0}


def review_out(review: Review) -> dict[str, Any]:
    return {
        "id": review.pk,
        "rating": review.rating,
        "body": review.body,
        "sku_name": review.sku.name,
        "author": {"id": review.author_id, "nickname": review.author.nickname},
        "images": [media_out(link.media) for link in review.media_links.all()],
        "verified_purchase": True,
        "created_at": review.created_at,
    }


def reviews_of_product(*, product_id: int, cursor: str | None, limit: int | None) -> dict[str, Any]:
    qs = (
        Review.objects.filter(product_id=product_id, visibility=Visibility.VISIBLE)
        .select_related("author", "sku")
        .prefetch_related("media_links__media")
    )
    page = paginate(qs, cursor=cursor, limit=limit, serialize=review_out)
    page["rating"] = rating_of(product_id)
    return page
