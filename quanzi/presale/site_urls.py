"""Pages of co-creation and pre-sales, found by ``quanzi/urls.py`` (it imports no feature app)."""

from django.urls import path

from quanzi.presale import web

urlpatterns = [
    path("presale/", web.ideas, name="presale_ideas"),
    path("presale/propose/", web.propose, name="presale_propose"),
    path("presale/ideas/<int:proposal_id>/vote/", web.vote, name="presale_vote"),
    path("presale/<int:presale_id>/", web.sale_page, name="presale_sale"),
    path("presale/<int:presale_id>/<str:phase>/", web.sale_order, name="presale_order"),
    path("dashboard/presale/", web.ops, name="presale_ops"),
    path("dashboard/presale/new/", web.ops_create, name="presale_ops_create"),
    path(
        "dashboard/presale/ideas/<int:proposal_id>/<str:decision>/",
        web.ops_decide,
        name="presale_ops_decide",
    ),
    path("dashboard/presale/<int:presale_id>/", web.ops_sale, name="presale_ops_sale"),
    path("dashboard/presale/<int:presale_id>/cancel/", web.ops_cancel, name="presale_ops_cancel"),
]
