"""Demo inspections: checklists drawn from the seed documents, the completed cold-weather
unannounced campaign of seed 000 (11 districts; 22 elder-care homes, 32 low-income households,
30 shelters, 17 veterans' service stations, 5 funeral homes; 142 problems, 139 fixed on site,
3 transferred), and one unannounced plan in progress.

Idempotent: each plan is found by its title and not loaded twice. Deterministic: one seeded
random generator."""

import datetime as dt
import io
import random
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from PIL import Image, ImageDraw

from civilaffairs.models import OrgUnit, User
from inspections import services
from inspections.choices import Disposition, FindingState, InspectionMethod, PlanState, VisitState
from inspections.models import ChecklistTemplate, Finding, InspectionPlan, Photo, Visit

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAMPAIGN_TITLE = "2026年1月寒潮期间民政服务对象防寒保暖专项暗访"
CURRENT_TITLE = "2026年冬季养老机构消防安全暗访（第二轮）"


def item(bottom_line, category, text, severity="general", legal_basis="", cornerstone=""):
    return {
        "bottom_line": bottom_line,
        "category": category,
        "text": text,
        "default_severity": severity,
        "legal_basis": legal_basis,
        "cornerstone": cornerstone,
    }


FIRE_LAW = "《中华人民共和国消防法》第十六条、第二十八条"
CHECKLISTS = [
    {
        "code": "FIRE",
        "name": "消防安全检查表",
        "institution_types": [],
        "items": [
            item(
                "safety",
                "fire_hazard",
                "疏散通道、安全出口畅通，无堵塞、占用、锁闭",
                "serious",
                FIRE_LAW,
                "standards",
            ),
            item(
                "safety",
                "fire_hazard",
                "灭火器配置到位、在有效期内且压力正常",
                "general",
                "《建筑灭火器配置设计规范》",
            ),
            item(
                "safety",
                "fire_hazard",
                "微型消防站器材齐全，人员熟悉使用",
                "general",
                "《消防安全重点单位微型消防站建设标准》",
                "foundations",
            ),
            item(
                "safety",
                "irregular_management",
                "明确消防安全责任人、管理人并公示",
                "general",
                "《机关、团体、企业、事业单位消防安全管理规定》第四条",
            ),
            item(
                "safety",
                "fire_hazard",
                "无电动车室内停放、违规充电及私拉乱接电线",
                "serious",
                FIRE_LAW,
            ),
        ],
    },
    {
        "code": "DUTY",
        "name": "节假日值班在岗检查表",
        "institution_types": [],
        "items": [
            item(
                "stability",
                "duty_absence",
                "值班表张贴公示，领导带班、人员值班落实",
                "general",
                "《广州市民政局值班工作制度》",
            ),
            item("stability", "duty_absence", "值班人员在岗在位，电话畅通", "serious"),
            item("stability", "irregular_management", "值班记录、交接班记录完整", "general"),
        ],
    },
    {
        "code": "WINDOW",
        "name": "服务窗口检查表",
        "institution_types": ["marriage_registry", "funeral_home", "rescue_station"],
        "items": [
            item("ethics", "poor_service", "窗口人员按时到岗，着装规范、亮证服务", "general"),
            item("ethics", "poor_service", "服务态度热情，使用规范文明用语", "general"),
            item(
                "integrity",
                "integrity_risk",
                "收费项目和标准公示，无乱收费",
                "serious",
                "《殡葬管理条例》",
            ),
        ],
    },
    {
        "code": "COLD",
        "name": "防寒保暖检查表",
        "institution_types": [
            "cold_shelter",
            "elder_care",
            "low_income_household",
            "veteran_service",
            "funeral_home",
            "rescue_station",
            "welfare_home",
        ],
        "items": [
            item(
                "disaster_relief",
                "poor_service",
                "防寒物资（棉被、棉衣、热水、热食）储备充足",
                "general",
                "《广州市寒冷天气防御指引》",
                "essentials",
            ),
            item(
                "disaster_relief",
                "poor_service",
                "防寒庇护场所按预警及时开放，标识清晰",
                "serious",
                "",
                "grassroots",
            ),
            item("safety", "safety_hazard", "取暖设备使用安全，无烧炭取暖等隐患", "serious"),
            item(
                "disaster_relief",
                "irregular_management",
                "困难群众底数清楚，走访慰问记录完整",
                "general",
                "",
                "baseline_data",
            ),
        ],
    },
    {
        "code": "RESCUE",
        "name": "流浪乞讨人员救助指引检查表",
        "institution_types": ["rescue_station", "cold_shelter"],
        "items": [
            item("ethics", "poor_service", "街面巡查开展，发现流浪乞讨人员主动引导救助", "general"),
            item("ethics", "poor_service", "救助指引牌、求助电话公示清晰", "general"),
            item(
                "stability", "stability_risk", "受助人员信息登记规范，特殊人员及时处置", "serious"
            ),
        ],
    },
    {
        "code": "ELDER",
        "name": "养老机构安全管理检查表",
        "institution_types": ["elder_care"],
        "items": [
            item(
                "safety",
                "safety_hazard",
                "食品留样、厨房燃气安全管理到位",
                "serious",
                "《养老机构服务安全基本规范》",
            ),
            item(
                "safety",
                "safety_hazard",
                "老年人居室紧急呼叫装置完好",
                "general",
                "《养老机构服务安全基本规范》",
            ),
            item("ethics", "poor_service", "护理人员配备满足要求，无侮辱、虐待老年人行为", "major"),
        ],
    },
    {
        "code": "FUNERAL",
        "name": "殡仪服务检查表",
        "institution_types": ["funeral_home"],
        "items": [
            item("integrity", "integrity_risk", "无违规销售高价殡葬用品、捆绑收费", "serious"),
            item("ethics", "poor_service", "遗体接运及时，服务流程公开", "general"),
        ],
    },
]

