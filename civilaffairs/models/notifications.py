from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Channel, DeliveryStatus, NotificationKind, WebhookKind
from civilaffairs.querysets import VisibleQuerySet


class NotificationQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """A notification is its recipient's alone."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one person (站内消息): the bell shows it; e-mail, text message and the
    daily digest deliver it according to the person's preferences."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("content"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    # What produced it ("timeline:12", "alert:34"): one notification per person per event.
    event_key = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Claims of the delivery channels: set by the conditional UPDATE that wins the right to send.
    emailed_at = models.DateTimeField(null=True, blank=True)
    texted_at = models.DateTimeField(null=True, blank=True)
    digested_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(fields=["recipient", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"],
                condition=~models.Q(event_key=""),
                name="one_notification_per_event",
            )
        ]

    def __str__(self):
        return self.title


class NotificationPreference(models.Model):
    """How a person wants to be told, besides the bell (which always shows everything)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(
        _("by e-mail"), default=True, help_text=_("An e-mail for each notification.")
    )
    sms = models.BooleanField(
        _("by text message"),
        default=False,
        help_text=_("A text message for overdue alerts and escalations only."),
    )
    digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("One e-mail a day with everything new, instead of one e-mail each."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)


class WebhookEndpointQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        if getattr(user, "is_sysadmin", False) and user.is_active:
            return self.all()
        return self.none()

    def for_unit(self, unit):
        """Active robots of the unit and of the units above it that take their subunits."""
        ancestors = [unit.path[:i] for i in range(7, len(unit.path) + 1, 7)]
        return self.filter(active=True).filter(
            models.Q(unit=unit) | models.Q(unit__path__in=ancestors, include_subunits=True)
        )


class WebhookEndpoint(models.Model):
    """A group robot (WeCom / DingTalk style) that posts a unit's alerts into its work group."""

    unit = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("org unit"),
    )
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(
        _("kind"), max_length=20, choices=WebhookKind.choices, default=WebhookKind.WECOM
    )
    url = models.URLField(_("robot address"), max_length=400)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk robots with signing enabled: the secret starting with SEC."),
    )
    include_subunits = models.BooleanField(
        _("include subunits"),
        default=True,
        help_text=_("Also post what concerns the units below this one."),
    )
    kinds = models.JSONField(
        _("kinds of notification"),
        default=list,
        blank=True,
        help_text=_("Empty: every kind."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["unit__path", "name"]

    def __str__(self):
        return f"{self.unit} · {self.name}"

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class DeliveryQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        if getattr(user, "is_sysadmin", False) and user.is_active:
            return self.all()
        return self.none()


class Delivery(models.Model):
    """The log of one message sent out of the system (e-mail, text, robot post)."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_key = models.CharField(max_length=80, blank=True)
    target = models.CharField(_("sent to"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-at", "-id"]
        constraints = [
            # A robot posts an event once: the row is its claim (made before posting).
            models.UniqueConstraint(
                fields=["endpoint", "event_key"],
                condition=models.Q(endpoint__isnull=False),
                name="one_post_per_robot_event",
            )
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.target}"
