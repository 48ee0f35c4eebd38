import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models
from django.utils import timezone


def start_the_clocks(apps, schema_editor):
    """Passwords set before the policy existed are taken as set now (their 90 days start at
    the upgrade, rather than everyone being sent to change at once); API tokens of roles that
    now sign in with two factors were obtained without a code and are revoked."""
    User = apps.get_model("civilaffairs", "User")
    Token = apps.get_model("authtoken", "Token")
    RoleAssignment = apps.get_model("civilaffairs", "RoleAssignment")
    User.objects.filter(password_changed_at__isnull=True).exclude(password="").exclude(
        password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).update(password_changed_at=timezone.now())
    required = getattr(settings, "OTP_REQUIRED_ROLES", [])
    holders = RoleAssignment.objects.filter(role__in=required).values("user_id")
    Token.objects.filter(user_id__in=holders).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("civilaffairs", "0007_background_jobs"),
        ("authtoken", "0003_tokenproxy"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="password changed at"
            ),
        ),
        migrations.CreateModel(
            name="PasswordHistory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("password", models.CharField(max_length=128)),
                ("set_at", models.DateTimeField(auto_now_add=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="password_history",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "previous password",
                "verbose_name_plural": "previous passwords",
                "ordering": ["user", "-set_at", "-pk"],
                "indexes": [
                    models.Index(fields=["user", "-set_at"], name="password_history_recent")
                ],
            },
        ),
        migrations.RunPython(start_the_clocks, migrations.RunPython.noop),
    ]
