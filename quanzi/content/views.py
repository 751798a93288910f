"""Storefront pages of content commerce (种草): the two-column feed, a note, posting and
editing a note, profiles, the creator centre and writing a review. Server-rendered like
the rest of the storefront; every write goes through the services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from quanzi.catalog.models import Product
from quanzi.core.errors import NotFound, QuanziError
from quanzi.storefront.web import error_text as _shop_error_text

from . import centre, reviews, selectors, services
from .media import media_upload, media_url
from .models import Creator, CreatorStatus, Favourite, Like, Note, NoteStatus, Review

# What content's error codes mean to a person (others fall back to the shop's texts).
ERROR_TEXT = {
    "content_refused": gettext_lazy("This text cannot be published. Please change it."),
    "note_needs_image": gettext_lazy("Add at least one photo."),
    "unsupported_media_type": gettext_lazy("Only JPEG, PNG and WebP photos can be uploaded."),
    "file_too_large": gettext_lazy("This photo is too large."),
    "image_too_large": gettext_lazy("This photo has too many pixels."),
    "invalid_image": gettext_lazy("This photo cannot be read."),
    "too_many_images": gettext_lazy("At most 9 photos."),
    "follow_self": gettext_lazy("You cannot follow yourself."),
    "not_reviewable": gettext_lazy("You can review an item once you have received it."),
    "already_reviewed": gettext_lazy("You have reviewed this item."),
    "already_applied": gettext_lazy("You have applied already."),
}


def error_text(exc: QuanziError) -> str:
    text = ERROR_TEXT.get(exc.code)
    return str(text) if text is not None else _shop_error_text(exc)


def _user(request):
    return request.user if request.user.is_authenticated else None


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_GET
def feed_page(request):
    kind = request.GET.get("kind") or "discover"
    if kind not in ("discover", "following"):
        kind = "discover"
    user = _user(request)
    try:
        page = selectors.feed(
            user=user, kind=kind, sort="hot", cursor=request.GET.get("cursor"), limit=20
        )
    except QuanziError as exc:
        raise Http404(exc.message) from exc
    more = f"/notes/?kind={kind}&cursor={page['next_cursor']}" if page["next_cursor"] else None
    context = {"cards": page["items"], "more_url": more, "kind": kind}
    if _is_htmx(request):
        return render(request, "content/_note_cards.html", context)
    return render(request, "content/feed.html", context)


def _note_or_404(request, note_id: int):
    user = _user(request)
    try:
        services.note_view(note_id=note_id, viewer=user)
        return selectors.note_detail(note_id=note_id, user=user)
    except NotFound as exc:
        raise Http404("no such note") from exc


@require_GET
def note_page(request, note_id: int):
    note = _note_or_404(request, note_id)
    comments = selectors.comments_of(note_id=note_id, user=_user(request), cursor=None, limit=50)
    return render(
        request,
        "content/note.html",
        {"note": note, "comments": comments["items"], "share_path": f"/n/{note_id}"},
    )


@require_GET
def note_go(request, note_id: int, product_id: int):
    """A tap on a product card of a note: count the click, open the product."""
    try:
        services.note_click(note_id=note_id, product_id=product_id, user=_user(request))
    except NotFound as exc:
        raise Http404("no such note") from exc
    return redirect(f"/p/{product_id}")


def _back_to_note(request, note_id: int):
    return redirect(f"/n/{note_id}")


@login_required
@require_POST
def note_like_toggle(request, note_id: int):
    try:
        if Like.objects.filter(user=request.user, note_id=note_id).exists():
            services.note_unlike(user=request.user, note_id=note_id)
        else:
            services.note_like(user=request.user, note_id=note_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return _back_to_note(request, note_id)


@login_required
@require_POST
def note_favourite_toggle(request, note_id: int):
    try:
        if Favourite.objects.filter(user=request.user, note_id=note_id).exists():
            services.note_unfavourite(user=request.user, note_id=note_id)
        else:
            services.note_favourite(user=request.user, note_id=note_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return _back_to_note(request, note_id)


@login_required
@require_POST
def note_comment(request, note_id: int):
    reply_to = request.POST.get("reply_to") or None
    try:
        comment = services.comment_create(
            author=request.user,
            note_id=note_id,
            body=(request.POST.get("body") or "")[:500],
            reply_to=int(reply_to) if reply_to and reply_to.isdigit() else None,
        )
        if comment.visibility != "visible":
            messages.info(request, _("Your comment will appear once it has been reviewed."))
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    return _back_to_note(request, note_id)


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _topics(text: str) -> list[str]:
    return [t for t in text.replace("，", " ").replace(",", " ").replace("#", " ").split() if t]


def _media_choices(note) -> list[dict]:
    return [
        {"id": link.media_id, "thumb_url": media_url(link.media.thumb_path)}
        for link in note.media_links.select_related("media")
    ]


def _note_form_context(request, note=None, data=None):
    products = list(
        Product.objects.filter(is_active=True, is_virtual=False).order_by("-sales", "id")[:60]
    )
    chosen = set(_ids((data or {}).get("product_ids", [])))
    return {
        "note": note,
        "products": products,
        "chosen": chosen,
        "data": data or {},
    }


@login_required
def note_edit(request, note_id: int | None = None):
    """Post a note (``/notes/new/``) or edit one's own (``/n/<id>/edit``)."""
    note = None
    if note_id is not None:
        note = (
            Note.objects.filter(pk=note_id, author=request.user)
            .exclude(status=NoteStatus.DELETED)
            .first()
        )
        if note is None:
            raise Http404("no such note")
    if request.method != "POST":
        if note is not None:
            data = {
                "title": note.title,
                "body": note.body,
                "topics": " ".join(note.topics),
                "product_ids": [link.product_id for link in note.product_links.all()],
                "media": _media_choices(note),
            }
        else:
            data = {"product_ids": _ids(request.GET.getlist("product"))}
        return render(request, "content/note_form.html", _note_form_context(request, note, data))
    post = request.POST
    data = {
        "title": (post.get("title") or "").strip()[:60],
        "body": (post.get("body") or "").strip()[:2000],
        "topics": post.get("topics") or "",
        "product_ids": _ids(post.getlist("product_ids")),
    }
    publish = post.get("action") != "draft"
    try:
        media_ids = _ids(post.getlist("keep_media"))
        for upload in request.FILES.getlist("images")[:9]:
            media_ids.append(media_upload(owner=request.user, upload=upload).pk)
        fields = {
            "title": data["title"],
            "body": data["body"],
            "topics": _topics(data["topics"]),
            "media_ids": media_ids,
            "product_ids": data["product_ids"],
        }
        if note is None:
            saved = services.note_create(author=request.user, publish=publish, **fields)
        else:
            saved = services.note_update(
                author=request.user, note_id=note.pk, publish=publish or None, **fields
            )
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        if note is not None:
            data["media"] = _media_choices(note)
        return render(
            request, "content/note_form.html", _note_form_context(request, note, data), status=422
        )
    if saved.visibility == "held":
        messages.info(request, _("Your note will be shown once it has been reviewed."))
    elif saved.status == NoteStatus.DRAFT:
        messages.success(request, _("Draft saved."))
    else:
        messages.success(request, _("Published."))
    return redirect(f"/n/{saved.pk}")


