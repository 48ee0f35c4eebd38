"""Bad input at scale: every operation of the OpenAPI schema, for every role and for nobody,
with inputs schemathesis generates from the schema itself (valid and invalid alike).

Every answer must be something the schema promises: no 5xx, a documented status code, the
documented content type and a body matching the documented schema.

Bounded for CI: API_FUZZ_EXAMPLES inputs per operation and role (default 3), derandomised
with a fixed seed so a failure repeats. One small city (tests/personas.py, filled with a little
of everything by tests/busy_city.py) is built once for the module inside a transaction that is
rolled back at the end; each test runs in its own savepoint on top, so whatever one role's
requests change is gone before the next test."""

import os
import zlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from civilaffairs.wsgi import application
from tests.busy_city import fill
from tests.complaint_data import commitment, handled, register
from tests.personas import build_city

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
SEED = 20260505

# role → the persona of tests/personas.py who holds it (None: no credentials at all)
ROLES = {
    "supervisor": "supervisor",
    "office_head": "office_head",
    "inspector": "inspector",
    "unit_liaison": "liaison_a",
    "department": "department",
    "leader": "leader",
    "auditor": "auditor",
    "sysadmin": "sysadmin",
    "anonymous": None,
}

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def _schema_dict():
    # The same document /api/schema/ serves, generated in-process (no request, no database).
    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(
    _schema_dict(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    ),
)
schema.app = application

# Real identifiers of the module's city by the first path segment after /api/v1/, so a share of
# the generated requests reaches existing objects rather than only 404s.
REAL_IDS: dict[str, list] = {}


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if context.operation is None or not path_parameters:
        return path_parameters
    segment = context.operation.path.removeprefix("/api/v1/").split("/", 1)[0]
    real = REAL_IDS.get(segment)
    if not real:
        return path_parameters
    mapped = dict(path_parameters)
    for name in ("id", "uuid", "unit_id"):
        if name in mapped:
            pick = zlib.crc32(repr(mapped[name]).encode())
            if pick % 4:  # three in four requests name a real object
                mapped[name] = real[pick % len(real)]
    return mapped


@pytest.fixture(scope="module")
def fuzz_city(django_db_setup, django_db_blocker):
    """The city, with complaints and a commitment besides busy_city's data, and one API token
    per persona; rolled back when the module is done."""
    from civilaffairs.models import (
        Attachment,
        BackgroundJob,
        Notification,
        OrgUnit,
        User,
        WebhookEndpoint,
    )
    from inspections.models import ChecklistTemplate, Finding, InspectionPlan, Photo, Visit
    from rectification.models import Commitment, Complaint, ExtensionRequest, Rectification
    from reports.models.daily import DailyDigest, DailyReport, SensitivePeriod, WeeklyReport
    from reports.models.flash import FlashReport

    with django_db_blocker.unblock(), transaction.atomic():
        city = fill(build_city())
        complaint = register(city)
        handled(city, complaint)
        register(city, content="另一件投诉")
        commitment(city)
        tokens = {
            role: Token.objects.create(user=city[persona]).key
            for role, persona in ROLES.items()
            if persona
        }
        models = {
            "org-units": OrgUnit,
            "users": User,
            "attachments": Attachment,
            "checklists": ChecklistTemplate,
            "plans": InspectionPlan,
            "visits": Visit,
            "findings": Finding,
            "photos": Photo,
            "rectifications": Rectification,
            "extension-requests": ExtensionRequest,
            "complaints": Complaint,
            "commitments": Commitment,
            "flash-reports": FlashReport,
            "sensitive-periods": SensitivePeriod,
            "daily-reports": DailyReport,
            "daily-digests": DailyDigest,
            "weekly-reports": WeeklyReport,
            "notifications": Notification,
            "webhooks": WebhookEndpoint,
            "jobs": BackgroundJob,
            "scorecards": OrgUnit,
        }
        for segment, model in models.items():
            field = "uuid" if segment in ("attachments", "photos", "jobs") else "pk"
            REAL_IDS[segment] = [
                str(value) for value in model.objects.order_by("pk").values_list(field, flat=True)
            ]
        yield tokens
        REAL_IDS.clear()
        transaction.set_rollback(True)


@pytest.fixture
def wsgi_in_transaction():
    # Django's WSGI handler closes the connection after each request; inside the test's
    # transaction that would throw the data away (the test client disconnects the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, role, fuzz_city, wsgi_in_transaction):
    headers = {"Authorization": f"Token {fuzz_city[role]}"} if role in fuzz_city else {}
    if role not in fuzz_city:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_every_persona_token_reaches_the_api(fuzz_city, client):
    """The run above means something only if each role's token is accepted (not 403 for all)."""
    for role, key in fuzz_city.items():
        response = client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 200, role
        assert response.json()["username"] == ROLES[role]
