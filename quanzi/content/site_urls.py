"""Pages of content commerce, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path, re_path

from quanzi.content import dashboard_views as dash
from quanzi.content import views

urlpatterns = [
    path("notes/", views.feed_page, name="content_feed"),
    path("notes/new/", views.note_edit, name="content_note_new"),
    path("n/<int:note_id>", views.note_page, name="content_note"),
    path("n/<int:note_id>/edit", views.note_edit, name="content_note_edit"),
    path("n/<int:note_id>/delete", views.note_delete, name="content_note_delete"),
    path("n/<int:note_id>/like", views.note_like_toggle, name="content_note_like"),
    path("n/<int:note_id>/favourite", views.note_favourite_toggle, name="content_note_favourite"),
    path("n/<int:note_id>/comment", views.note_comment, name="content_note_comment"),
    path("n/<int:note_id>/go/<int:product_id>", views.note_go, name="content_note_go"),
    path("u/<int:user_id>", views.profile_page, name="content_profile"),
    path("u/<int:user_id>/follow", views.follow_toggle, name="content_follow"),
    path("me/creator/", views.creator_centre_page, name="content_creator_centre"),
    path("review/<int:order_id>/<int:line_id>/", views.review_page, name="content_review"),
    path("dashboard/content/", dash.queue, name="content_dash_queue"),
    re_path(
        r"^dashboard/content/(?P<target>note|comment|review)/(?P<target_id>[0-9]+)/(?P<action>hide|restore)/$",
        dash.moderate_action,
        name="content_dash_moderate",
    ),
    path("dashboard/content/creators/", dash.creators, name="content_dash_creators"),
    path(
        "dashboard/content/creators/<int:user_id>/<str:decision>/",
        dash.creator_decide,
        name="content_dash_creator_decide",
    ),
    path("dashboard/content/words/", dash.words, name="content_dash_words"),
    path(
        "dashboard/content/words/<int:word_id>/delete/",
        dash.word_delete,
        name="content_dash_word_delete",
    ),
]