CAMPAIGN_TYPES = {
    "elder_care": 22,
    "low_income_household": 32,
    "cold_shelter": 30,
    "veteran_service": 17,
    "funeral_home": 5,
}

PROBLEMS = [
    ("safety", "fire_hazard", "疏散通道堆放杂物", "二楼疏散通道堆放床垫、纸箱等杂物", "已当场清理"),
    ("safety", "fire_hazard", "灭火器压力不足", "一楼走廊灭火器压力指针处于红区", "已更换灭火器"),
    (
        "safety",
        "fire_hazard",
        "电动车在楼道内充电",
        "楼梯间有电动车充电，私拉电线",
        "已移出并拆除线路",
    ),
    ("disaster_relief", "poor_service", "防寒被褥储备不足", "储备棉被不足10床", "已调拨补充棉被"),
    (
        "disaster_relief",
        "poor_service",
        "庇护站未张贴开放公告",
        "站点入口无开放时间和求助电话",
        "已张贴公告",
    ),
    ("safety", "safety_hazard", "取暖器靠近可燃物", "房间取暖器紧贴窗帘使用", "已挪开并提醒"),
    (
        "stability",
        "duty_absence",
        "值班人员不在岗",
        "值班室无人，电话无人接听",
        "已联系值班人员返岗",
    ),
    ("ethics", "poor_service", "救助指引牌缺失", "路口救助指引牌被遮挡", "已清理遮挡物"),
    (
        "disaster_relief",
        "irregular_management",
        "走访记录不完整",
        "困难户走访台账缺少近两周记录",
        "已督促补记",
    ),
    ("safety", "safety_hazard", "应急照明灯损坏", "走廊应急照明灯不亮", "已更换"),
]
TRANSFERRED = [
    (
        "disaster_relief",
        "irregular_management",
        "低保家庭救助政策落实不到位",
        "该户临时救助申请逾期未审批",
        "GZMZ-SHJZ",
    ),
    (
        "ethics",
        "poor_service",
        "退役军人服务站服务时间不固定",
        "站点未按公示时间开放，群众反映找不到人",
        "GZMZ-YFAZ",
    ),
    ("integrity", "integrity_risk", "殡仪馆殡葬用品价格未公示", "部分骨灰盒未标价", "GZMZ-SHSW"),
]


