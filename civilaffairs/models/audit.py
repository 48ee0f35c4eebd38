from django.conf import settings
from django.db import models, router, transaction
from django.utils.translation import gettext_lazy as _

from civilaffairs.querysets import VisibleQuerySet

# Human labels of audit actions; each app registers its own with register_action().
ACTION_LABELS: dict[str, str] = {
    "orgunit.create": _("Org unit created"),
    "orgunit.update": _("Org unit changed"),
    "user.create": _("User created"),
    "user.update": _("User changed"),
    "role.grant": _("Role granted"),
    "role.revoke": _("Role revoked"),
    "attachment.create": _("File uploaded"),
    "audit.export": _("Audit trail exported"),
    "notification.preferences": _("Notification preferences changed"),
    "webhook.create": _("Group robot added"),
    "webhook.update": _("Group robot changed"),
    "webhook.delete": _("Group robot removed"),
}


# Names of change keys that are not model fields.
CHANGE_LABELS = {
    "role": _("role"),
    "scope": _("scope"),
    "parent": _("parent unit"),
    "fields": _("fields"),
    "filters": _("filters"),
    "targets": _("targets"),
    "method": _("method"),
    "secret": _("secret"),
    "state": _("state"),
    "findings": _("findings"),
    "sha256": "SHA-256",
    "size": _("size"),
    # Keys of workflow steps' changes (deadlines, the unit a case went to, digest figures).
    "deadline": _("deadline"),
    "new_deadline": _("new deadline"),
    "working_days": _("working days"),
    "on_time": _("on time"),
    "unit": _("unit"),
    "units": _("units"),
    "order": _("rectification order"),
    "finding": _("finding"),
    "daily_report": _("daily report"),
    "attachments": _("attachments"),
    "milestone": _("milestone"),
    "into": _("merged into"),
    "into_code": _("merged into (number)"),
    "personal_data": _("personal data"),
    "as_of": _("as of"),
    "cutoff": _("cut-off time"),
    "late": _("late"),
    "new_findings": _("new findings"),
    "overdue_orders": _("overdue orders"),
    "abnormal_by_line": _("abnormal reports by bottom line"),
}


def register_action(code: str, label) -> None:
    ACTION_LABELS[code] = label


class AuditEventQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        # 三权分立: only auditors read the trail; the sysadmin does not.
        if getattr(user, "is_authenticated", False) and user.is_active and user.is_auditor:
            return self.all()
        return self.none()


class AuditEvent(models.Model):
    """One line of the append-only audit trail: who did what to which object, from where, when.

    PostgreSQL itself refuses UPDATE, DELETE and TRUNCATE on this table (a trigger installed by
    migration), so not even a bug in the application can rewrite history; and the rows form a
    hash chain (``civilaffairs.auditchain``), so an edit made around the trigger is found by
    ``manage.py audit_verify``."""

    # Set when the event is sealed into the chain (under the chain's lock, so times rise with
    # ids); only tests give one.
    at = models.DateTimeField(_("time"), db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # A snapshot: the trail stays readable even if the account is later renamed.
    actor_name = models.CharField(_("actor name"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # The chain: the hash of the event before this one, and this event's own hash.
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        """Events are only ever appended: sealed into the chain and inserted in one transaction
        (the caller's, when there is one)."""
        from civilaffairs import auditchain

        if not self._state.adding:
            raise TypeError("audit events are append-only")
        using = kwargs.pop("using", None) or router.db_for_write(type(self), instance=self)
        kwargs.pop("force_insert", None)
        with transaction.atomic(using=using, savepoint=False):
            auditchain.seal(self, using=using)
            super().save(*args, force_insert=True, using=using, **kwargs)

    def changes_display(self) -> str:
        """The changes with field names as people read them (verbose names, in Chinese)."""
        if not self.changes:
            return ""
        from django.apps import apps

        from civilaffairs.choices import Role

        fields, choices = {}, {"role": dict(Role.choices)}
        try:
            model = apps.get_model(self.object_type) if self.object_type else None
        except (LookupError, ValueError):
            model = None
        if model is not None:
            for f in model._meta.get_fields():
                # A reverse relation has no verbose name of its own: its model's.
                label = getattr(f, "verbose_name", None) or (
                    f.related_model._meta.verbose_name if f.related_model else f.name
                )
                fields[f.name] = str(label)
                if getattr(f, "choices", None):
                    choices[f.name] = dict(f.flatchoices)
        fields.update({k: str(v) for k, v in CHANGE_LABELS.items()})

        def show(key, value):
            if isinstance(value, bool):
                return str(_("Yes") if value else _("No"))
            if value is None or value == "":
                return "—"
            if isinstance(value, list | tuple):  # e.g. the recipients of a distribution
                return "、".join(show(key, item) for item in value) or "—"
            if isinstance(value, dict):
                return "，".join(f"{k}={show(k, v)}" for k, v in value.items()) or "—"
            return str(choices.get(key, {}).get(value, value))

        parts = []
        for key, value in self.changes.items():
            if isinstance(value, list) and len(value) == 2:
                value = f"{show(key, value[0])} → {show(key, value[1])}"
            else:
                value = show(key, value)
            parts.append(f"{fields.get(key, key)}：{value}")
        return "；".join(parts)

    @property
    def action_label(self) -> str:
        label = ACTION_LABELS.get(self.action)
        if label is None and self.action.startswith("job."):
            # A background job requested (civilaffairs.jobs.job_start): named by its kind.
            from civilaffairs.jobs import job_type

            spec = job_type(self.action.removeprefix("job."))
            if spec is not None:
                return _("File requested: %(kind)s") % {"kind": spec.label}
        return str(label or self.action)


class AuditPurge(models.Model):
    """One purge of audit events older than the retention period: where the kept chain now
    starts (the id and hash of the last event removed), so the rest still verifies."""

    at = models.DateTimeField(_("time"), auto_now_add=True)
    cutoff = models.DateTimeField(_("removed events before"))
    last_id = models.BigIntegerField(_("last removed event"))
    last_hash = models.CharField(_("hash of the last removed event"), max_length=64)
    removed = models.PositiveIntegerField(_("events removed"))

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit purge")
        verbose_name_plural = _("audit purges")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} ≤{self.last_id}"
