"""Notifications: who is told, and how (bell, e-mail, text message, group robots, digest).

Producers call ``notify()`` inside their transaction; it writes one row per recipient and,
after commit, queues the deliveries. Every outbound channel is claimed before it is used (a
conditional UPDATE or a unique row), so a retried or duplicated task never sends twice."""

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
import urllib.request

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from civilaffairs.choices import (
    URGENT_KINDS,
    Channel,
    DeliveryStatus,
    Role,
    WebhookKind,
)
from civilaffairs.masking import mask_phone
from civilaffairs.models import (
    Delivery,
    Notification,
    NotificationPreference,
    OrgUnit,
    RoleAssignment,
    TimelineEntry,
    User,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)


# --- Who ------------------------------------------------------------------------------------


def ancestor_paths(unit: OrgUnit) -> list[str]:
    return paths_above(unit.path)


def paths_above(path: str) -> list[str]:
    """The materialised paths of a unit and of every unit above it, the root first."""
    from civilaffairs.models.org import PATH_STEP

    return [path[:i] for i in range(PATH_STEP, len(path) + 1, PATH_STEP)]


def holders_over(unit: OrgUnit, *roles: str, nearest: bool = False) -> list[User]:
    """Active users holding one of ``roles`` over ``unit`` (scoped on it or above it). With
    ``nearest``, only those scoped closest to the unit — its own liaison rather than every
    liaison of the district."""
    assignments = list(
        RoleAssignment.objects.filter(
            role__in=roles, scope__path__in=ancestor_paths(unit), user__is_active=True
        ).select_related("user", "scope")
    )
    if nearest and assignments:
        depth = max(a.scope.depth for a in assignments)
        assignments = [a for a in assignments if a.scope.depth == depth]
    return _distinct(a.user for a in assignments)


def holders_of(*roles: str) -> list[User]:
    """Active users holding one of ``roles`` anywhere (the office roles are city-wide)."""
    return list(
        User.objects.filter(is_active=True, roles__role__in=roles).distinct().order_by("pk")
    )


def unit_head(unit: OrgUnit) -> User | None:
    """The unit's head, or failing one the head of the nearest unit above it."""
    heads = (
        OrgUnit.objects.filter(path__in=ancestor_paths(unit), head__isnull=False)
        .select_related("head")
        .order_by("-depth")
    )
    for candidate in heads:
        if candidate.head.is_active:
            return candidate.head
    return None


def office_heads() -> list[User]:
    return holders_of(Role.OFFICE_HEAD)


def _distinct(users) -> list[User]:
    seen, result = set(), []
    for user in users:
        if user is not None and user.pk not in seen and user.is_active:
            seen.add(user.pk)
            result.append(user)
    return result


# --- Writing notifications -------------------------------------------------------------------


def notify(
    *,
    recipients,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    subject=None,
    unit: OrgUnit | None = None,
    event_key: str = "",
    exclude=None,
) -> list[Notification]:
    """One notification per recipient (inside the caller's transaction); after commit, the
    e-mails, texts and the unit's group robots are queued. ``event_key`` names the event so a
    person is never told of it twice."""
    people = [u for u in _distinct(recipients) if exclude is None or u.pk != exclude.pk]
    content_type = ContentType.objects.get_for_model(type(subject)) if subject else None
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=person,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:300],
                content_type=content_type,
                object_id=subject.pk if subject else None,
                event_key=event_key,
            )
            for person in people
        ]
    )
    ids = [row.pk for row in rows]
    robots = [
        e.pk for e in (WebhookEndpoint.objects.for_unit(unit) if unit else []) if e.wants(kind)
    ]
    if ids or robots:
        text = robot_text(title, body, url)
        transaction.on_commit(lambda: _queue_deliveries(ids, robots, event_key, text))
    return rows


DELIVERY_BATCH = 200  # notifications per delivery task


def _queue_deliveries(ids, robots, event_key, text):
    queue_batch(ids, [(robots, event_key, text)] if robots else [])


def queue_batch(ids, robot_posts) -> None:
    """After commit: the e-mails and texts of ``ids`` as tasks of up to DELIVERY_BATCH
    notifications each, and each (robots, event_key, text) post. What a broker outage loses
    the deliver_pending sweep sends; ``deliver`` claims each channel, so a batch
    delivered twice sends nothing twice."""
    from civilaffairs import tasks

    for start in range(0, len(ids), DELIVERY_BATCH):
        enqueue(tasks.deliver_notifications, list(ids[start : start + DELIVERY_BATCH]))
    for robots, event_key, text in robot_posts:
        for pk in robots:
            enqueue(tasks.post_to_robot, pk, event_key, text)


# Monotonic time before which the broker is not tried again (see enqueue).
_broker_down_until = 0.0


