"""Opt-in push: one gate for every push, and the recommendation digest.

* Marketing topics (promotions, recommendations) go only to people who turned the topic
  on; transactional topics (orders, groups, bargains, commissions) go unless turned off.
* Quiet hours: a transactional push is deferred to the end of the quiet hours; a
  marketing push is dropped.
* Daily cap: at most ``daily_cap`` marketing pushes per person per local day.
* Every decision is a ``PushLog`` row with its reason; its ``key`` is unique, so a job
  that runs twice, or a retry, never sends twice.

A push is the in-app inbox message plus, where the WeChat app is installed and a template
is configured for the topic, a WeChat subscribe message (through that app's own send
path, which checks the person's template consent and never sends an event twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from quanzi.catalog.models import Product
from quanzi.core.logging import get_logger
from quanzi.core.tasks import enqueue
from quanzi.notifications.services import notify
from quanzi.recommend.models import MARKETING_TOPICS, TOPICS, Preference, PushLog

log = get_logger("quanzi.recommend")


def preference_of(user_id: int) -> Preference:
    pref = Preference.objects.filter(user_id=user_id).first()
    return pref or Preference(user_id=user_id)


def wants(pref: Preference, topic: str) -> bool:
    if topic in MARKETING_TOPICS:
        return pref.topics.get(topic) is True
    return pref.topics.get(topic) is not False


def in_quiet_hours(pref: Preference, now: datetime) -> bool:
    hour = timezone.localtime(now).hour
    start, end = pref.quiet_start, pref.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def quiet_end_after(pref: Preference, now: datetime) -> datetime:
    local = timezone.localtime(now)
    end = local.replace(hour=pref.quiet_end, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


def sent_today(user_id: int, now: datetime) -> int:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # The text of a push (``sms:…:push:…``) is the same message as that push: counted once.
    return (
        PushLog.objects.filter(
            user_id=user_id,
            status=PushLog.SENT,
            topic__in=MARKETING_TOPICS,
            sent_at__gte=start,
        )
        .exclude(key__startswith=SMS_KEY, key__contains=":push:")
        .count()
    )


def push_send(
    *,
    user_id: int,
    topic: str,
    key: str,
    title: str,
    body: str = "",
    data: dict | None = None,
    now: datetime | None = None,
) -> PushLog:
    """Decide and (maybe) send one push, once per ``key``."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic}")
    now = now or timezone.now()
    key = key[:160]
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = PushLog.objects.create(
                    key=key,
                    user_id=user_id,
                    topic=topic,
                    status=PushLog.DEFERRED,
                    reason="deciding",
                    title=title[:120],
                    body=body[:500],
                    data=data or {},
                    due_at=now,
                )
        except IntegrityError:
            entry = PushLog.objects.select_for_update().get(key=key)
            if entry.status != PushLog.DEFERRED or (entry.due_at and entry.due_at > now):
                return entry  # already sent or skipped, or not due yet: never twice
        else:
            entry = PushLog.objects.select_for_update().get(pk=entry.pk)
        return _decide(entry, now)


def _decide(entry: PushLog, now: datetime) -> PushLog:
    # The person's preference row is locked, so racing pushes count the cap one by one.
    pref = Preference.objects.select_for_update().filter(
        user_id=entry.user_id
    ).first() or Preference(user_id=entry.user_id)
    marketing = entry.topic in MARKETING_TOPICS
    if not wants(pref, entry.topic):
        return _close(entry, PushLog.SKIPPED, "not_opted_in" if marketing else "opted_out")
    if in_quiet_hours(pref, now):
        if marketing:
            return _close(entry, PushLog.SKIPPED, "quiet_hours")
        entry.status, entry.reason = PushLog.DEFERRED, "quiet_hours"
        entry.due_at = quiet_end_after(pref, now)
        entry.save(update_fields=["status", "reason", "due_at"])
        log.info("push deferred", extra={"key": entry.key, "due_at": entry.due_at.isoformat()})
        return entry
    if marketing and sent_today(entry.user_id, now) >= pref.daily_cap:
        return _close(entry, PushLog.SKIPPED, "daily_cap")
    notify(
        user_id=entry.user_id,
        kind=f"push_{entry.topic}",
        title=entry.title,
        body=entry.body,
        data={**entry.data, "push_key": entry.key},
    )
    if apps.is_installed("quanzi.wechat"):
        enqueue(
            "quanzi.wechat.subscribe.event_push",
            topic=entry.topic,
            user_id=entry.user_id,
            ref=f"push:{entry.pk}",
            values={"title": entry.title, "body": entry.body, "order_id": "", "amount": ""},
            page=str(entry.data.get("url", "")),
        )
    entry.sent_at = now
    return _close(entry, PushLog.SENT, "")


