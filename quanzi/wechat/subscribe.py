"""Subscribe messages (订阅消息): a push channel behind the in-app inbox.

Topics and where they come from:

* ``order_shipped`` — the order observer's ``on_shipped``;
* ``group_succeeded`` / ``group_failed`` — the group's inbox messages;
* ``bargain_done`` — the bargain's "lowest price reached" inbox message;
* ``commission_available`` — the order observer's settlement (the commissions of the
  settled orders that became available).

Each event becomes at most one ``SubscribeSend`` per user and template: its ``key``
(topic, event, user, template) is unique, so an event seen twice is sent once. A send
needs the user's consent to that template (one-time consents are used up, long-term
ones stay) and their openid in the mini-program; without either it is logged as
``skipped``. WeChat's answer is kept on the row. A send WeChat refused for a passing
reason (rate limit, system busy) or that never reached it is retried by the
``wechat.subscribe_retry`` sweep on the same row; one whose answer was lost (a read
timeout) is not retried, because WeChat may have delivered it.
"""

from __future__ import annotations

from datetime import timedelta

import requests
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from quanzi.core.logging import get_logger
from quanzi.core.money import yuan
from quanzi.core.platform_settings import get_settings
from quanzi.core.tasks import enqueue
from quanzi.notifications.retries import retry_due
from quanzi.notifications.services import push_allowed
from quanzi.wechat import client
from quanzi.wechat.config import mini_app
from quanzi.wechat.models import WECHAT_MINI, Identity, SubscribeConsent, SubscribeSend

log = get_logger("quanzi.wechat")

# Inbox kinds pushed as subscribe messages, and their topic.
KIND_TOPICS = {
    "group_succeeded": "group_succeeded",
    "group_failed": "group_failed",
    "bargain_floor_reached": "bargain_done",
}
# The object an inbox message is about: one event per object and topic.
EVENT_REFS = ("group_id", "bargain_id", "order_id")
MAX_ATTEMPTS = 5
RETRY_AFTER = (60, 300, 1800, 7200)  # seconds, after attempts 1, 2, 3, 4
# WeChat refusals worth another try later.
PASSING = {-1, 45009, 45011, 45047}
# The user withdrew (or never gave) their consent at WeChat.
NO_CONSENT = {43101}
VALUE_LIMIT = 20  # the shortest of WeChat's per-keyword limits (thing: 20 characters)


# -- consent ------------------------------------------------------------------------------


def consents_record(*, user, results: dict[str, str], long_term: bool = False) -> dict[str, int]:
    """Record ``wx.requestSubscribeMessage``'s answer (template id → "accept", "reject",
    "ban", "filter"): each accept allows one more message (or all, when long-term);
    anything else withdraws the consent. Returns what remains per template."""
    remaining: dict[str, int] = {}
    with transaction.atomic():
        for template_id, answer in sorted(results.items()):
            consent, _ = SubscribeConsent.objects.select_for_update().get_or_create(
                user=user, template_id=template_id[:64]
            )
            if answer == "accept":
                if long_term:
                    consent.long_term = True
                else:
                    consent.remaining += 1
            else:
                consent.long_term, consent.remaining = False, 0
            consent.save()
            remaining[template_id] = -1 if consent.long_term else consent.remaining
    return remaining


def _consume_consent(user_id: int, template_id: str) -> bool:
    if SubscribeConsent.objects.filter(
        user_id=user_id, template_id=template_id, long_term=True
    ).exists():
        return True
    return bool(
        SubscribeConsent.objects.filter(
            user_id=user_id, template_id=template_id, remaining__gt=0
        ).update(remaining=F("remaining") - 1)
    )


# -- events -------------------------------------------------------------------------------


def push_notification(note) -> None:
    """The inbox's push channel: schedule the subscribe message of a pushed kind."""
    topic = KIND_TOPICS.get(note.kind)
    if topic is None:
        return
    data = note.data or {}
    ref = next((f"{name}:{data[name]}" for name in EVENT_REFS if data.get(name)), "")
    enqueue(
        "quanzi.wechat.subscribe.event_push",
        topic=topic,
        user_id=note.user_id,
        ref=ref or f"notification:{note.pk}",
        values={
            "title": note.title,
            "body": note.body,
            "order_id": str(data.get("order_id", "")),
            "amount": "",
        },
        page=str(data.get("url", "")),
    )


