"""Print the current two-factor code of a user's TOTP device: an operator's tool for the demo
and for helping someone at the desk. Anyone who can run it has shell access to the server (and
so the database and its keys) already; each use is on the audit trail all the same."""

from django.core.management.base import BaseCommand, CommandError

from civilaffairs.models import User
from civilaffairs.security import otp_device, totp_token
from civilaffairs.services import audit_record


class Command(BaseCommand):
    help = "Print the current 6-digit two-factor code of USERNAME's device (good for ~30 s)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"没有用户 {username}")
        device = otp_device(user)
        if device is None:
            raise CommandError(f"用户 {user.username} 没有已启用的双因素设备")
        audit_record(
            actor=None,
            action="otp.code_shown",
            obj=user,
            summary="manage.py otp_code",
        )
        self.stdout.write(totp_token(device))