def _close(entry: PushLog, status: str, reason: str) -> PushLog:
    entry.status, entry.reason, entry.due_at = status, reason, None
    entry.save(update_fields=["status", "reason", "due_at", "sent_at"])
    log.info(
        "push decided",
        extra={"key": entry.key, "user_id": entry.user_id, "status": status, "reason": reason},
    )
    return entry


# Another channel's transactional pushes (WeChat subscribe messages of orders, groups,
# bargains and commissions) and the preference topic each belongs to.
CHANNEL_TOPICS = {
    "order_shipped": "orders",
    "group_succeeded": "groups",
    "group_failed": "groups",
    "bargain_done": "bargains",
    "commission_available": "commissions",
}
CHANNEL_KEY = "channel:"
SMS_KEY = "sms:"


def channel_gate(*, user_id: int, topic: str, key: str, call: dict, now=None) -> bool:
    """The gate other push channels ask (``notifications.services.push_allowed``): the
    same preferences, quiet hours and log as ``push_send``, keyed by the channel's own
    message key, so a retried or repeated event is decided once.

    A push this app already decided (``push:<id>`` refs) passes. Transactional topics
    the person turned off are skipped (``opted_out``); in the quiet hours of a person who
    saved their settings they are deferred, and ``recommend.deferred_pushes`` hands them
    back to the channel when the hours end.
    """
    if call.get("channel") == "sms":
        return sms_gate(user_id=user_id, topic=topic, key=key, call=call, now=now)
    if str(call.get("ref", "")).startswith("push:"):
        return True
    mine = CHANNEL_TOPICS.get(topic)
    if mine is None:
        return True
    now = now or timezone.now()
    log_key = f"{CHANNEL_KEY}{key}"[:160]
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = PushLog.objects.create(
                    key=log_key,
                    user_id=user_id,
                    topic=mine,
                    status=PushLog.DEFERRED,
                    reason="deciding",
                    title=str(call.get("values", {}).get("title", ""))[:120],
                    data={"channel_call": call},
                    due_at=now,
                )
        except IntegrityError:
            entry = PushLog.objects.select_for_update().get(key=log_key)
            if entry.status == PushLog.SENT:
                return True  # decided before: the channel's own key stops a second send
            if entry.status == PushLog.SKIPPED or (entry.due_at and entry.due_at > now):
                return False
        else:
            entry = PushLog.objects.select_for_update().get(pk=entry.pk)
        pref = Preference.objects.filter(user_id=user_id).first()
        if pref is not None and not wants(pref, mine):
            _close(entry, PushLog.SKIPPED, "opted_out")
            return False
        # Quiet hours hold back an event's message only for a person who saved settings.
        if pref is not None and in_quiet_hours(pref, now):
            entry.status, entry.reason = PushLog.DEFERRED, "quiet_hours"
            entry.due_at = quiet_end_after(pref, now)
            entry.save(update_fields=["status", "reason", "due_at"])
            return False
        entry.sent_at = now
        _close(entry, PushLog.SENT, "")
        return True


