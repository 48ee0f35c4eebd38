from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs import crypto
from civilaffairs.fields import BlindIndexField, EncryptedCharField
from civilaffairs.validators import validate_id_number
from rectification.choices import (
    OPEN_STATES,
    AlertLevel,
    ComplaintChannel,
    ComplaintDomain,
    ComplaintNature,
    ComplaintState,
    ExtensionState,
    Priority,
    RectificationState,
    ReplyTarget,
    Satisfaction,
    SourceType,
)
from rectification.querysets import (
    CommitmentQuerySet,
    ComplaintQuerySet,
    ExtensionQuerySet,
    RectificationQuerySet,
)


class Rectification(models.Model):
    """A rectification order (整改单/督办单): what a unit must fix, by when, and where it stands.
    Findings, complaints and commitments all drive their problems through it."""

    code = models.CharField(_("number"), max_length=30, unique=True)
    source_type = models.CharField(
        _("source"), max_length=20, choices=SourceType.choices, default=SourceType.FINDING
    )
    finding = models.ForeignKey(
        "inspections.Finding",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name=_("finding"),
    )
    # A complaint or a commitment rides one order: its deadline, alerts and steps.
    complaint = models.OneToOneField(
        "rectification.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
        verbose_name=_("complaint"),
    )
    commitment = models.OneToOneField(
        "rectification.Commitment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
        verbose_name=_("commitment"),
    )
    title = models.CharField(_("problem"), max_length=200)
    requirements = models.TextField(_("requirements"), blank=True)
    responsible_unit = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name=_("responsible unit"),
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    supervising_department = models.ForeignKey(
        "civilaffairs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_rectifications",
        verbose_name=_("supervising department"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    deadline = models.DateField(_("deadline"))
    deadline_working_days = models.PositiveSmallIntegerField(
        _("working days allowed"), null=True, blank=True
    )
    deadline_provisional = models.BooleanField(
        _("provisional deadline"),
        default=False,
        help_text=_("The deadline reaches a year whose holidays are not published yet."),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=RectificationState.choices,
        default=RectificationState.ISSUED,
        db_index=True,
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("verified by"),
    )
    times_returned = models.PositiveSmallIntegerField(_("times returned"), default=0)
    # Empty when the system issued it (a visit was filed with findings to rectify).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    version = models.PositiveIntegerField(default=1)

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["responsible_unit", "state"]),
            # The API's and the page's default orders, and the dispatch-date filters (#8).
            models.Index(fields=["deadline", "id"], name="order_deadline_id"),
            models.Index(fields=["dispatched_at", "id"], name="order_dispatched_at_id"),
            # Open orders by deadline: overdue lists (dashboard, digest), the deadline scan.
            models.Index(
                fields=["deadline", "id"],
                name="order_open_deadline",
                condition=models.Q(state__in=sorted(OPEN_STATES)),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class ExtensionRequest(models.Model):
    """A unit's request for more time (延期申请), approved or rejected by the office head."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="extensions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    new_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = ExtensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification"],
                condition=models.Q(state="pending"),
                name="one_pending_extension",
            ),
        ]

    def __str__(self):
        return f"{self.rectification.code} → {self.new_deadline}"


class Alert(models.Model):
    """A deadline warning or overdue escalation sent for an order on a day. The row is the
    claim: the unique (order, level, day) makes a second or concurrent scan send nothing."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="alerts"
    )
    level = models.CharField(_("level"), max_length=20, choices=AlertLevel.choices)
    day = models.DateField(_("day"))
    working_days = models.SmallIntegerField(
        _("working days"), help_text=_("Left before the deadline, or overdue (negative: left).")
    )
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["-day", "rectification_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification", "level", "day"], name="one_alert_per_order_level_day"
            )
        ]

    def __str__(self):
        return f"{self.rectification.code} {self.level} {self.day}"


