from django.urls import path

from quanzi.dashboard.views import base, campaigns, orders, play, products, settings

app_name = "dashboard"
urlpatterns = [
    path("", base.index, name="index"),
    path("login/", base.login_view, name="login"),
    path("logout/", base.logout_view, name="logout"),
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_edit, name="product_new"),
    path("products/<int:product_id>/", products.product_edit, name="product_edit"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/<int:order_id>/", orders.order_detail, name="order"),
    path("orders/<int:order_id>/ship/", orders.order_ship, name="order_ship"),
    path("refunds/", orders.refund_list, name="refunds"),
    path("refunds/<int:refund_id>/approve/", orders.refund_approve, name="refund_approve"),
    path("refunds/<int:refund_id>/reject/", orders.refund_reject, name="refund_reject"),
    path("groups/", campaigns.group_campaigns, name="groups"),
    path("groups/new/", campaigns.group_campaign_new, name="group_new"),
    path("groups/<int:campaign_id>/end/", campaigns.group_campaign_end, name="group_end"),
    path("groups/<int:campaign_id>/edit/", play.group_campaign_edit, name="group_edit"),
    path("lotteries/", play.lotteries, name="lotteries"),
    path("lotteries/new/", play.lottery_new, name="lottery_new"),
    path("lotteries/<int:lottery_id>/", play.lottery_results, name="lottery"),
    path("lotteries/<int:lottery_id>/close/", play.lottery_close, name="lottery_close"),
    path("rewards/", play.reward_campaigns, name="rewards"),
    path("rewards/new/", play.reward_campaign_new, name="reward_new"),
    path("rewards/<int:campaign_id>/close/", play.reward_campaign_close, name="reward_close"),
    path("bargains/", campaigns.bargain_campaigns, name="bargains"),
    path("bargains/new/", campaigns.bargain_campaign_new, name="bargain_new"),
    path(
        "bargains/<int:campaign_id>/close/", campaigns.bargain_campaign_close, name="bargain_close"
    ),
    path("coupons/", campaigns.coupons, name="coupons"),
    path("coupons/new/", campaigns.coupon_new, name="coupon_new"),
    path("coupons/<int:template_id>/toggle/", campaigns.coupon_toggle, name="coupon_toggle"),
    path("plans/", campaigns.plans, name="plans"),
    path("plans/new/", campaigns.plan_new, name="plan_new"),
    path("plans/<int:plan_id>/toggle/", campaigns.plan_toggle, name="plan_toggle"),
    path("withdrawals/", campaigns.withdrawals, name="withdrawals"),
    path(
        "withdrawals/<int:withdrawal_id>/approve/",
        campaigns.withdrawal_approve,
        name="withdrawal_approve",
    ),
    path(
        "withdrawals/<int:withdrawal_id>/reject/",
        campaigns.withdrawal_reject,
        name="withdrawal_reject",
    ),
    path("settings/", settings.settings_page, name="settings"),
    path("settings/<slug:section>/", settings.settings_page, name="settings_section"),
]