def event_push(
    *, topic: str, user_id: int, ref: str, values: dict[str, str], page: str = ""
) -> SubscribeSend | None:
    """Make (once) and send the subscribe message of one event for one user."""
    template = get_settings().wechat.subscribe_templates.get(topic)
    if template is None or not template.template_id:
        return None
    key = f"{topic}:{ref}:{user_id}:{template.template_id}"[:160]
    call = {"topic": topic, "user_id": user_id, "ref": ref, "values": values, "page": page}
    if not push_allowed(user_id=user_id, topic=topic, key=key, call=call):
        return None  # the person's push preferences said no, or not now (logged there)
    values = {**values, "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
    payload = {
        "template_id": template.template_id,
        "page": template.page or page,
        "data": {
            keyword: {"value": (values.get(source) or "-")[:VALUE_LIMIT]}
            for keyword, source in template.fields.items()
        },
    }
    try:
        with transaction.atomic():
            send = SubscribeSend.objects.create(
                key=key,
                user_id=user_id,
                topic=topic,
                template_id=template.template_id,
                payload=payload,
                status=SubscribeSend.PENDING,
            )
    except IntegrityError:
        log.info("subscribe message already made", extra={"key": key})
        return SubscribeSend.objects.get(key=key)
    return send_attempt(send_id=send.pk, first=True)


def send_attempt(*, send_id: int, first: bool = False) -> SubscribeSend:
    """Send (or retry) one message; the row is locked, so two workers never both send."""
    with transaction.atomic():
        send = SubscribeSend.objects.select_for_update(skip_locked=True).filter(pk=send_id).first()
        if send is None or send.status not in (SubscribeSend.PENDING, SubscribeSend.FAILED):
            return send or SubscribeSend.objects.get(pk=send_id)
        if send.status == SubscribeSend.FAILED and send.next_try_at is None:
            return send  # failed for good
        app = mini_app()
        openid = (
            Identity.objects.filter(user_id=send.user_id, provider=WECHAT_MINI, app_id=app.app_id)
            .values_list("openid", flat=True)
            .first()
            if app is not None
            else None
        )
        if not openid:
            return _finish(send, SubscribeSend.SKIPPED, reason="no_mini_program_identity")
        if first and not _consume_consent(send.user_id, send.template_id):
            return _finish(send, SubscribeSend.SKIPPED, reason="no_consent")
        send.attempts += 1
        body = {"touser": openid, **send.payload}
        try:
            answer = client.call(app, "POST", "/cgi-bin/message/subscribe/send", json=body)
        except client.WechatError as exc:
            answer = {"errcode": exc.errcode, "errmsg": exc.errmsg}
            if exc.errcode in NO_CONSENT:
                return _finish(
                    send, SubscribeSend.SKIPPED, reason="consent_withdrawn", answer=answer
                )
            retry = exc.errcode in PASSING
            return _fail(send, f"wechat {exc.errcode}", answer=answer, retry=retry)
        except client.WechatUnavailable as exc:
            lost = isinstance(exc.__cause__, requests.ReadTimeout)
            reason = "no_answer" if lost else "unreachable"
            return _fail(send, reason, answer={"error": exc.message}, retry=not lost)
        return _finish(send, SubscribeSend.SENT, answer=answer)


def _finish(send: SubscribeSend, status: str, *, reason: str = "", answer=None) -> SubscribeSend:
    send.status = status
    send.reason = reason
    send.next_try_at = None
    if answer is not None:
        send.answer = answer
        send.errcode = int(answer.get("errcode", 0) or 0) if "errcode" in answer else None
    if status == SubscribeSend.SENT:
        send.sent_at = timezone.now()
    send.save()
    log.info(
        "subscribe message",
        extra={"send_id": send.pk, "user_id": send.user_id, "status": status, "reason": reason},
    )
    return send


def _fail(send: SubscribeSend, reason: str, *, answer: dict, retry: bool) -> SubscribeSend:
    send.status = SubscribeSend.FAILED
    send.reason = reason[:200]
    send.answer = answer
    send.errcode = answer.get("errcode")
    if retry and send.attempts < MAX_ATTEMPTS:
        delay = RETRY_AFTER[min(send.attempts, len(RETRY_AFTER)) - 1]
        send.next_try_at = timezone.now() + timedelta(seconds=delay)
    else:
        send.next_try_at = None
    send.save()
    log.warning(
        "subscribe message failed",
        extra={"send_id": send.pk, "reason": reason, "retry": send.next_try_at is not None},
    )
    return send


def subscribe_retry(*, now=None, batch: int = 200) -> int:
    """Send again the messages whose retry time came."""
    return retry_due(
        SubscribeSend,
        send_attempt,
        failed=SubscribeSend.FAILED,
        what="subscribe",
        now=now,
        batch=batch,
    )


# -- order events -------------------------------------------------------------------------


def order_shipped_push(*, order_id: int) -> SubscribeSend | None:
    from quanzi.orders.models import Order

    order = Order.objects.filter(pk=order_id).only("user_id", "carrier", "tracking_no").first()
    if order is None:
        return None
    return event_push(
        topic="order_shipped",
        user_id=order.user_id,
        ref=f"order_id:{order_id}",
        values={
            "title": f"{order.carrier} {order.tracking_no}".strip(),
            "body": order.tracking_no,
            "order_id": str(order_id),
            "amount": "",
        },
        page=f"/orders/{order_id}/",
    )


def commissions_available_push(*, order_ids: list[int]) -> int:
    """Tell each earner of the settled orders that their commission is available."""
    from django.db.models import Sum

    from quanzi.distribution.models import Commission

    rows = (
        Commission.objects.filter(order_id__in=order_ids, status="available")
        .values("order_id", "beneficiary_id")
        .annotate(total=Sum("settled_amount"))
    )
    sent = 0
    for row in rows:
        event_push(
            topic="commission_available",
            user_id=row["beneficiary_id"],
            ref=f"order_id:{row['order_id']}",
            values={
                "title": f"¥{yuan(row['total'] or 0)}",
                "body": f"¥{yuan(row['total'] or 0)}",
                "order_id": str(row["order_id"]),
                "amount": f"¥{yuan(row['total'] or 0)}",
            },
            page="/me/earnings/",
        )
        sent += 1
    return sent