def sms_gate(*, user_id: int, topic: str, key: str, call: dict, now=None) -> bool:
    """The gate of the SMS channel: a text is sent only for a topic the person turned on
    for SMS (and did not turn off altogether). Quiet hours defer a transactional text to
    their end (``recommend.deferred_pushes`` hands it back to the channel) and drop a
    marketing one; a marketing text that is not the copy of a push this app already
    counted passes the daily cap. Logged under ``sms:<the channel's key>``, decided once.
    """
    if topic not in TOPICS:
        return False
    now = now or timezone.now()
    log_key = f"{SMS_KEY}{key}"[:160]
    marketing = topic in MARKETING_TOPICS
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = PushLog.objects.create(
                    key=log_key,
                    user_id=user_id,
                    topic=topic,
                    status=PushLog.DEFERRED,
                    reason="deciding",
                    title=str(call.get("title", ""))[:120],
                    data={"channel_call": call},
                    due_at=now,
                )
        except IntegrityError:
            entry = PushLog.objects.select_for_update().get(key=log_key)
            if entry.status == PushLog.SENT:
                return True  # decided before: the channel's own key stops a second send
            if entry.status == PushLog.SKIPPED or (entry.due_at and entry.due_at > now):
                return False
        else:
            entry = PushLog.objects.select_for_update().get(pk=entry.pk)
        # Locked, so racing marketing texts count the cap one by one.
        pref = Preference.objects.select_for_update().filter(user_id=user_id).first()
        if pref is None or pref.sms_topics.get(topic) is not True:
            _close(entry, PushLog.SKIPPED, "sms_not_opted_in")
            return False
        if not wants(pref, topic):
            _close(entry, PushLog.SKIPPED, "not_opted_in" if marketing else "opted_out")
            return False
        if in_quiet_hours(pref, now):
            if marketing:
                _close(entry, PushLog.SKIPPED, "quiet_hours")
                return False
            entry.status, entry.reason = PushLog.DEFERRED, "quiet_hours"
            entry.due_at = quiet_end_after(pref, now)
            entry.save(update_fields=["status", "reason", "due_at"])
            return False
        counted = str(call.get("ref", "")).startswith("push:")
        if marketing and not counted and sent_today(user_id, now) >= pref.daily_cap:
            _close(entry, PushLog.SKIPPED, "daily_cap")
            return False
        entry.sent_at = now
        _close(entry, PushLog.SENT, "")
        return True


def deferred_deliver(*, now: datetime | None = None) -> int:
    """Send the deferred pushes whose quiet hours are over (another channel's deferred
    message goes back to that channel, which asks the gate again)."""
    now = now or timezone.now()
    rows = list(
        PushLog.objects.filter(status=PushLog.DEFERRED, due_at__lte=now)
        .order_by("due_at")
        .values_list("key", "user_id", "topic", "title", "data")[:500]
    )
    for key, user_id, topic, title, data in rows:
        call = dict((data or {}).get("channel_call") or {})
        if key.startswith((CHANNEL_KEY, SMS_KEY)) and call:
            task = call.pop("task", "quanzi.wechat.subscribe.event_push")
            enqueue(task, **call)
        else:
            push_send(user_id=user_id, topic=topic, key=key, title=title, now=now)
    return len(rows)


def _period(pref: Preference, now: datetime) -> str:
    local = timezone.localtime(now)
    if pref.frequency == "daily":
        return local.strftime("%Y-%m-%d")
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def recommendations_push_run(*, now: datetime | None = None) -> int:
    """The recommendation digest, to the people who opted in, once per day or week."""
    from quanzi.recommend.blend import _texts
    from quanzi.recommend.serving import recommendations_for

    now = now or timezone.now()
    sent = 0
    prefs = Preference.objects.filter(topics__recommendations=True).order_by("user_id")
    for pref in prefs.iterator():
        key = f"recommendations:{pref.user_id}:{_period(pref, now)}"
        if PushLog.objects.filter(key=key).exists():
            continue
        items = recommendations_for(user_id=pref.user_id, limit=20)
        follow = [k.lower() for k in pref.follow_keywords if k]
        if follow:
            texts = _texts()
            items = [
                s
                for s in items
                if any(word in texts.get(s.product_id, ("", ""))[0] for word in follow)
            ]
        items = items[:3]
        if not items:
            PushLog.objects.get_or_create(
                key=key,
                defaults={
                    "user_id": pref.user_id,
                    "topic": "recommendations",
                    "status": PushLog.SKIPPED,
                    "reason": "nothing_to_recommend",
                },
            )
            continue
        titles = dict(
            Product.objects.filter(pk__in=[s.product_id for s in items]).values_list("pk", "title")
        )
        names = "、".join(titles.get(s.product_id, "")[:20] for s in items)
        entry = push_send(
            user_id=pref.user_id,
            topic="recommendations",
            key=key,
            title=gettext("Picked for you"),
            body=names,
            data={"product_ids": [s.product_id for s in items], "url": "/me/recommendations/"},
            now=now,
        )
        sent += entry.status == PushLog.SENT
    return sent
