"""The SMS push channel, behind the in-app inbox like WeChat's subscribe messages.

What is texted, and its preference topic:

* inbox messages of groups (``group_succeeded``, ``group_failed``), bargains
  (``bargain_floor_reached``), pickups (``community_arrived``,
  ``community_pickup_reminder``: orders) and the recommendation app's pushes
  (``push_<topic>``, already decided by that app);
* a shipped order (the order observer's ``on_shipped``: orders) and the commissions a
  settlement made available (``on_settled_many``: commissions).

A text goes only to the account's phone number (a mainland mobile number, the login
identity; a WeChat account with no number bound gets none), only when the provider and a
template for the topic are configured, and only when a push gate (the person's
preferences: SMS turned on for the topic, quiet hours, daily cap) allows it. Without any
gate nothing is texted: SMS is opt-in and nobody could have opted in.

Each event becomes at most one ``SmsSend`` per person (``key`` unique), written before
the provider is called and locked while it is. A throttled or unreachable send is retried
by the ``sms.retry`` sweep on the same row (at most ``MAX_ATTEMPTS`` tries); one the
provider refused, or whose answer was lost, is not.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from quanzi.accounts.models import User
from quanzi.accounts.services import PHONE_RE
from quanzi.core.logging import get_logger
from quanzi.core.money import yuan
from quanzi.core.tasks import enqueue
from quanzi.notifications import services as inbox
from quanzi.notifications.retries import retry_due
from quanzi.sms import config
from quanzi.sms.models import SmsSend
from quanzi.sms.providers import SmsRejected, SmsThrottled, SmsUnreachable

log = get_logger("quanzi.sms")

TASK = "quanzi.sms.channel.sms_event"
KIND_TOPICS = {
    "group_succeeded": "groups",
    "group_failed": "groups",
    "bargain_floor_reached": "bargains",
    "community_arrived": "orders",
    "community_pickup_reminder": "orders",
    **{f"push_{topic}": topic for topic in config.TOPICS},
}
# The object an inbox message is about: one text per event (kind + object) and person.
EVENT_REFS = ("group_id", "bargain_id", "order_id")
MAX_ATTEMPTS = 5
RETRY_AFTER = (60, 300, 1800, 7200)  # seconds, after attempts 1, 2, 3, 4
PARAM_LIMIT = 20  # characters per template variable


def verified_phone(user_id: int) -> str:
    phone = User.objects.filter(pk=user_id, is_active=True).values_list("phone", flat=True)
    number = phone[0] if phone else ""
    return number if PHONE_RE.match(number or "") else ""


def push_notification(note) -> None:
    """The inbox's push channel: schedule the text of a pushed kind (after commit)."""
    topic = KIND_TOPICS.get(note.kind)
    if topic is None or config.template_for(topic) is None:
        return
    data = note.data or {}
    if data.get("push_key"):
        ref = f"push:{data['push_key']}"  # decided once by the recommendation app
    else:
        obj = next((f"{name}:{data[name]}" for name in EVENT_REFS if data.get(name)), "")
        ref = f"{note.kind}:{obj}" if obj else f"notification:{note.pk}"
    enqueue(TASK, topic=topic, user_id=note.user_id, ref=ref, title=note.title, body=note.body)


def sms_event(
    *, topic: str, user_id: int, ref: str, title: str, body: str = "", channel: str = "sms"
) -> SmsSend | None:
    """Make (once) and send the text of one event for one person."""
    template = config.template_for(topic)
    provider = config.provider()
    if template is None or provider is None:
        return None
    key = f"{topic}:{ref}:{user_id}"[:160]
    existing = SmsSend.objects.filter(key=key).first()
    if existing is not None:
        return existing  # a retried task or the same event again: never a second text
    if not inbox.push_gates:
        return None
    phone = verified_phone(user_id)
    if not phone:
        return None
    call = {
        "task": TASK,
        "channel": "sms",
        "topic": topic,
        "user_id": user_id,
        "ref": ref,
        "title": title,
        "body": body,
    }
    if not inbox.push_allowed(user_id=user_id, topic=topic, key=key, call=call):
        return None  # not opted in, quiet hours, cap (decided and logged by the gate)
    values = {"title": title, "body": body}
    params = [(values.get(name) or "-")[:PARAM_LIMIT] for name in template.fields]
    try:
        with transaction.atomic():
            send = SmsSend.objects.create(
                key=key,
                user_id=user_id,
                topic=topic,
                phone=phone,
                provider=provider.name,
                template_code=template.code,
                params=params,
                status=SmsSend.PENDING,
            )
    except IntegrityError:
        log.info("sms already made", extra={"key": key})
        return SmsSend.objects.get(key=key)
    return send_attempt(send_id=send.pk)


