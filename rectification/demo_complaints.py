"""Demo complaints and public commitments, driven through the real services on a moved clock:
cases from every channel, domain and nature in every state — one reopened after an unsatisfied
return visit, one merged duplicate, some past their reply deadline — and a handful of public
commitments with milestones and progress. Idempotent: a second run adds nothing."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from civilaffairs import notifications
from civilaffairs.demo.city import demo_id_number
from civilaffairs.models import OrgUnit, TimelineEntry, User
from rectification import alerts
from rectification import commitments as commitment_service
from rectification import complaints as service
from rectification import services as engine
from rectification.demo import _evidence, _liaison_for, _moment, clock
from rectification.models import Commitment, Complaint

# channel, referring body, domain, nature, title, content, plan
# plan: received · triaged · late (triaged long ago, unit silent) · replied · closed ·
# basically · reopened · duplicate (merged into the case before it)
CASES = [
    (
        "hotline_12345",
        "广州12345政府服务热线",
        "social_assistance",
        "personal",
        "低保金本月未到账",
        "来电人反映其家庭本月低保金未按时发放，请求核查。",
        "closed",
    ),
    (
        "hotline_12345",
        "广州12345政府服务热线",
        "social_assistance",
        "personal",
        "低保金本月未到账（重复来电）",
        "同一来电人再次反映低保金未到账。",
        "duplicate",
    ),
    (
        "phone",
        "",
        "elder_care",
        "attitude",
        "养老院护理员态度生硬",
        "家属反映护理员对老人说话粗暴，要求处理。",
        "reopened",
    ),
    (
        "online",
        "",
        "marriage",
        "consultation",
        "补领结婚证需要哪些材料",
        "网友咨询补领结婚证的材料和办理地点。",
        "closed",
    ),
    (
        "referral",
        "市信访局",
        "veterans",
        "personal",
        "退役军人优待证办理进度",
        "上级转来信件，反映优待证申请两个月未办结。",
        "replied",
    ),
    (
        "petition",
        "",
        "funeral",
        "report",
        "殡仪馆违规加收费用",
        "来信举报殡仪馆在公示价格外加收服务费。",
        "triaged",
    ),
    (
        "mailbox",
        "",
        "community",
        "suggestion",
        "建议社区增设长者饭堂",
        "意见箱收到居民建议，在社区增设长者饭堂。",
        "basically",
    ),
    (
        "forum",
        "",
        "social_welfare",
        "suggestion",
        "建议提高孤儿基本生活费标准",
        "座谈会上代表建议提高孤儿基本生活费。",
        "received",
    ),
    (
        "visit",
        "",
        "disaster_relief",
        "personal",
        "受灾房屋修缮补助未落实",
        "走访中群众反映去年受灾房屋修缮补助未落实。",
        "late",
    ),
    (
        "online",
        "",
        "place_names",
        "consultation",
        "新建道路命名程序咨询",
        "网友咨询新建道路命名的程序和时限。",
        "closed",
    ),
    (
        "hotline_12345",
        "广州12345政府服务热线",
        "lottery",
        "report",
        "福彩销售点向未成年人售彩",
        "市民举报某福彩销售点向未成年人销售彩票。",
        "late",
    ),
    (
        "phone",
        "",
        "social_affairs",
        "attitude",
        "救助站工作人员推诿",
        "来电人反映救助站值班人员推诿求助人员。",
        "closed",
    ),
    (
        "referral",
        "省民政厅",
        "elder_care",
        "personal",
        "养老服务补贴申请被退回",
        "省厅转办：群众反映养老服务补贴申请被多次退回。",
        "triaged",
    ),
    (
        "online",
        "",
        "social_assistance",
        "suggestion",
        "建议简化临时救助申请材料",
        "网友建议简化临时救助申请材料。",
        "replied",
    ),
    (
        "phone",
        "",
        "marriage",
        "attitude",
        "婚姻登记处窗口排长队",
        "来电反映婚姻登记处窗口少、排队时间长。",
        "received",
    ),
    (
        "petition",
        "",
        "community",
        "personal",
        "社区居委会拒开证明",
        "来信反映社区居委会拒绝开具居住证明。",
        "late",
    ),
    (
        "mailbox",
        "",
        "funeral",
        "consultation",
        "节地生态安葬补贴标准",
        "意见箱留言咨询节地生态安葬的补贴标准。",
        "closed",
    ),
    (
        "visit",
        "",
        "veterans",
        "suggestion",
        "建议增加退役军人就业招聘会",
        "走访中退役军人建议增加专场招聘会。",
        "received",
    ),
]

NAMES = ["陈志强", "李秀英", "王建华", "张丽娟", "刘伟", "黄美玲", "林国栋", "何雪梅", "郭海涛"]

COMMITMENTS = [
    (
        "低保审批时间过长",
        "GZMZ-SHJZ",
        "三个月内将低保审批时限压缩到15个工作日，年底前全面实现网上申请、网上审批。",
        [(90, "审批时限压缩到15个工作日，群众可感知的明显改善"), (300, "全面实现网上办理")],
        320,
        ["已取消3项证明材料，审批环节由5个减为3个。", "网上申请系统完成测试，进入试运行。"],
        "open",
    ),
    (
        "养老机构消防安全隐患多",
        "GZMZ-YLFW",
        "半年内完成全市养老机构消防隐患全面整改，年底前实现消防设施智能监测全覆盖。",
        [(60, "完成全市养老机构隐患排查"), (180, "隐患整改完成率100%")],
        200,
        ["已完成全市养老机构隐患排查，发现隐患126处。"],
        "open",
    ),
    (
        "婚姻登记预约难",
        "GZMZ-SHJZ",
        "一个月内上线婚姻登记网上预约，预约号源每日不少于200个。",
        [(20, "网上预约上线")],
        30,
        ["网上预约已上线，每日号源240个。"],
        "fulfilled",
    ),
    (
        "长者饭堂覆盖不足",
        "GZMZ-YLFW",
        "年底前实现长者饭堂街道全覆盖，重点社区就餐半径不超过15分钟。",
        [(30, "完成选址规划"), (70, "新增长者饭堂20个")],
        80,
        ["完成选址规划，确定新增点位22个。"],
        "late",
    ),
]


def _people():
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["zxb01", "zxb02", "zxb_head", "dept_jiuzhu", "dept_yanglao"]
        )
    }
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
    return users, liaisons


def _at(start, days, rng):
    moment = start + dt.timedelta(days=days)
    return moment.replace(hour=rng.randint(9, 16), minute=rng.randint(0, 59))


def _walk_case(index, case, users, units, liaisons, rng, today):
    channel, body, domain, nature, title, content, plan = case
    office, head = users["zxb01"], users["zxb_head"]
    late = plan == "late"
    days_ago = rng.randint(25, 40) if late else rng.randint(20, 60)
    if plan in ("received", "triaged"):
        # Recent, but every step in the past: triage is a day after receipt.
        days_ago = rng.randint(2, 4)
    start = _moment(today - dt.timedelta(days=days_ago), rng.randint(9, 16), rng)
    anonymous = channel == "mailbox"
    name = "" if anonymous else NAMES[index % len(NAMES)]
    with clock(start):
        complaint = service.complaint_create(
            actor=office,
            channel=channel,
            domain=domain,
            nature=nature,
            title=title,
            content=content,
            complainant_name=name,
            complainant_phone="" if anonymous else f"139{rng.randint(10000000, 99999999)}",
            # A personal request (assistance, a pension…) is about the person: their ID number
            # is kept. Its own generator leaves the other demo draws as they were.
            complainant_id_number=(
                demo_id_number(random.Random(f"complaint-{index}"))  # noqa: S311  # nosec B311
                if nature == "personal" and not anonymous
                else ""
            ),
            consent=not anonymous,
            referring_body=body,
            reference_number=f"{start:%Y%m%d}{index:03d}" if body else "",
            district=rng.choice(units["districts"]),
        )
    if plan == "received":
        return complaint
    if plan == "duplicate":
        original = Complaint.objects.filter(title=title.split("（")[0]).first()
        with clock(_at(start, 0, rng) + dt.timedelta(hours=1)):
            service.complaint_transition(
                complaint=complaint,
                actor=office,
                action="merge",
                into=original,
                note="同一来电人就同一事项重复来电。",
                version=complaint.version,
            )
        return complaint
    by_department = domain in ("social_assistance", "elder_care") and index % 2 == 0
    if by_department:
        unit = units["relief"] if domain == "social_assistance" else units["elder"]
        handler = users["dept_jiuzhu"] if unit == units["relief"] else users["dept_yanglao"]
    else:
        unit = rng.choice(units["institutions"])
        handler = _liaison_for(unit, liaisons)
    moment = _at(start, 1, rng)
    with clock(moment):
        complaint = service.complaint_transition(
            complaint=complaint,
            actor=office,
            action="triage",
            responsible_unit=unit,
            note="请核实情况，依法依规处理并按期回告。",
            version=complaint.version,
        )
    order = complaint.order
    if plan in ("triaged", "late"):
        if late:
            with clock(_at(moment, 1, rng)):
                engine.rectification_transition(
                    rectification=order, actor=handler, action="acknowledge", version=order.version
                )
        return complaint
    # One round: the unit reports, the office replies, then the return visit (a reopened case
    # stays reopened, waiting for the unit again).
    for round_ in range(1):
        moment = _at(moment, rng.randint(1, 3), rng)
        if moment >= timezone.now():
            return complaint
        with clock(moment):
            order.refresh_from_db()
            order = engine.rectification_transition(
                rectification=order, actor=handler, action="acknowledge", version=order.version
            )
            order = engine.rectification_transition(
                rectification=order,
                actor=handler,
                action="submit",
                note="已核实并处理，附处理情况说明。",
                attachments=[_evidence(handler, rng)],
                version=order.version,
            )
        moment = _at(moment, 1, rng)
        if moment >= timezone.now():
            return complaint
        with clock(moment):
            complaint.refresh_from_db()
            complaint = service.complaint_transition(
                complaint=complaint,
                actor=office,
                action="reply",
                reply_to="referrer" if body else "complainant",
                content="经核查，已按政策处理完毕，并向当事人说明。",
                version=complaint.version,
            )
        if plan == "replied":
            return complaint
        moment = _at(moment, rng.randint(1, 3), rng)
        if moment >= timezone.now():
            return complaint
        satisfaction = {"basically": "basically"}.get(plan, "satisfied")
        if plan == "reopened" and round_ == 0:
            satisfaction = "unsatisfied"
        if anonymous:
            with clock(moment):
                return service.complaint_transition(
                    complaint=complaint,
                    actor=office,
                    action="close",
                    note="匿名意见，已在公示栏答复。",
                    version=complaint.version,
                )
        with clock(moment):
            complaint = service.complaint_transition(
                complaint=complaint,
                actor=head if round_ else office,
                action="return_visit",
                satisfaction=satisfaction,
                note="家属认为处理过轻，要求重新处理。" if satisfaction == "unsatisfied" else "",
                version=complaint.version,
            )
        order.refresh_from_db()
    return complaint


def _commitments(users, units, rng, today) -> int:
    made = 0
    for problem, dept_code, promise, milestones, days, updates, plan in COMMITMENTS:
        department = units["departments"][dept_code]
        handler = users["dept_jiuzhu"] if dept_code == "GZMZ-SHJZ" else users["dept_yanglao"]
        made_days_ago = {"fulfilled": 45, "late": 95}.get(plan, rng.randint(20, 50))
        start = _moment(today - dt.timedelta(days=made_days_ago), 10, rng)
        with clock(start):
            commitment = commitment_service.commitment_create(
                actor=users["zxb_head"],
                problem=problem,
                department=department,
                promise=promise,
                deadline=start.date() + dt.timedelta(days=days),
                milestones=[(t, start.date() + dt.timedelta(days=d)) for d, t in milestones],
            )
        pending = list(commitment.milestones.order_by("due_date"))
        for number, text in enumerate(updates, start=1):
            moment = start + dt.timedelta(days=number * 12)
            if moment >= timezone.now():
                break
            reached = pending.pop(0) if pending and plan != "late" and number == 1 else None
            with clock(moment):
                commitment_service.commitment_progress(
                    actor=handler, commitment=commitment, content=text, reached=reached
                )
        if plan == "fulfilled":
            order = commitment.order
            with clock(start + dt.timedelta(days=25)):
                order = engine.rectification_transition(
                    rectification=order, actor=handler, action="acknowledge", version=order.version
                )
                order = engine.rectification_transition(
                    rectification=order,
                    actor=handler,
                    action="submit",
                    note="预约系统已上线运行。",
                    attachments=[_evidence(handler, rng)],
                    version=order.version,
                )
            with clock(start + dt.timedelta(days=27)):
                engine.rectification_transition(
                    rectification=order, actor=users["zxb02"], action="verify"
                )
        made += 1
    return made


@transaction.atomic
def load() -> dict:
    if Complaint.objects.exists() or Commitment.objects.exists():
        return {"skipped": "already loaded"}
    users, liaisons = _people()
    if len(users) < 5:
        return {"skipped": "demo users missing"}
    rng = random.Random(20260707)  # noqa: S311 - demo data, not security  # nosec B311
    departments = {u.code: u for u in OrgUnit.objects.filter(kind="department")}
    institutions = [
        unit
        for unit in OrgUnit.objects.filter(kind="institution", active=True)
        .exclude(institution_type="low_income_household")
        .order_by("path")
        if _liaison_for(unit, liaisons) is not None
    ]
    units = {
        "departments": departments,
        "relief": departments["GZMZ-SHJZ"],
        "elder": departments["GZMZ-YLFW"],
        "institutions": institutions,
        "districts": list(OrgUnit.objects.filter(kind="district_bureau").order_by("path")),
    }
    today = timezone.localdate()
    states = {}
    for index, case in enumerate(CASES):
        complaint = _walk_case(index, case, users, units, liaisons, rng, today)
        complaint.refresh_from_db()
        states[complaint.state] = states.get(complaint.state, 0) + 1
    made = _commitments(users, units, rng, today)
    # As for the orders: only the last week's steps become notifications, then today's scan
    # warns and escalates the complaints' and commitments' orders too.
    recent = timezone.now() - dt.timedelta(days=7)
    TimelineEntry.objects.filter(notified_at__isnull=True, at__lt=recent).update(
        notified_at=timezone.now()
    )
    dispatched = notifications.dispatch_pending(max_age_hours=24 * 7, limit=5000)
    scan = alerts.deadline_scan()
    return {"complaints": states, "commitments": made, "notified": dispatched, "alerts": scan}