def demo_photo(rng: random.Random, label_colour) -> SimpleUploadedFile:
    """A small generated 'scene': what a phone would send, without anyone's real photo."""
    image = Image.new("RGB", (960, 720), (rng.randint(150, 210),) * 3)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randint(0, 800), rng.randint(0, 560)
        draw.rectangle(
            [x, y, x + rng.randint(60, 240), y + rng.randint(60, 200)],
            fill=tuple(rng.randint(40, 230) for _ in range(3)),
        )
    draw.rectangle([20, 20, 200, 80], fill=label_colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")


def load_checklists(actor) -> dict[str, ChecklistTemplate]:
    templates = {}
    for spec in CHECKLISTS:
        current = ChecklistTemplate.objects.filter(code=spec["code"], is_current=True).first()
        templates[spec["code"]] = current or services.checklist_create(
            actor=actor,
            code=spec["code"],
            name=spec["name"],
            items=spec["items"],
            institution_types=spec["institution_types"],
        )
    return templates


def _pick_targets(rng):
    chosen = []
    for institution_type, count in CAMPAIGN_TYPES.items():
        pool = list(
            OrgUnit.objects.filter(institution_type=institution_type, active=True).order_by("code")
        )
        chosen += rng.sample(pool, min(count, len(pool)))
    return chosen


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@transaction.atomic
def load_campaign(templates, users, rng) -> int:
    if InspectionPlan.objects.filter(title=CAMPAIGN_TITLE).exists():
        return 0
    office, head = users["zxb01"], users["zxb_head"]
    team = [users["zxb01"], users["zxb02"], users["inspector1"], users["inspector2"]]
    targets = _pick_targets(rng)
    start = dt.date(2026, 1, 12)
    plan = services.plan_create(
        actor=office,
        title=CAMPAIGN_TITLE,
        method=InspectionMethod.UNANNOUNCED,
        period_start=start,
        period_end=start + dt.timedelta(days=4),
        description="寒潮蓝色预警期间，对全市民政服务对象防寒保暖措施落实情况开展暗访，"
        "同时检查消防安全和流浪乞讨人员救助指引。",
        cornerstones=["essentials", "grassroots"],
        team=team,
        templates=[templates["COLD"], templates["FIRE"], templates["RESCUE"]],
        targets=targets,
    )
    services.plan_transition(actor=office, plan=plan, action="submit")
    services.plan_transition(actor=head, plan=plan, action="approve")
    departments = {u.code: u for u in OrgUnit.objects.filter(kind="department")}
    # 142 problems over the visits: 139 fixed on site, 3 transferred (seed 000).
    visits = list(plan.visits.select_related("target").order_by("target__code"))
    per_visit = [1] * len(visits)
    for _ in range(142 - len(visits)):
        per_visit[rng.randrange(len(visits))] += 1
    transfer_at = set(rng.sample(range(len(visits)), len(TRANSFERRED)))
    transfers = iter(TRANSFERRED)
    for index, visit in enumerate(visits):
        day = start + dt.timedelta(days=index % 5)
        inspector = team[index % len(team)]
        visit.inspectors.set([inspector, team[(index + 1) % len(team)]])
        target = visit.target
        lat = float(target.latitude or 23.13) + rng.uniform(-0.0004, 0.0004)
        lng = float(target.longitude or 113.26) + rng.uniform(-0.0004, 0.0004)
        services.visit_checkin(
            actor=inspector,
            visit=visit,
            latitude=lat,
            longitude=lng,
            accuracy=rng.choice([8, 12, 20, 35]),
            at=timezone.now(),
        )
        count = per_visit[index]
        for template in visit.templates.all():
            for checklist_item in template.items.all():
                services.result_record(
                    actor=inspector,
                    visit=visit,
                    item=checklist_item,
                    outcome=rng.choice(["pass"] * 8 + ["na"]),
                )
        for n in range(count):
            if index in transfer_at and n == 0:
                bottom_line, category, title, description, dept = next(transfers)
                finding, _ = services.finding_create(
                    actor=inspector,
                    visit=visit,
                    title=title,
                    description=description,
                    bottom_line=bottom_line,
                    category=category,
                    severity="serious",
                    disposition=Disposition.TRANSFERRED,
                    transferred_to=departments[dept],
                    location=target.address,
                )
                services.photo_add(
                    actor=inspector,
                    visit=visit,
                    finding=finding,
                    upload=demo_photo(rng, (200, 40, 40)),
                )
                continue
            bottom_line, category, title, description, fix = rng.choice(PROBLEMS)
            finding, _ = services.finding_create(
                actor=inspector,
                visit=visit,
                title=title,
                description=description,
                bottom_line=bottom_line,
                category=category,
                severity=rng.choice(["general"] * 5 + ["serious"]),
                disposition=Disposition.FIXED_ON_SITE,
                fix_note=fix,
                location=rng.choice(["一楼大厅", "二楼走廊", "楼梯间", "值班室", "厨房", "门口"]),
            )
            services.photo_add(
                actor=inspector, visit=visit, finding=finding, upload=demo_photo(rng, (200, 40, 40))
            )
            services.photo_add(
                actor=inspector,
                visit=visit,
                finding=finding,
                kind="after",
                upload=demo_photo(rng, (40, 160, 60)),
            )
        services.visit_submit(
            actor=inspector, visit=visit, summary=f"现场发现问题{count}条，已督促整改。"
        )
        # The campaign happened in January: put the record's times where they belong.
        checked_in = _at(day, 19 + index % 3, (index * 7) % 60)
        Visit.objects.filter(pk=visit.pk).update(
            scheduled_date=day,
            started_at=checked_in,
            submitted_at=checked_in + dt.timedelta(minutes=40),
        )
        Finding.objects.filter(visit=visit).update(
            found_at=checked_in + dt.timedelta(minutes=15),
            filed_at=checked_in + dt.timedelta(minutes=40),
        )
        Finding.objects.filter(visit=visit, state=FindingState.CLOSED).update(
            closed_at=checked_in + dt.timedelta(minutes=40)
        )
    services.plan_transition(actor=office, plan=plan, action="complete")
    InspectionPlan.objects.filter(pk=plan.pk).update(
        created_at=_at(start - dt.timedelta(days=2), 10),
        approved_at=_at(start - dt.timedelta(days=1), 16),
    )
    return len(visits)


@transaction.atomic
def load_current(templates, users, rng) -> int:
    if InspectionPlan.objects.filter(title=CURRENT_TITLE).exists():
        return 0
    office, head = users["zxb02"], users["zxb_head"]
    team = [users["inspector1"], users["inspector3"], users["zxb01"]]
    today = timezone.localdate()
    plan = services.plan_create(
        actor=office,
        title=CURRENT_TITLE,
        method=InspectionMethod.UNANNOUNCED,
        period_start=today - dt.timedelta(days=1),
        period_end=today + dt.timedelta(days=6),
        description="随机抽取养老机构开展消防安全暗访，重点检查疏散通道和电动车充电。",
        team=team,
        templates=[templates["FIRE"], templates["ELDER"]],
        scope_mode="draw",
        institution_types=["elder_care"],
        draw_count=12,
        draw_seed=20261124,
        scheduled_date=today,
    )
    services.plan_transition(actor=office, plan=plan, action="submit")
    services.plan_transition(actor=head, plan=plan, action="approve")
    # Two visits done, one under way, the rest still secret.
    for index, visit in enumerate(
        plan.visits.select_related("target").order_by("target__code")[:3]
    ):
        inspector = users["inspector1"]
        services.visit_checkin(
            actor=inspector,
            visit=visit,
            latitude=float(visit.target.latitude),
            longitude=float(visit.target.longitude),
            accuracy=10,
        )
        if index == 2:
            break
        for template in visit.templates.all():
            for n, checklist_item in enumerate(template.items.all()):
                services.result_record(
                    actor=inspector,
                    visit=visit,
                    item=checklist_item,
                    outcome="fail" if (index, n) == (0, 0) else "pass",
                    note="二楼疏散通道被护理床堵塞" if (index, n) == (0, 0) else "",
                )
        if index == 0:
            finding, _ = services.finding_create(
                actor=inspector,
                visit=visit,
                title="厨房燃气报警器失效",
                description="燃气报警器测试无反应",
                bottom_line="safety",
                category="safety_hazard",
                severity="major",
                disposition=Disposition.RECTIFY_BY_DEADLINE,
                location="厨房",
            )
            services.photo_add(
                actor=inspector, visit=visit, finding=finding, upload=demo_photo(rng, (200, 40, 40))
            )
        services.visit_submit(actor=inspector, visit=visit, summary="已检查完毕。")
    return plan.visits.count()


def relink_repeats():
    """The campaign's times were moved into January after filing: link repeats anew."""
    groups = Finding.objects.values_list("target_id", "category").annotate(since=Min("found_at"))
    for target_id, category, since in groups.order_by():
        services.repeats_relink(target_id=target_id, category=category, since=since)


def load(stdout=None) -> dict:
    rng = random.Random(20260112)  # noqa: S311 - demo data, not security  # nosec B311
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["zxb01", "zxb02", "zxb_head", "inspector1", "inspector2", "inspector3"]
        )
    }
    if len(users) < 6:
        return {"skipped": "demo users missing"}
    templates = load_checklists(users["zxb01"])
    campaign = load_campaign(templates, users, rng)
    current = load_current(templates, users, rng)
    relink_repeats()
    return {
        "checklists": len(templates),
        "campaign_visits": campaign,
        "current_visits": current,
        "photos": Photo.objects.count(),
        "states": list(InspectionPlan.objects.values_list("state", flat=True)),
    }


__all__ = ["PlanState", "VisitState", "load"]