def enqueue(task, *args) -> bool:
    """Queue a task; if the broker is unreachable, log it and carry on — the periodic sweeps
    pick up what was not delivered, and the user's request must not fail for it. After a
    failure the broker is not tried for BROKER_DOWN_RETRY_AFTER seconds, so a step that tells
    twenty people does not wait twenty connection timeouts."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        log.info("broker down: %s%r left to the periodic sweep", task.name, args)
        return False
    try:
        task.delay(*args)
    except Exception:  # any broker error
        _broker_down_until = time.monotonic() + settings.BROKER_DOWN_RETRY_AFTER
        log.warning("could not queue %s%r; the periodic sweep will retry", task.name, args)
        return False
    return True


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL + url


def robot_text(title: str, body: str, url: str) -> str:
    parts = [f"【{settings.SITE_NAME}】{title}"]
    if body:
        parts.append(body)
    if url:
        parts.append(absolute(url))
    return "\n".join(parts)


def preference_of(user) -> NotificationPreference:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def preference_update(*, actor, **values) -> NotificationPreference:
    from civilaffairs.services import audit_record

    with transaction.atomic():
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
            user=actor
        )
        changes = {}
        for field in ("email", "sms", "digest"):
            if field in values and getattr(preference, field) != bool(values[field]):
                changes[field] = [getattr(preference, field), bool(values[field])]
                setattr(preference, field, bool(values[field]))
        if changes:
            preference.save()
            audit_record(
                actor=actor,
                action="notification.preferences",
                obj=preference,
                summary=_("Changed notification preferences"),
                changes=changes,
            )
    return preference


def mark_read(*, actor, ids=None) -> int:
    """Mark the actor's notifications read (all unread ones when ``ids`` is None)."""
    rows = Notification.objects.visible_to(actor).unread()
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


# --- Delivering -----------------------------------------------------------------------------


def _claim(notification_id: int, field: str) -> bool:
    return bool(
        Notification.objects.filter(pk=notification_id, **{f"{field}__isnull": True}).update(
            **{field: timezone.now()}
        )
    )


def _log(channel, target, status, detail="", notification=None, endpoint=None, event_key=""):
    return Delivery.objects.create(
        channel=channel,
        notification=notification,
        endpoint=endpoint,
        event_key=event_key,
        target=target[:200],
        status=status,
        detail=str(detail)[:500],
    )


def deliver(notification_id: int) -> list[str]:
    """E-mail and text one notification as its recipient prefers. Returns the channels used."""
    notification = (
        Notification.objects.select_related("recipient__notification_preference")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        return []
    person, used = notification.recipient, []
    preference = preference_of(person)
    wants_email = preference.email and not preference.digest and person.email
    if wants_email and _claim(notification.pk, "emailed_at"):
        try:
            send_mail(
                subject=f"[{settings.SITE_NAME}] {notification.title}",
                message=render_to_string(
                    "notifications/email.txt",
                    {"notifications": [notification], "site_url": settings.SITE_URL},
                ),
                from_email=None,
                recipient_list=[person.email],
            )
        except Exception as error:  # any mail server error is logged
            _log(Channel.EMAIL, person.email, DeliveryStatus.FAILED, error, notification)
        else:
            _log(Channel.EMAIL, person.email, DeliveryStatus.SENT, "", notification)
            used.append(Channel.EMAIL)
    wants_text = preference.sms and notification.kind in URGENT_KINDS and person.phone
    if wants_text and _claim(notification.pk, "texted_at"):
        target = mask_phone(person.phone)
        try:
            reference = sms_backend().send(person.phone, robot_text(notification.title, "", ""))
        except Exception as error:  # gateway errors are logged
            _log(Channel.SMS, target, DeliveryStatus.FAILED, error, notification)
        else:
            _log(Channel.SMS, target, DeliveryStatus.SENT, reference, notification)
            used.append(Channel.SMS)
    return used


def deliver_pending(max_age_hours: int = 24, grace_seconds: int = 60, limit: int = 500) -> int:
    """The sweep: notifications whose delivery task was lost (broker down, worker killed before
    it claimed) are e-mailed and texted late rather than never. Only channels the recipient
    wants and nobody has claimed yet are tried; ``deliver`` claims each one, so a sweep racing
    the normal task (or another sweep) still sends once. Rows younger than ``grace_seconds``
    are left to their own task; older than ``max_age_hours`` to nobody (stale news)."""
    now = timezone.now()
    prefers_email = Q(recipient__notification_preference__isnull=True) | Q(
        recipient__notification_preference__email=True,
        recipient__notification_preference__digest=False,
    )
    wants_email = Q(emailed_at__isnull=True) & ~Q(recipient__email="") & prefers_email
    wants_text = Q(
        texted_at__isnull=True,
        kind__in=list(URGENT_KINDS),
        recipient__notification_preference__sms=True,
    )
    ids = list(
        Notification.objects.filter(
            created_at__gte=now - timezone.timedelta(hours=max_age_hours),
            created_at__lte=now - timezone.timedelta(seconds=grace_seconds),
            recipient__is_active=True,
        )
        .filter(wants_email | wants_text)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if deliver(pk))


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def robot_payload(endpoint: WebhookEndpoint, text: str) -> tuple[str, bytes]:
    """The address and JSON body for one post. Both robot kinds take a text message; DingTalk
    robots with signing need a timestamp and an HMAC-SHA256 signature in the address."""
    url = endpoint.url
    if endpoint.kind == WebhookKind.DINGTALK and endpoint.secret:
        stamp = str(int(time.time() * 1000))
        digest = hmac.new(
            endpoint.secret.encode(), f"{stamp}\n{endpoint.secret}".encode(), hashlib.sha256
        ).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign}"
    body = {"msgtype": "text", "text": {"content": text}}
    return url, json.dumps(body, ensure_ascii=False).encode()


