"""Complaints and commitments for tests, through the real services."""

import datetime as dt

from django.utils import timezone

from rectification import commitments, complaints
from tests.rectification_data import step

NAME = "张三丰"
PHONE = "13912348765"


def register(city, **kw):
    kw.setdefault("channel", "phone")
    kw.setdefault("domain", "social_assistance")
    kw.setdefault("nature", "personal")
    kw.setdefault("title", "低保金发放延迟")
    kw.setdefault("content", "反映本月低保金未按时到账，请求核查。")
    kw.setdefault("complainant_name", NAME)
    kw.setdefault("complainant_phone", PHONE)
    kw.setdefault("consent", True)
    kw.setdefault("district", city.district_a)
    return complaints.complaint_create(actor=kw.pop("actor", city["supervisor"]), **kw)


def act(complaint, actor, action, **kw):
    complaint.refresh_from_db()
    kw.setdefault("version", complaint.version)
    return complaints.complaint_transition(complaint=complaint, actor=actor, action=action, **kw)


def triage(city, complaint, unit=None, **kw):
    return act(complaint, city["supervisor"], "triage", responsible_unit=unit or city.inst_a, **kw)


def handled(city, complaint, unit=None):
    """Triaged to ``unit`` (inst_a by default), acknowledged and reported by its liaison."""
    complaint = triage(city, complaint, unit=unit)
    order = complaint.order
    liaison = (
        city["liaison_a"]
        if order.responsible_unit.path.startswith(city.district_a.path)
        else city["liaison_b"]
    )
    order = step(order, liaison, "acknowledge")
    step(order, liaison, "submit", note="已核查并补发")
    complaint.refresh_from_db()
    return complaint


def replied(city, complaint, reply_to="complainant"):
    complaint = handled(city, complaint)
    return act(
        complaint, city["office_head"], "reply", reply_to=reply_to, content="已电话答复，已补发"
    )


def commitment(city, **kw):
    kw.setdefault("problem", "低保审批时间过长")
    kw.setdefault("department", city.dept_relief)
    kw.setdefault("promise", "三个月内审批时限压缩到15个工作日，年底前全面实现网上办理。")
    kw.setdefault("deadline", timezone.localdate() + dt.timedelta(days=200))
    kw.setdefault(
        "milestones",
        [
            ("群众可感知的明显改善", timezone.localdate() + dt.timedelta(days=90)),
            ("根本性转变", timezone.localdate() + dt.timedelta(days=190)),
        ],
    )
    return commitments.commitment_create(actor=kw.pop("actor", city["supervisor"]), **kw)
