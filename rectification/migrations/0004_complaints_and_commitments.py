# Complaints and commitments ride rectification orders (#7).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("civilaffairs", "0006_notifications_and_unit_head"),
        ("rectification", "0003_deadline_alerts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Commitment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=30, unique=True, verbose_name="number")),
                ("problem", models.CharField(max_length=200, verbose_name="problem")),
                ("promise", models.TextField(verbose_name="public promise")),
                (
                    "public",
                    models.BooleanField(
                        default=True,
                        help_text="Shown on the public commitments page.",
                        verbose_name="published",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="made at")),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="commitments",
                        to="civilaffairs.orgunit",
                        verbose_name="responsible department",
                    ),
                ),
            ],
            options={
                "verbose_name": "commitment",
                "verbose_name_plural": "commitments",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="rectification",
            name="commitment",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order",
                to="rectification.commitment",
                verbose_name="commitment",
            ),
        ),
        migrations.CreateModel(
            name="CommitmentMilestone",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="milestone")),
                ("due_date", models.DateField(verbose_name="due date")),
                (
                    "reached_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reached at"),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "commitment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="milestones",
                        to="rectification.commitment",
                    ),
                ),
            ],
            options={
                "verbose_name": "milestone",
                "verbose_name_plural": "milestones",
                "ordering": ["due_date", "id"],
            },
        ),
        migrations.CreateModel(
            name="CommitmentProgress",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="time")),
                ("content", models.TextField(verbose_name="progress")),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "commitment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="progress",
                        to="rectification.commitment",
                    ),
                ),
                (
                    "milestone",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="rectification.commitmentmilestone",
                        verbose_name="milestone",
                    ),
                ),
            ],
            options={
                "verbose_name": "progress update",
                "verbose_name_plural": "progress updates",
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="Complaint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=30, unique=True, verbose_name="number")),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("phone", "Phone call"),
                            ("online", "Online platform"),
                            ("petition", "Letters and visits"),
                            ("mailbox", "Suggestion box"),
                            ("referral", "Referred by a higher authority"),
                            ("hotline_12345", "12345"),
                            ("visit", "Home visit"),
                            ("forum", "Public forum"),
                        ],
                        max_length=20,
                        verbose_name="channel",
                    ),
                ),
                (
                    "referring_body",
                    models.CharField(blank=True, max_length=100, verbose_name="referring body"),
                ),
                (
                    "reference_number",
                    models.CharField(blank=True, max_length=60, verbose_name="reference number"),
                ),
                (
                    "complainant_name",
                    models.CharField(blank=True, max_length=50, verbose_name="complainant's name"),
                ),
                (
                    "complainant_phone",
                    models.CharField(blank=True, max_length=30, verbose_name="complainant's phone"),
                ),
                (
                    "consent",
                    models.BooleanField(
                        default=False,
                        help_text="The complainant agreed that the handling unit may see their name and phone to contact them.",
                        verbose_name="consent to pass on contact details",
                    ),
                ),
                (
                    "domain",
                    models.CharField(
                        choices=[
                            ("veterans", "Veterans' preferential treatment and resettlement"),
                            ("social_welfare", "Social welfare"),
                            ("social_affairs", "Social affairs"),
                            ("disaster_relief", "Disaster and emergency relief"),
                            ("place_names", "Administrative divisions and place names"),
                            ("community", "Community building"),
                            ("lottery", "Welfare lottery"),
                            ("social_assistance", "Social assistance"),
                            ("elder_care", "Elderly care services"),
                            ("marriage", "Marriage registration"),
                            ("funeral", "Funeral and burial management"),
                            ("other", "Other matters"),
                        ],
                        max_length=30,
                        verbose_name="domain",
                    ),
                ),
                (
                    "nature",
                    models.CharField(
                        choices=[
                            ("personal", "Personal request"),
                            ("attitude", "Staff attitude"),
                            ("consultation", "Policy enquiry"),
                            ("suggestion", "Opinion or suggestion"),
                            ("report", "Report of wrongdoing"),
                        ],
                        max_length=20,
                        verbose_name="nature",
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="summary")),
                ("content", models.TextField(verbose_name="content")),
                ("received_at", models.DateTimeField(db_index=True, verbose_name="received at")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("received", "Registered"),
                            ("triaged", "Being handled"),
                            ("replied", "Replied"),
                            ("closed", "Concluded"),
                            ("reopened", "Handled again"),
                            ("merged", "Merged"),
                        ],
                        db_index=True,
                        default="received",
                        max_length=20,
                        verbose_name="state",
                    ),
                ),
                (
                    "triaged_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="assigned at"),
                ),
                (
                    "reply_to",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("complainant", "The complainant"),
                            ("referrer", "The referring body"),
                        ],
                        max_length=20,
                        verbose_name="replied to",
                    ),
                ),
                ("reply_content", models.TextField(blank=True, verbose_name="reply")),
                (
                    "replied_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="replied at"),
                ),
                (
                    "reply_on_time",
                    models.BooleanField(blank=True, null=True, verbose_name="replied on time"),
                ),
                (
                    "satisfaction",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("satisfied", "Satisfied"),
                            ("basically", "Basically satisfied"),
                            ("unsatisfied", "Unsatisfied"),
                        ],
                        max_length=20,
                        verbose_name="satisfaction",
                    ),
                ),
                (
                    "visited_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="return visit at"),
                ),
                (
                    "times_reopened",
                    models.PositiveSmallIntegerField(default=0, verbose_name="times reopened"),
                ),
                (
                    "closed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="concluded at"),
                ),
                ("version", models.PositiveIntegerField(default=1)),
                (
                    "district",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="civilaffairs.orgunit",
                        verbose_name="district concerned",
                    ),
                ),
                (
                    "merged_into",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="duplicates",
                        to="rectification.complaint",
                        verbose_name="merged into",
                    ),
                ),
                (
                    "received_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="registered by",
                    ),
                ),
                (
                    "replied_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="replied by",
                    ),
                ),
            ],
            options={
                "verbose_name": "complaint",
                "verbose_name_plural": "complaints",
                "ordering": ["-received_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="rectification",
            name="complaint",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order",
                to="rectification.complaint",
                verbose_name="complaint",
            ),
        ),
        migrations.AddIndex(
            model_name="complaint",
            index=models.Index(
                fields=["state", "received_at"], name="rectificati_state_ce50c7_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="complaint",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reference_number", ""), _negated=True),
                fields=("referring_body", "reference_number"),
                name="one_complaint_per_referral",
            ),
        ),
    ]
