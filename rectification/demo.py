"""Demo data for the rectification engine: district heads, a year of orders in every state
(driven through the real services on a moved clock, so timelines, audit events and deadlines
are what they would have been), then today's deadline scan and notifications."""

import contextlib
import datetime as dt
import random
from unittest import mock

from django.db import transaction
from django.utils import timezone

from civilaffairs import notifications
from civilaffairs.files import attachment_store
from civilaffairs.models import OrgUnit, TimelineEntry, User
from rectification import alerts, services
from rectification.models import Rectification

MARKER = "【演示】"

PROBLEMS = [
    ("消防通道堆放杂物", "立即清理通道杂物，建立每日巡查制度。"),
    ("灭火器压力不足或过期", "更换过期灭火器，完善消防器材月检记录。"),
    ("电动车在楼道内充电", "清理楼道电动车，设置集中充电点。"),
    ("食品留样记录不完整", "按规定留样48小时并规范登记。"),
    ("夜间值班人员脱岗", "落实夜间双人值班，完善交接班记录。"),
    ("服务对象档案信息不全", "补齐入住评估、合同等档案材料。"),
    ("应急照明损坏", "维修更换应急照明灯具并测试。"),
    ("收费标准未公示", "在服务大厅醒目位置公示收费项目和标准。"),
    ("防滑设施缺失", "在浴室、走廊加装扶手和防滑垫。"),
    ("安全培训记录缺失", "组织全员消防安全培训并留存记录。"),
    ("燃气管道老化", "请专业单位检测更换老化管道。"),
    ("监控设备部分失效", "维修监控设备，保证重点区域全覆盖。"),
]


@contextlib.contextmanager
def clock(moment: dt.datetime):
    """Everything inside happens at ``moment`` (services and auto timestamps read it)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _moment(day: dt.date, hour: int, rng) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)))
    return timezone.make_aware(naive)


def _evidence(user, rng):
    from inspections.demo import demo_photo

    return attachment_store(
        actor=user, upload=demo_photo(rng, (40, 160, 60)), description="整改后照片"
    )


def set_heads() -> int:
    done = 0
    for head in User.objects.filter(username__startswith="head_"):
        unit = head.org_unit
        if unit is not None and unit.head_id != head.pk:
            OrgUnit.objects.filter(pk=unit.pk).update(head=head)
            done += 1
    return done


def _liaison_for(unit, liaisons):
    for scope_path, user in liaisons:
        if unit.path.startswith(scope_path):
            return user
    return None


def _walk(order, plan, people, rng, start: dt.datetime):
    """Drive one order through ``plan`` (a list of steps), each a few days after the last."""
    liaison, office, head = people["liaison"], people["office"], people["head"]
    moment = start
    for action in plan:
        moment += dt.timedelta(days=rng.randint(1, 4))
        # Office hours: people act between 08:30 and 17:30.
        moment = moment.replace(hour=rng.randint(8, 16), minute=rng.randint(30, 59))
        if moment >= timezone.now():
            return
        with clock(moment):
            order.refresh_from_db()
            kwargs = {}
            if action == "acknowledge":
                actor = liaison
            elif action == "submit":
                actor, kwargs = (
                    liaison,
                    {
                        "note": "已按要求整改完毕，附整改后照片。",
                        "attachments": [_evidence(liaison, rng)],
                    },
                )
            elif action == "return":
                actor, kwargs = office, {"note": "整改照片不能反映整改效果，请补充。"}
            elif action == "request_extension":
                actor = liaison
                kwargs = {
                    "note": "需采购设备，申请延期。",
                    "new_deadline": order.deadline + dt.timedelta(days=14),
                }
            elif action == "approve_extension":
                actor, kwargs = head, {"note": "同意延期。"}
            elif action == "cancel":
                actor, kwargs = office, {"note": "经核实该问题已由其他渠道处理。"}
            else:  # verify
                actor = people["verifier"]
            services.rectification_transition(
                rectification=order, actor=actor, action=action, version=order.version, **kwargs
            )


PLANS = [
    (40, ["acknowledge", "submit", "verify"]),
    (10, ["acknowledge", "submit", "return", "acknowledge", "submit", "verify"]),
    (8, ["acknowledge", "submit"]),
    (8, ["acknowledge"]),
    (6, []),
    (5, ["acknowledge", "request_extension"]),
    (4, ["acknowledge", "request_extension", "approve_extension", "submit", "verify"]),
    (3, ["cancel"]),
]


def load(count: int = 84) -> dict:
    """Orders, then complaints and commitments (each part idempotent on its own)."""
    from rectification import demo_complaints

    stats = load_orders(count)
    stats["complaints"] = demo_complaints.load()
    return stats


@transaction.atomic
def load_orders(count: int = 84) -> dict:
    if Rectification.objects.filter(title__startswith=MARKER).exists():
        return {"skipped": "already loaded"}
    users = {
        u.username: u for u in User.objects.filter(username__in=["zxb01", "zxb03", "zxb_head"])
    }
    if len(users) < 3:
        return {"skipped": "demo users missing"}
    heads = set_heads()
    rng = random.Random(20260301)  # noqa: S311 - demo data, not security  # nosec B311
    liaisons = sorted(
        (
            (a.scope.path, a.user)
            for u in User.objects.filter(username__startswith="liaison_").prefetch_related(
                "roles__scope"
            )
            for a in u.roles.all()
            if a.scope
        ),
        key=lambda pair: -len(pair[0]),
    )
    institutions = list(
        OrgUnit.objects.filter(kind="institution", active=True)
        .exclude(institution_type="low_income_household")
        .select_related("supervising_department")
    )
    rng.shuffle(institutions)
    weights = [w for w, _plan in PLANS]
    today = timezone.localdate()
    issued = 0
    for index in range(count):
        unit = institutions[index % len(institutions)]
        liaison = _liaison_for(unit, liaisons)
        if liaison is None:
            continue
        plan = rng.choices([p for _w, p in PLANS], weights=weights)[0]
        # Spread over the year; open orders mostly recent, some already overdue.
        days_ago = rng.randint(5, 70) if len(plan) < 3 else rng.randint(20, 300)
        start = _moment(today - dt.timedelta(days=days_ago), rng.randint(9, 17), rng)
        problem, requirement = PROBLEMS[rng.randrange(len(PROBLEMS))]
        with clock(start):
            order = services.rectification_issue(
                actor=users["zxb01"],
                responsible_unit=unit,
                title=f"{MARKER}{problem}",
                requirements=requirement,
                working_days=rng.choice([5, 10, 10, 15]),
                supervising_department=unit.supervising_department,
                priority=rng.choice(["normal", "normal", "high", "urgent"]),
            )
        people = {
            "liaison": liaison,
            "office": users["zxb03"],
            "head": users["zxb_head"],
            "verifier": users["zxb03"],
        }
        _walk(order, plan, people, rng, start)
        issued += 1
    # Old news is not news: only the last week's steps become notifications.
    recent = timezone.now() - dt.timedelta(days=7)
    TimelineEntry.objects.filter(notified_at__isnull=True, at__lt=recent).update(
        notified_at=timezone.now()
    )
    dispatched = notifications.dispatch_pending(max_age_hours=24 * 7, limit=5000)
    scan = alerts.deadline_scan()
    return {"orders": issued, "heads": heads, "notified_steps": dispatched, "alerts": scan}
