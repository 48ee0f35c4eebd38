"""Load the demo city (civilaffairs.demo.city): its org tree and a login for every role.

Idempotent: units are matched by code, so a second run creates nothing, changes only what the
demo data now says differently, and writes no audit events when nothing changed. Existing users
are left exactly as they are (an administrator may have changed them since).
"""

import time
import unicodedata
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Lower

from civilaffairs.demo import city
from civilaffairs.models import OrgUnit, User
from civilaffairs.services import orgunit_create, orgunit_update, user_create

# UnitSpec fields handed to the services as they are; supervising_department is resolved.
PLAIN_FIELDS = (
    "name",
    "short_name",
    "code",
    "kind",
    "institution_type",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "contact_id_number",
    "capacity",
)


def _fields(spec: city.UnitSpec, units: dict[str, OrgUnit]) -> dict:
    fields = {name: getattr(spec, name) for name in PLAIN_FIELDS}
    code = spec.supervising_department
    fields["supervising_department"] = units[code] if code else None
    return fields


def _changes(unit: OrgUnit, fields: dict) -> dict:
    """The fields whose stored value differs from the demo data (no query is made)."""
    changed = {}
    for name, value in fields.items():
        if name == "supervising_department":
            differs = unit.supervising_department_id != (value.pk if value else None)
        else:
            differs = getattr(unit, name) != value
        if differs:
            changed[name] = value
    return changed


def load_units(stats: Counter) -> dict[str, OrgUnit]:
    specs = city.units()
    units = OrgUnit.objects.in_bulk([s.code for s in specs], field_name="code")
    for spec in specs:  # parents come before their children
        parent = units[spec.parent] if spec.parent else None
        fields = _fields(spec, units)
        unit = units.get(spec.code)
        if unit is None:
            units[spec.code] = orgunit_create(actor=None, parent=parent, **fields)
            stats["units_created"] += 1
            continue
        changes = _changes(unit, fields)
        moved = parent is not None and unit.parent_id != parent.pk
        if changes or moved:
            units[spec.code] = orgunit_update(
                actor=None, unit=unit, parent=parent if moved else None, **changes
            )
            stats["units_updated"] += 1
        else:
            stats["units_unchanged"] += 1
    return units


def load_users(units: dict[str, OrgUnit], stats: Counter) -> None:
    specs = city.users()
    wanted = [s.username.lower() for s in specs]
    existing = set(
        User.objects.annotate(login=Lower("username"))
        .filter(login__in=wanted)
        .values_list("login", flat=True)
    )
    for spec in specs:
        if spec.username.lower() in existing:
            stats["users_existing"] += 1
            continue
        user_create(
            actor=None,
            username=spec.username,
            real_name=spec.real_name,
            password=settings.DEMO_PASSWORD,
            org_unit=units[spec.org_unit],
            phone=spec.phone,
            title=spec.title,
            roles=[(role, units[scope] if scope else None) for role, scope in spec.roles],
        )
        stats["users_created"] += 1


def load_devices(stats: Counter) -> None:
    """Every demo account whose role requires two-factor sign-in gets a confirmed TOTP device
    (``manage.py otp_code <username>`` prints its current code); new accounts' password clocks
    start now (the password policy stamps them when the password is set)."""
    from civilaffairs.security import otp_device_ensure

    wanted = {s.username.lower() for s in city.users()}
    holders = (
        User.objects.annotate(login=Lower("username"))
        .filter(login__in=wanted, roles__role__in=settings.OTP_REQUIRED_ROLES)
        .distinct()
    )
    for user in holders:
        _device, created = otp_device_ensure(user=user)
        stats["devices_created"] += created


def load_demo() -> Counter:
    """Bring the database in line with the demo city, in one transaction."""
    stats = Counter()
    with transaction.atomic():
        units = load_units(stats)
        load_users(units, stats)
        load_devices(stats)
    return stats


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def login_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Load the demo city (org tree, institutions and a login for every role); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    def handle(self, *args, quiet=False, **options):
        started = time.monotonic()
        stats = load_demo()
        from inspections import demo as inspections_demo

        inspection_stats = inspections_demo.load()
        from rectification import demo as rectification_demo

        rectification_stats = rectification_demo.load()
        from reports.demo_daily import load_daily

        daily_stats = load_daily()
        from reports import demo as reports_demo

        flash_stats = reports_demo.load_flash()
        if quiet:
            return
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"组织单位：新建 {stats['units_created']}，更新 {stats['units_updated']}，"
            f"未变 {stats['units_unchanged']}；用户：新建 {stats['users_created']}，"
            f"已存在 {stats['users_existing']}（{elapsed:.1f} 秒）"
        )
        self.stdout.write(f"检查演示数据：{inspection_stats}")
        self.stdout.write(f"整改演示数据：{rectification_stats}")
        self.stdout.write(f"每日底线报告演示数据：{daily_stats}")
        self.stdout.write(f"快报演示数据：{flash_stats}")
        self.stdout.write("")
        self.stdout.write(login_table(city.demo_logins(), ("用户名", "角色", "姓名")))
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"演示账号统一密码：{settings.DEMO_PASSWORD}"))
