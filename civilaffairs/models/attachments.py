import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civilaffairs.querysets import VisibleQuerySet


def attachment_path(instance, filename):
    # Content-addressed and dated: names carry no user input, so nothing can traverse or clash.
    created = instance.uploaded_at or timezone.now()
    return f"attachments/{created:%Y/%m}/{instance.sha256[:2]}/{instance.uuid}.{instance.extension}"


class AttachmentQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """An attachment is visible when its owner object is visible; one not yet attached to
        anything is visible only to whoever uploaded it."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        from django.apps import apps

        condition = Q(content_type__isnull=True, uploaded_by=user)
        for label in Attachment.OWNER_MODELS:
            model = apps.get_model(label)
            content_type = ContentType.objects.get_for_model(model)
            visible_ids = model.objects.visible_to(user).values("pk")
            condition |= Q(content_type=content_type, object_id__in=visible_ids)
        return self.filter(condition)


class Attachment(models.Model):
    """A file filed as evidence or supporting material, stored once with its SHA-256."""

    # Models whose objects may own attachments; each must have visible_to(user). Apps extend
    # this list in their AppConfig.ready().
    OWNER_MODELS: list[str] = ["civilaffairs.OrgUnit", "civilaffairs.BackgroundJob"]

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type_detected = models.CharField(_("file type"), max_length=100)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    owner = GenericForeignKey("content_type", "object_id")
    description = models.CharField(_("description"), max_length=200, blank=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("attachment-download", args=[self.uuid])