def send_attempt(*, send_id: int) -> SmsSend:
    """Send (or retry) one text; the row is locked, so two workers never both send."""
    with transaction.atomic():
        send = SmsSend.objects.select_for_update(skip_locked=True).filter(pk=send_id).first()
        if send is None or send.status not in (SmsSend.PENDING, SmsSend.FAILED):
            return send or SmsSend.objects.get(pk=send_id)
        if send.status == SmsSend.FAILED and send.next_try_at is None:
            return send  # failed for good
        provider = config.provider()
        if provider is None:
            return _fail(send, "provider_off", code="", retry=False)
        send.attempts += 1
        try:
            message_id = provider.send(
                phone=send.phone, template_code=send.template_code, params=list(send.params)
            )
        except SmsRejected as exc:
            return _fail(send, "rejected", code=exc.code, retry=False)
        except SmsThrottled as exc:
            return _fail(send, "throttled", code=exc.code, retry=True)
        except SmsUnreachable as exc:
            if exc.lost:
                return _fail(send, "no_answer", code=exc.code, retry=False)
            return _fail(send, "unreachable", code=exc.code, retry=True)
        send.status, send.reason, send.next_try_at = SmsSend.SENT, "", None
        send.message_id = str(message_id)[:80]
        send.sent_at = timezone.now()
        send.save()
    log.info(
        "sms sent",
        extra={"send_id": send.pk, "user_id": send.user_id, "topic": send.topic, "id": message_id},
    )
    return send


def _fail(send: SmsSend, reason: str, *, code: str, retry: bool) -> SmsSend:
    send.status = SmsSend.FAILED
    send.reason = reason
    send.error_code = code[:80]
    if retry and send.attempts < MAX_ATTEMPTS:
        delay = RETRY_AFTER[min(send.attempts, len(RETRY_AFTER)) - 1]
        send.next_try_at = timezone.now() + timedelta(seconds=delay)
    else:
        send.next_try_at = None
    send.save()
    log.warning(
        "sms failed",
        extra={
            "send_id": send.pk,
            "user_id": send.user_id,
            "reason": reason,
            "code": code,
            "attempts": send.attempts,
            "retry": send.next_try_at is not None,
        },
    )
    return send


def sms_retry(*, now=None, batch: int = 200) -> int:
    """Send again the messages whose retry time came."""
    return retry_due(SmsSend, send_attempt, failed=SmsSend.FAILED, what="sms", now=now, batch=batch)


# -- order events -------------------------------------------------------------------------


def order_shipped_sms(*, order_id: int) -> SmsSend | None:
    from quanzi.orders.models import Order

    order = Order.objects.filter(pk=order_id).only("user_id", "carrier", "tracking_no").first()
    if order is None:
        return None
    return sms_event(
        topic="orders",
        user_id=order.user_id,
        ref=f"order_shipped:order_id:{order_id}",
        title=f"{order.carrier} {order.tracking_no}".strip(),
        body=order.tracking_no,
    )


def commissions_available_sms(*, order_ids: list[int]) -> int:
    """Text each earner of the settled orders that their commission is available."""
    from django.db.models import Sum

    from quanzi.distribution.models import Commission

    rows = (
        Commission.objects.filter(order_id__in=order_ids, status="available")
        .values("order_id", "beneficiary_id")
        .annotate(total=Sum("settled_amount"))
        .order_by("order_id", "beneficiary_id")
    )
    sent = 0
    for row in rows:
        amount = f"¥{yuan(row['total'] or 0)}"
        send = sms_event(
            topic="commissions",
            user_id=row["beneficiary_id"],
            ref=f"commission_available:order_id:{row['order_id']}",
            title=amount,
            body=f"#{row['order_id']}",
        )
        sent += send is not None and send.status == SmsSend.SENT
    return sent
