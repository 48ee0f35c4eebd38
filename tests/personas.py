"""A small city and one persona per role, built through the real services.

District A and district B each have an institution; 社会救助处 supervises the one in A, 养老服务处
the one in B. So every scoped persona has something in scope and something out of it."""

from dataclasses import dataclass, field

from civilaffairs.choices import Role
from civilaffairs.models import OrgUnit, User
from civilaffairs.services import orgunit_create, user_create

PASSWORD = "Test@2026pw"


@dataclass
class City:
    root: OrgUnit
    office: OrgUnit
    dept_relief: OrgUnit
    dept_elder: OrgUnit
    district_a: OrgUnit
    street_a: OrgUnit
    inst_a: OrgUnit
    district_b: OrgUnit
    inst_b: OrgUnit
    affiliated: OrgUnit
    users: dict[str, User] = field(default_factory=dict)
    staff_a: User | None = None
    staff_b: User | None = None

    def __getitem__(self, name) -> User:
        return self.users[name]


def build_city() -> City:
    def unit(parent, code, name, kind, **extra):
        return orgunit_create(actor=None, parent=parent, code=code, name=name, kind=kind, **extra)

    root = unit(None, "T", "测试市民政局", "bureau")
    office = unit(root, "T-ZXB", "五·五专项工作办公室", "department")
    dept_relief = unit(root, "T-JZ", "社会救助处", "department")
    dept_elder = unit(root, "T-YL", "养老服务处", "department")
    district_a = unit(root, "T-A", "甲区民政局", "district_bureau")
    street_a = unit(district_a, "T-A-1", "甲区东街道", "street")
    inst_a = unit(
        street_a,
        "T-A-1-1",
        "甲区东街防寒庇护站",
        "institution",
        institution_type="cold_shelter",
        supervising_department=dept_relief,
        latitude="23.120000",
        longitude="113.260000",
        contact_phone="13800138000",
    )
    district_b = unit(root, "T-B", "乙区民政局", "district_bureau")
    inst_b = unit(
        district_b,
        "T-B-1",
        "乙区颐养院",
        "institution",
        institution_type="elder_care",
        supervising_department=dept_elder,
    )
    affiliated = unit(root, "T-FLY", "测试市社会福利院", "affiliated_unit")
    city = City(
        root,
        office,
        dept_relief,
        dept_elder,
        district_a,
        street_a,
        inst_a,
        district_b,
        inst_b,
        affiliated,
    )

    def person(username, real_name, org_unit, roles):
        city.users[username] = user_create(
            actor=None,
            username=username,
            real_name=real_name,
            password=PASSWORD,
            org_unit=org_unit,
            phone="13912345678",
            roles=roles,
        )
        return city.users[username]

    person("sysadmin", "系统管理员", None, [(Role.SYSADMIN, None)])
    person("auditor", "审计员", None, [(Role.AUDITOR, None)])
    person("supervisor", "督查员", office, [(Role.SUPERVISOR, None)])
    person("office_head", "专项办负责人", office, [(Role.OFFICE_HEAD, None)])
    person("inspector", "检查员", office, [(Role.INSPECTOR, None)])
    person("liaison_a", "甲区联络员", district_a, [(Role.UNIT_LIAISON, district_a)])
    person("liaison_b", "乙区联络员", district_b, [(Role.UNIT_LIAISON, district_b)])
    person("department", "救助处干部", dept_relief, [(Role.DEPARTMENT, dept_relief)])
    person("leader", "局长", root, [(Role.LEADER, None)])
    person("leader_a", "甲区分管领导", district_a, [(Role.LEADER, district_a)])
    city.staff_a = person("staff_a", "甲区庇护站员工", inst_a, [])
    city.staff_b = person("staff_b", "乙区颐养院员工", inst_b, [])
    return city
