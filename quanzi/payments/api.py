from __future__ import annotations

from typing import Any, Literal

from django.http import HttpResponse
from ninja import Router, Status
from pydantic import Field

from quanzi.core.errors import Invalid
from quanzi.core.idempotency import run_idempotent
from quanzi.core.logging import get_logger
from quanzi.core.schemas import ErrorOut, Schema
from quanzi.payments import services
from quanzi.payments.gateways import get_gateway
from quanzi.payments.gateways.base import InvalidNotification
from quanzi.payments.selectors import payment_out

router = Router(tags=["payments"])
log = get_logger("quanzi.payments")


class PayIn(Schema):
    gateway: Literal["sandbox", "wechatpay", "alipay"] = "sandbox"
    client: Literal["wechat_mini", "wechat_mp"] | None = Field(
        default=None,
        description="the WeChat app the cashier opens in: WeChat Pay then charges the"
        " shopper's openid in that app (JSAPI); omitted for a browser (H5 / QR code)",
    )


class PayOut(Schema):
    payment_id: int
    gateway: str
    amount: int
    params: dict[str, Any]


class NotificationOut(Schema):
    headers: dict[str, str]
    body: str


class CompleteOut(Schema):
    notification: NotificationOut


@router.post(
    "/orders/{order_id}/pay",
    response={200: PayOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 502: ErrorOut},
    description="502 `gateway_error`: the payment provider could not be reached or refused.",
)
def order_pay(request, order_id: int, payload: PayIn):
    if not get_gateway(payload.gateway).starts_offline:
        # The provider is asked before the Idempotency-Key's transaction opens, so no
        # row stays locked during the call; ``work`` then finds the payment started.
        services.payment_prepare(
            order_id=order_id,
            user=request.auth,
            gateway=payload.gateway,
            client=payload.client or "",
        )

    def work():
        payment = services.payment_create(
            order_id=order_id,
            user=request.auth,
            gateway=payload.gateway,
            client=payload.client or "",
        )
        return Status(200, payment_out(payment))

    return run_idempotent(
        request, route=f"POST /orders/{order_id}/pay", body=payload.dict(), work=work
    )


@router.post(
    "/payments/sandbox/{payment_id}/complete",
    response={200: CompleteOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def sandbox_complete(request, payment_id: int):
    notification = services.sandbox_complete(payment_id=payment_id, user=request.auth)
    return {"notification": notification}


@router.post(
    "/payments/notify/{gateway}",
    auth=None,
    response={200: None, 400: ErrorOut, 404: ErrorOut},
    description="The gateway's asynchronous notification. 200 carries the gateway's own"
    " acknowledgement (its format, not JSON for every gateway); 400 `invalid_notification`:"
    " the signature or the body does not verify.",
)
def notify(request, gateway: str):
    gw = get_gateway(gateway)
    headers = {key: value for key, value in request.headers.items()}
    try:
        services.notification_handle(gateway=gateway, headers=headers, body=request.body)
    except InvalidNotification as exc:
        log.warning("notification refused", extra={"gateway": gateway, "reason": str(exc)})
        raise Invalid("invalid_notification", str(exc), status=400) from exc
    status, content_type, body = gw.ack(True)
    return HttpResponse(body, status=status, content_type=content_type)
