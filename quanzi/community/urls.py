from django.urls import path

from quanzi.community.web import shop

app_name = "community"
urlpatterns = [
    path("", shop.home, name="home"),
    path("order/", shop.order, name="order"),
    path("points/", shop.points, name="points"),
    path("points/<int:point_id>/choose/", shop.point_choose, name="point_choose"),
    path("l/<str:share_code>", shop.leader_link, name="leader_link"),
    path("codes/", shop.my_codes, name="codes"),
    path("codes/<int:order_id>/qr.png", shop.code_qr, name="code_qr"),
    path("leader/", shop.leader_page, name="leader"),
    path("leader/points/<int:point_id>/arrival/", shop.leader_arrival, name="leader_arrival"),
    path("leader/points/<int:point_id>/pickup/", shop.leader_pickup, name="leader_pickup"),
]
