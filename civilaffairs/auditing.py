"""What the audit trail records besides the services' own writes: sign-ins (pages, admin site,
API token), failed sign-ins, sign-outs, refused requests and downloads of exported files.

Sign-ins and sign-outs come from Django's auth signals, so every way in is covered, whichever
view does the signing in. A failed sign-in records the username that was tried and never the
password (the signal's credentials are cleansed, and only the username is read); its actor is
nobody, since an unknown username has no account.

A refused request is recorded once, after the response: a 403 from anywhere (a page's
PermissionDenied, the API's permission checks, a CSRF failure) or a service refusing an action
(``civilaffairs.exceptions.PermissionDenied``, shown on a page as a message). It is one insert,
outside the request's transaction. Not-found answers (404) are not denials and are not
recorded: objects outside a person's view answer 404 so that existence does not leak."""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DatabaseError, transaction
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import context
from civilaffairs.models.audit import CHANGE_LABELS, register_action

log = logging.getLogger(__name__)

register_action("auth.login", gettext_lazy("Signed in"))
register_action("auth.login_failed", gettext_lazy("Sign-in failed"))
register_action("auth.logout", gettext_lazy("Signed out"))
register_action("access.denied", gettext_lazy("Access denied"))
register_action("list.export", gettext_lazy("List exported to Excel"))
register_action("job.download", gettext_lazy("Prepared file downloaded"))
register_action("flash.pdf", gettext_lazy("Flash report PDF downloaded"))
CHANGE_LABELS.update(
    {
        "username": gettext_lazy("username"),
        "via": gettext_lazy("signed in through"),
        "path": gettext_lazy("address"),
        "http_method": gettext_lazy("request method"),
        "status": gettext_lazy("answer"),
        "list": gettext_lazy("list"),
        "rows": gettext_lazy("rows"),
        "file": gettext_lazy("file"),
        "job_kind": gettext_lazy("kind of file"),
    }
)

MAX_PATH = 300


def _via(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "web"


def via_label(via: str) -> str:
    return {
        "admin": _("the administration site"),
        "api": _("the API (token)"),
        "web": _("the web pages"),
    }.get(via, via)


def record_sign_in(*, user, via: str) -> None:
    from civilaffairs.services import audit_record

    audit_record(
        actor=user,
        action="auth.login",
        obj=user,
        summary=_("Signed in through %(via)s") % {"via": via_label(via)},
        changes={"via": via},
    )


@receiver(user_logged_in, dispatch_uid="civilaffairs.auditing.signed_in")
def _signed_in(sender, request, user, **kwargs):
    record_sign_in(user=user, via=_via(request))


@receiver(user_login_failed, dispatch_uid="civilaffairs.auditing.sign_in_failed")
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    from django.contrib.auth import get_user_model

    from civilaffairs.services import audit_record

    model = get_user_model()
    # Only the username: the password (cleansed by Django anyway) is never read.
    username = str(credentials.get(model.USERNAME_FIELD) or credentials.get("username") or "")
    username = username[:150]
    account = model.objects.filter(**{model.USERNAME_FIELD: username}).first() if username else None
    audit_record(
        actor=None,
        action="auth.login_failed",
        obj=account,
        summary=_("Failed sign-in as “%(username)s”") % {"username": username},
        changes={"username": username, "via": _via(request)},
    )


@receiver(user_logged_out, dispatch_uid="civilaffairs.auditing.signed_out")
def _signed_out(sender, request, user, **kwargs):
    from civilaffairs.services import audit_record

    if user is None or not getattr(user, "is_authenticated", False):
        return
    audit_record(actor=user, action="auth.logout", obj=user, summary=_("Signed out"))


def record_denial(request, response) -> None:
    """After a response: record a 403, or a refusal a service noted during the request."""
    noted = context.noted_denial()
    status = getattr(response, "status_code", None)
    if status != 403 and noted is None:
        return
    from civilaffairs.services import audit_record

    user = getattr(request, "user", None)
    try:
        with transaction.atomic():
            audit_record(
                actor=user,
                action="access.denied",
                summary=noted or _("Access denied"),
                changes={
                    "http_method": request.method,
                    "path": request.path[:MAX_PATH],
                    "status": status,
                },
            )
    except DatabaseError:
        # The refusal stands whether or not it could be written down.
        log.exception("could not record an access denial of %s", request.path)