class Complaint(models.Model):
    """A public opinion, complaint or referred case (群众意见/投诉/转办件), handled through an
    order to the unit or department it is assigned to. The complainant's name, phone and ID
    number are personal data: encrypted at rest, shown masked, revealed only by permission and
    with an audit record."""

    code = models.CharField(_("number"), max_length=30, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=ComplaintChannel.choices)
    referring_body = models.CharField(_("referring body"), max_length=100, blank=True)
    reference_number = models.CharField(_("reference number"), max_length=60, blank=True)
    # Personal data, encrypted at rest; phone and ID number are found by their blind indexes
    # (exact matches only, civilaffairs.crypto).
    complainant_name = EncryptedCharField(_("complainant's name"), max_length=50, blank=True)
    complainant_phone = EncryptedCharField(_("complainant's phone"), max_length=30, blank=True)
    complainant_phone_bidx = BlindIndexField(source="complainant_phone", kind=crypto.PHONE)
    complainant_id_number = EncryptedCharField(
        _("complainant's ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    complainant_id_number_bidx = BlindIndexField(
        source="complainant_id_number", kind=crypto.ID_NUMBER
    )
    consent = models.BooleanField(
        _("consent to pass on contact details"),
        default=False,
        help_text=_(
            "The complainant agreed that the handling unit may see their name and phone to "
            "contact them."
        ),
    )
    domain = models.CharField(_("domain"), max_length=30, choices=ComplaintDomain.choices)
    nature = models.CharField(_("nature"), max_length=20, choices=ComplaintNature.choices)
    title = models.CharField(_("summary"), max_length=200)
    content = models.TextField(_("content"))
    district = models.ForeignKey(
        "civilaffairs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("district concerned"),
    )
    received_at = models.DateTimeField(_("received at"), db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered by"),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=ComplaintState.choices,
        default=ComplaintState.RECEIVED,
        db_index=True,
    )
    triaged_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    reply_to = models.CharField(
        _("replied to"), max_length=20, choices=ReplyTarget.choices, blank=True
    )
    reply_content = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("replied by"),
    )
    # Whether the first reply came by the deadline (later replies after a reopening do not
    # change it: the on-time rate measures the first answer the public got).
    reply_on_time = models.BooleanField(_("replied on time"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    visited_at = models.DateTimeField(_("return visit at"), null=True, blank=True)
    times_reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    closed_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name=_("merged into"),
    )
    version = models.PositiveIntegerField(default=1)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        constraints = [
            # The natural key of a referred case: a re-import finds it instead of adding it.
            models.UniqueConstraint(
                fields=["referring_body", "reference_number"],
                condition=~models.Q(reference_number=""),
                name="one_complaint_per_referral",
            ),
        ]
        indexes = [models.Index(fields=["state", "received_at"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def complainant_name_masked(self) -> str:
        from civilaffairs.masking import mask_name

        return mask_name(self.complainant_name)

    @property
    def complainant_phone_masked(self) -> str:
        from civilaffairs.masking import mask_phone

        return mask_phone(self.complainant_phone)

    @property
    def complainant_id_number_masked(self) -> str:
        from civilaffairs.masking import mask_id_number

        return mask_id_number(self.complainant_id_number)

    @property
    def has_personal_data(self) -> bool:
        return bool(self.complainant_name or self.complainant_phone or self.complainant_id_number)


class Commitment(models.Model):
    """A public commitment (承诺事项): a problem, the department responsible, what it promised
    and by when, tracked through an order, with milestones and progress updates."""

    code = models.CharField(_("number"), max_length=30, unique=True)
    problem = models.CharField(_("problem"), max_length=200)
    department = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("responsible department"),
    )
    promise = models.TextField(_("public promise"))
    public = models.BooleanField(
        _("published"), default=True, help_text=_("Shown on the public commitments page.")
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    version = models.PositiveIntegerField(default=1)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.code} {self.problem}"


class CommitmentMilestone(models.Model):
    """A step a commitment promises on the way (visible improvement in three months, …)."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("milestone"), max_length=200)
    due_date = models.DateField(_("due date"))
    reached_at = models.DateTimeField(_("reached at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date", "id"]

    def __str__(self):
        return f"{self.due_date} {self.title}"


class CommitmentProgress(models.Model):
    """A progress update on a commitment, as it will read on the public page."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="progress")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    content = models.TextField(_("progress"))
    milestone = models.ForeignKey(
        CommitmentMilestone,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("milestone"),
    )

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.commitment.code} {self.at:%Y-%m-%d}"