def post_to_robot(endpoint_id: int, event_key: str, text: str) -> bool:
    """Post an event to one robot once: the delivery row, unique per (robot, event), is
    written before posting and is the claim."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, active=True).first()
    if endpoint is None:
        return False
    try:
        with transaction.atomic():
            claim = _log(
                Channel.WEBHOOK,
                endpoint.name,
                DeliveryStatus.SENT,
                endpoint=endpoint,
                event_key=event_key or f"once:{time.time_ns()}",
            )
    except IntegrityError:
        return False
    url, body = robot_payload(endpoint, text)
    try:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("only http(s) robot addresses are posted to")
        request = urllib.request.Request(  # noqa: S310 — scheme checked above
            url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT) as response:  # noqa: S310  # nosec B310
            answer = json.loads(response.read() or b"{}")
        if answer.get("errcode", 0) != 0:
            raise ValueError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")
    except Exception as error:  # network and robot errors are logged
        Delivery.objects.filter(pk=claim.pk).update(
            status=DeliveryStatus.FAILED, detail=str(error)[:500]
        )
        return False
    return True


def send_digests(now=None) -> int:
    """One e-mail per person who chose the digest, with what arrived since their last one.

    The rows are claimed (``digested_at``) and committed before the e-mail is sent, so a task
    redelivered after its worker died mid-way never sends a digest twice; if the mail server
    refuses, the claim is given back and the next run sends them."""
    now = now or timezone.now()
    sent = 0
    people = User.objects.filter(
        is_active=True, notification_preference__digest=True, notification_preference__email=True
    ).exclude(email="")
    for person in people:
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(recipient=person, digested_at__isnull=True, created_at__lte=now)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(digested_at=now)
        try:
            send_mail(
                subject=_("[%(site)s] Daily digest: %(count)d notifications")
                % {"site": settings.SITE_NAME, "count": len(rows)},
                message=render_to_string(
                    "notifications/email.txt",
                    {"notifications": rows, "site_url": settings.SITE_URL, "digest": True},
                ),
                from_email=None,
                recipient_list=[person.email],
            )
        except Exception as error:  # the mail server: give the claim back, log, go on
            Notification.objects.filter(pk__in=[r.pk for r in rows], digested_at=now).update(
                digested_at=None
            )
            _log(Channel.EMAIL, person.email, DeliveryStatus.FAILED, error)
            continue
        _log(Channel.EMAIL, person.email, DeliveryStatus.SENT, _("daily digest"))
        sent += 1
    return sent


# --- The timeline as a queue ----------------------------------------------------------------

# model label → callable(entry, subject) that writes the entry's notifications (via notify()).
TIMELINE_NOTIFIERS: dict = {}


def dispatch_timeline_entry(entry_id: int) -> bool:
    """Claim one timeline entry with a conditional UPDATE and write its notifications in the
    same transaction; only the claimer acts, so a duplicate task does nothing."""
    with transaction.atomic():
        claimed = TimelineEntry.objects.filter(pk=entry_id, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        if not claimed:
            return False
        entry = TimelineEntry.objects.select_related("content_type", "actor").get(pk=entry_id)
        notifier = TIMELINE_NOTIFIERS.get(entry.content_type.model_class()._meta.label)
        subject = entry.subject if notifier else None
        if notifier and subject is not None:
            notifier(entry, subject)
    return True


def dispatch_pending(max_age_hours: int = 24, limit: int = 500) -> int:
    """The sweep: entries whose task was lost (broker down) are dispatched late rather than
    never. Older ones are left alone — stale news helps nobody."""
    since = timezone.now() - timezone.timedelta(hours=max_age_hours)
    ids = list(
        TimelineEntry.objects.filter(notified_at__isnull=True, at__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(dispatch_timeline_entry(pk) for pk in ids)


def queue_timeline(entry):
    """After commit, hand a timeline entry to the dispatcher."""
    from civilaffairs import tasks

    transaction.on_commit(lambda: enqueue(tasks.dispatch_timeline, entry.pk))