@login_required
@require_POST
def note_delete(request, note_id: int):
    try:
        services.note_delete(author=request.user, note_id=note_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
        return _back_to_note(request, note_id)
    messages.success(request, _("Note deleted."))
    return redirect(f"/u/{request.user.pk}")


@require_GET
def profile_page(request, user_id: int):
    viewer = _user(request)
    try:
        profile = selectors.profile_of(user_id=user_id, viewer=viewer)
    except NotFound as exc:
        raise Http404("no such person") from exc
    tab = request.GET.get("tab") or "notes"
    context = {"profile": profile, "tab": tab, "is_me": viewer is not None and viewer.pk == user_id}
    if tab in ("followers", "following"):
        context["people"] = selectors.follow_list(
            user_id=user_id, direction=tab, cursor=None, limit=100
        )["items"]
    else:
        context["cards"] = selectors.notes_of(
            author_id=user_id, viewer=viewer, cursor=None, limit=40
        )["items"]
    return render(request, "content/profile.html", context)


@login_required
@require_POST
def follow_toggle(request, user_id: int):
    from .models import Follow

    try:
        if Follow.objects.filter(follower=request.user, followee_id=user_id).exists():
            services.unfollow(follower=request.user, followee_id=user_id)
        else:
            services.follow(follower=request.user, followee_id=user_id)
    except QuanziError as exc:
        messages.error(request, error_text(exc))
    next_url = request.POST.get("next") or f"/u/{user_id}"
    return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/")


@login_required
def creator_centre_page(request):
    creator = Creator.objects.filter(user=request.user).first()
    if request.method == "POST":
        try:
            creator = services.creator_apply(
                user=request.user, intro=request.POST.get("intro") or ""
            )
            messages.success(request, _("Application sent. The operator will review it."))
        except QuanziError as exc:
            messages.error(request, error_text(exc))
        return redirect("/me/creator/")
    stats = centre.creator_centre(user=request.user, days=30)
    return render(
        request,
        "content/creator_centre.html",
        {
            "creator": creator,
            "approved": creator is not None and creator.status == CreatorStatus.APPROVED,
            "stats": stats,
        },
    )


@login_required
def review_page(request, order_id: int, line_id: int):
    from quanzi.orders.models import OrderLine

    line = OrderLine.objects.filter(pk=line_id, order_id=order_id, order__user=request.user).first()
    if line is None:
        raise Http404("no such order line")
    existing = Review.objects.filter(line=line).first()
    if request.method == "POST" and existing is None:
        try:
            media_ids = [
                media_upload(owner=request.user, upload=f).pk
                for f in request.FILES.getlist("images")[:9]
            ]
            rating = int(request.POST.get("rating") or 0)
            reviews.review_create(
                user=request.user,
                order_id=order_id,
                line_id=line_id,
                rating=rating,
                body=(request.POST.get("body") or "")[:1000],
                media_ids=media_ids,
            )
        except (QuanziError, ValueError) as exc:
            messages.error(
                request,
                error_text(exc) if isinstance(exc, QuanziError) else _("Choose 1 to 5 stars."),
            )
            return render(request, "content/review_form.html", {"line": line}, status=422)
        messages.success(request, _("Thank you for your review."))
        return redirect(f"/p/{line.product_id}")
    return render(request, "content/review_form.html", {"line": line, "existing": existing})


def product_section(request, product, user) -> str:
    """The product page's reviews (with photos) and notes."""
    page = reviews.reviews_of_product(product_id=product.pk, cursor=None, limit=5)
    for review in page["items"]:
        review["stars"] = "★" * review["rating"] + "☆" * (5 - review["rating"])
    notes = selectors.note_cards(
        selectors.notes_for_product(product_id=product.pk, limit=4), user=user
    )
    reviewable = []
    if user is not None:
        from quanzi.orders.models import OrderLine

        reviewed = Review.objects.filter(author=user, product=product).values("line_id")
        reviewable = list(
            OrderLine.objects.filter(
                order__user=user,
                product=product,
                order__status__in=reviews.REVIEWABLE,
            )
            .exclude(pk__in=reviewed)
            .order_by("-id")[:1]
        )
    return render_to_string(
        "content/_product_section.html",
        {
            "reviews": page["items"],
            "rating": page["rating"],
            "notes": notes,
            "product": product,
            "reviewable": reviewable[0] if reviewable else None,
        },
        request=request,
    )
