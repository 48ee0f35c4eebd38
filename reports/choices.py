from django.db import models
from django.utils.translation import gettext_lazy as _


class FlashState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting review")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved, awaiting sign-off")
    SIGNED = "signed", _("Signed off")
    DISTRIBUTED = "distributed", _("Distributed")


class LineStatus(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ABNORMAL = "abnormal", _("Abnormal")
