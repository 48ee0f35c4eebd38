"""Inspection data for tests, built through the real services."""

import datetime as dt

from civilaffairs.choices import BottomLine
from inspections.choices import Category, InspectionMethod, Severity
from inspections.services import checklist_create, plan_create, plan_transition

ITEMS = [
    {
        "bottom_line": BottomLine.SAFETY,
        "category": Category.FIRE_HAZARD,
        "text": "消防通道畅通，无堵塞、占用",
        "default_severity": Severity.SERIOUS,
        "legal_basis": "《中华人民共和国消防法》第二十八条",
    },
    {
        "bottom_line": BottomLine.SAFETY,
        "category": Category.FIRE_HAZARD,
        "text": "灭火器在有效期内且压力正常",
        "default_severity": Severity.GENERAL,
    },
    {
        "bottom_line": BottomLine.STABILITY,
        "category": Category.DUTY_ABSENCE,
        "text": "值班人员在岗在位",
        "default_severity": Severity.GENERAL,
    },
]


def make_checklist(city, code="T-FIRE"):
    return checklist_create(
        actor=city["supervisor"], code=code, name="防寒庇护站安全检查表", items=ITEMS
    )


def make_plan(city, *, method=InspectionMethod.UNANNOUNCED, targets=None, approve=True, team=None):
    checklist = make_checklist(city)
    today = dt.date.today()
    plan = plan_create(
        actor=city["supervisor"],
        title="寒潮期间防寒庇护站暗访",
        method=method,
        period_start=today,
        period_end=today + dt.timedelta(days=7),
        team=team or [city["inspector"]],
        templates=[checklist],
        targets=targets or [city.inst_a],
    )
    if approve:
        plan_transition(actor=city["supervisor"], plan=plan, action="submit")
        plan = plan_transition(actor=city["office_head"], plan=plan, action="approve")
    return plan


def make_visit(city, **kwargs):
    """An approved secret plan with one visit to inst_a, assigned to city["inspector"], with one
    checklist of three items."""
    return make_plan(city, **kwargs).visits.get()


def walked_visit(city):
    """A visit to inst_a checked in, its first item failed and the rest passed (not filed)."""
    from inspections import services as inspections

    visit = make_visit(city)
    inspections.visit_checkin(
        actor=city["inspector"], visit=visit, latitude=23.12, longitude=113.26
    )
    for item in visit.templates.get().items.all():
        inspections.result_record(
            actor=city["inspector"],
            visit=visit,
            item=item,
            outcome="fail" if item.position == 1 else "pass",
        )
    return visit
