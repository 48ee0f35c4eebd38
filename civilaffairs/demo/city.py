"""The demo city: a Guangzhou-like civil-affairs system, as plain data.

Everything here is deterministic (each district draws from its own seeded ``random.Random``), so
``load_demo`` can be run any number of times and always describes the same units and people.
Street and district names are real; institutions, people, phone numbers and street numbers are
invented. A household's unit name is masked already, because a name is shown in every list.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from civilaffairs.choices import InstitutionType, OrgKind, Role
from civilaffairs.masking import mask_name
from civilaffairs.validators import id_number_check_char

SEED = 20260505
ROOT_CODE = "GZMZ"
OFFICE_CODE = "GZMZ-ZXB"
EARTH_METRES_PER_DEGREE = 111_320


@dataclass(frozen=True)
class UnitSpec:
    """One org unit as the loader should find it; ``parent`` and ``supervising_department``
    are unit codes."""

    code: str
    name: str
    kind: str
    parent: str | None
    short_name: str = ""
    institution_type: str = ""
    supervising_department: str | None = None
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_id_number: str = ""
    capacity: int | None = None


@dataclass(frozen=True)
class UserSpec:
    """One demo login; ``org_unit`` and role scopes are unit codes (scope None: the default)."""

    username: str
    real_name: str
    title: str
    org_unit: str
    phone: str
    roles: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)


# --- The bureau and its departments -----------------------------------------------------

ROOT = ("广州市民政局", "市民政局", "广州市越秀区东风中路")

# code, name, short name
DEPARTMENTS = [
    ("GZMZ-BGS", "办公室", "办公室"),
    (OFFICE_CODE, "五·五专项工作办公室", "专项办"),
    ("GZMZ-SHJZ", "社会救助处", "救助处"),
    ("GZMZ-YLFW", "养老服务处", "养老处"),
    ("GZMZ-SHSW", "社会事务处", "事务处"),
    ("GZMZ-YFAZ", "优抚安置处", "优抚处"),
    ("GZMZ-FZJZ", "防灾减灾处", "减灾处"),
    ("GZMZ-ETFL", "儿童福利处", "儿福处"),
    ("GZMZ-SHZZ", "社会组织管理处", "社管处"),
    ("GZMZ-QHDM", "区划地名处", "区划处"),
    ("GZMZ-JCZQ", "基层政权建设处", "基层处"),
]
DEPT_RESCUE = "GZMZ-SHJZ"
DEPT_ELDER = "GZMZ-YLFW"
DEPT_AFFAIRS = "GZMZ-SHSW"
DEPT_VETERANS = "GZMZ-YFAZ"
DEPT_CHILDREN = "GZMZ-ETFL"

SUPERVISOR_BY_TYPE = {
    InstitutionType.ELDER_CARE: DEPT_ELDER,
    InstitutionType.COLD_SHELTER: DEPT_RESCUE,
    InstitutionType.RESCUE_STATION: DEPT_RESCUE,
    InstitutionType.LOW_INCOME_HOUSEHOLD: DEPT_RESCUE,
    InstitutionType.FUNERAL_HOME: DEPT_AFFAIRS,
    InstitutionType.MARRIAGE_REGISTRY: DEPT_AFFAIRS,
    InstitutionType.VETERAN_SANATORIUM: DEPT_VETERANS,
    InstitutionType.VETERAN_SERVICE: DEPT_VETERANS,
    InstitutionType.WELFARE_HOME: DEPT_CHILDREN,
}

# code, name, short name, supervising department, district it stands in
AFFILIATED_UNITS = [
    ("GZMZ-A01", "广州市社会福利院", "市福利院", DEPT_CHILDREN, "白云区"),
    ("GZMZ-A02", "广州市救助管理站", "市救助站", DEPT_RESCUE, "白云区"),
    ("GZMZ-A03", "广州市殡葬服务中心", "殡葬中心", DEPT_AFFAIRS, "白云区"),
    ("GZMZ-A04", "广州市银河烈士陵园", "银河陵园", DEPT_VETERANS, "天河区"),
    ("GZMZ-A05", "广州市老人院", "市老人院", DEPT_ELDER, "白云区"),
    ("GZMZ-A06", "广州市第一军队离休干部休养所", "第一军休所", DEPT_VETERANS, "越秀区"),
    ("GZMZ-A07", "广州市第二军队离休干部休养所", "第二军休所", DEPT_VETERANS, "海珠区"),
    ("GZMZ-A08", "广州市婚姻登记处", "市婚登处", DEPT_AFFAIRS, "越秀区"),
    ("GZMZ-A09", "广州市儿童福利会", "儿福会", DEPT_CHILDREN, "越秀区"),
    ("GZMZ-A10", "广州市民政局精神病院", "民政精神病院", DEPT_AFFAIRS, "白云区"),
    ("GZMZ-A11", "广州市康宁农场", "康宁农场", DEPT_RESCUE, "增城区"),
    ("GZMZ-A12", "广州市地名研究中心", "地名中心", "GZMZ-QHDM", "越秀区"),
]

# --- The districts ----------------------------------------------------------------------


@dataclass(frozen=True)
class District:
    """A district of the demo city: its real streets and roads, and how much it holds."""

    pinyin: str
    name: str
    lat: float
    lng: float
    streets: tuple[str, ...]
    roads: tuple[str, ...]
    elder_care: int
    households: int


# Real streets and towns of each district (a selection), and real main roads for addresses.
STREETS = {
    "越秀区": "北京街道 人民街道 光塔街道 六榕街道 流花街道 东山街道 农林街道 大塘街道",
    "海珠区": "赤岗街道 新港街道 昌岗街道 江南中街道 素社街道 南华西街道 琶洲街道 瑞宝街道",
    "荔湾区": "沙面街道 岭南街道 华林街道 多宝街道 逢源街道 龙津街道 冲口街道 东漖街道",
    "天河区": "天河南街道 林和街道 石牌街道 五山街道 员村街道 车陂街道 猎德街道 珠吉街道",
    "白云区": "三元里街道 景泰街道 同德街道 嘉禾街道 京溪街道 永平街道 太和镇 人和镇",
    "黄埔区": "黄埔街道 红山街道 鱼珠街道 大沙街道 文冲街道 萝岗街道 长岭街道 九龙镇",
    "番禺区": "市桥街道 沙头街道 东环街道 大石街道 洛浦街道 钟村街道 石楼镇 南村镇",
    "花都区": "新华街道 新雅街道 秀全街道 花城街道 狮岭镇 炭步镇 赤坭镇",
    "南沙区": "南沙街道 珠江街道 龙穴街道 黄阁镇 横沥镇 东涌镇",
    "从化区": "街口街道 江埔街道 城郊街道 太平镇 温泉镇 鳌头镇",
    "增城区": "荔城街道 增江街道 朱村街道 永宁街道 新塘镇 石滩镇 中新镇",
}
ROADS = {
    "越秀区": "北京路 中山五路 东风中路 解放北路 环市东路 农林下路 越秀南路 人民北路 东华东路",
    "海珠区": "江南大道中 新港中路 工业大道 昌岗中路 宝岗大道 南洲路 滨江东路 前进路",
    "荔湾区": "中山八路 康王中路 龙津西路 芳村大道 花地大道 多宝路 宝华路 东漖北路",
    "天河区": "天河路 体育西路 天河北路 黄埔大道西 中山大道西 员村二横路 车陂路 五山路 花城大道",
    "白云区": "机场路 云城西路 广园中路 白云大道北 广州大道北 沙太路 同泰路 石槎路",
    "黄埔区": "开创大道 黄埔东路 大沙地东路 香雪大道 科学大道 丰乐北路 荔香路 九龙大道",
    "番禺区": "市桥大北路 清河东路 桥南路 德兴路 禺山大道 番禺大道北 亚运大道 兴业大道",
    "花都区": "新华路 迎宾大道 公益路 凤凰北路 云山大道 商业大道 建设北路",
    "南沙区": "进港大道 环市大道 凤凰大道 黄阁大道 港前大道 金隆路 海滨路",
    "从化区": "河滨北路 河滨南路 新城东路 从城大道 中田路 广从南路 旺城大道",
    "增城区": "荔城大道 增城大道 府佑路 光明东路 新塘大道 挂绿路 荔乡路 增江大道",
}
# pinyin (for login names), name, approximate centre of the district, and how many elder-care
# homes and low-income households it has in the demo.
_DISTRICT_ROWS = [
    ("yuexiu", "越秀区", 23.1290, 113.2668, 13, 6),
    ("haizhu", "海珠区", 23.0839, 113.3173, 12, 7),
    ("liwan", "荔湾区", 23.1259, 113.2442, 10, 6),
    ("tianhe", "天河区", 23.1247, 113.3612, 12, 6),
    ("baiyun", "白云区", 23.1573, 113.2731, 14, 8),
    ("huangpu", "黄埔区", 23.1812, 113.4809, 9, 6),
    ("panyu", "番禺区", 22.9377, 113.3843, 12, 7),
    ("huadu", "花都区", 23.4036, 113.2201, 9, 6),
    ("nansha", "南沙区", 22.8016, 113.5251, 7, 5),
    ("conghua", "从化区", 23.5486, 113.5866, 7, 6),
    ("zengcheng", "增城区", 23.2613, 113.8108, 9, 6),
]
DISTRICTS = [
    District(
        pinyin,
        name,
        lat,
        lng,
        tuple(STREETS[name].split()),
        tuple(ROADS[name].split()),
        elder_care,
        households,
    )
    for pinyin, name, lat, lng, elder_care, households in _DISTRICT_ROWS
]
DISTRICT_BY_NAME = {d.name: d for d in DISTRICTS}

# District-level institutions that only some districts have (the rest have one of each).
FUNERAL_HOMES = {
    "白云区": "广州市殡仪馆",
    "番禺区": "番禺区殡仪馆",
    "花都区": "花都区殡仪馆",
    "增城区": "增城区殡仪馆",
    "从化区": "从化区殡仪馆",
    "南沙区": "南沙区殡仪馆",
    "黄埔区": "黄埔区殡仪服务站",
    "天河区": "天河区殡仪服务站",
}
WELFARE_HOMES = {
    "番禺区": "番禺区福利院",
    "花都区": "花都区福利院",
    "增城区": "增城区福利院",
    "从化区": "从化区福利院",
    "南沙区": "南沙区福利院",
    "黄埔区": "黄埔区福利院",
    "白云区": "白云区儿童福利院",
    "海珠区": "海珠区儿童福利院",
}
SANATORIA = {
    "越秀区": "广州市第三军队离休干部休养所",
    "海珠区": "广州市第四军队离休干部休养所",
    "天河区": "广州市军队离退休干部第五休养所",
    "白云区": "白云区军队离退休干部休养所",
    "荔湾区": "荔湾区军队离退休干部休养所",
}
# A few elder-care homes named by hand, so that demo users can belong to one.
FEATURED_ELDER_CARE = {"越秀区": ("东山街道", "越秀区东山颐养院", 320)}

ELDER_CARE_BRANDS = (
    "松鹤",
    "寿星",
    "康乐",
    "福寿",
    "颐和",
    "乐善",
    "仁爱",
    "安康",
    "泰康",
    "银龄",
    "椿萱",
    "慈心",
    "怡年",
    "馨园",
    "百福",
    "康泰",
    "长青",
    "夕阳红",
    "荣华",
    "瑞颐",
)
ELDER_CARE_SUFFIXES = ("护养院", "养老院", "颐养院", "敬老院", "康养中心", "老年公寓")

SURNAMES = tuple("陈李黄梁张林刘何罗郭吴邓冯麦谭周叶杨曾潘朱钟赵卢苏郑蔡区温关莫陆")
GIVEN_CHARS = tuple(
    "伟华明强玲芳敏静丽军勇杰婷燕辉峰锦嘉颖慧文志浩晓少淑桂秀美建国永健卓欣宇俊泽瑞彤兰珍英荣坤炳耀添"
)
MOBILE_PREFIXES = [str(n) for n in range(130, 140)] + ["150", "152", "155", "157", "158", "159"]
MOBILE_PREFIXES += ["180", "186", "187", "188", "189"]


# --- Small generators -------------------------------------------------------------------


def _district_rng(name: str) -> random.Random:
    # Each district draws from its own stream: editing one district leaves the others alone.
    # Repeatable generated data, not secrets (bandit B311).
    return random.Random(f"{SEED}:{name}")  # nosec B311


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    return f"020-{rng.choice('38')}{rng.randrange(10**7):07d}"


def demo_id_number(rng: random.Random) -> str:
    """An invented but well-formed resident ID number of a Guangzhou district (4401xx), born
    1940-2005, with its check character."""
    region = f"4401{rng.choice(('03', '04', '05', '06', '11', '12', '13', '14', '15'))}"
    born = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{region}{born}{rng.randrange(1000):03d}"
    return first17 + id_number_check_char(first17)


def _person(rng: random.Random) -> str:
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.85:
        given += rng.choice(GIVEN_CHARS)
    return rng.choice(SURNAMES) + given


def _near(rng: random.Random, lat: float, lng: float, metres: float) -> tuple[float, float]:
    """A point uniformly distributed in a disc of ``metres`` around (lat, lng)."""
    distance = metres * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / EARTH_METRES_PER_DEGREE
    dlng = distance * math.sin(bearing) / (EARTH_METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return lat + dlat, lng + dlng


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _street_short(street: str) -> str:
    """北京街道 → 北京街, 太和镇 → 太和镇 (how the name appears inside an institution's)."""
    return street.removesuffix("道") if street.endswith("街道") else street


# --- The city ---------------------------------------------------------------------------


class _DistrictBuilder:
    """Generates one district bureau, its streets and its institutions."""

    def __init__(self, index: int, district: District, names: set[str]):
        self.d = district
        self.rng = _district_rng(district.name)
        self.code = f"{ROOT_CODE}-D{index:02d}"
        self.units: list[UnitSpec] = []
        self.street_codes: dict[str, str] = {}
        self.street_centres: dict[str, tuple[float, float]] = {}
        self.serial = 0
        self.names = names  # shared by all districts: every institution name is unique

    def address(self) -> str:
        road = self.rng.choice(self.d.roads)
        return f"广州市{self.d.name}{road}{self.rng.randint(1, 480)}号"

    def build(self) -> list[UnitSpec]:
        d, rng = self.d, self.rng
        self.units.append(
            UnitSpec(
                code=self.code,
                name=f"{d.name}民政局",
                short_name=d.name,
                kind=OrgKind.DISTRICT_BUREAU,
                parent=ROOT_CODE,
                address=self.address(),
                latitude=_decimal(d.lat),
                longitude=_decimal(d.lng),
                contact_name=_person(rng),
                contact_phone=_landline(rng),
            )
        )
        for number, street in enumerate(d.streets, start=1):
            code = f"{self.code}-S{number:02d}"
            lat, lng = _near(rng, d.lat, d.lng, 2000)
            self.street_codes[street] = code
            self.street_centres[street] = (lat, lng)
            self.units.append(
                UnitSpec(
                    code=code,
                    name=f"{d.name}{street}",
                    short_name=street,
                    kind=OrgKind.STREET,
                    parent=self.code,
                    address=self.address(),
                    latitude=_decimal(lat),
                    longitude=_decimal(lng),
                    contact_name=_person(rng),
                    contact_phone=_landline(rng),
                )
            )
        self.district_level()
        self.elder_care()
        self.street_stations(InstitutionType.COLD_SHELTER, "防寒庇护站", 4, places=(20, 80))
        self.street_stations(InstitutionType.VETERAN_SERVICE, "退役军人服务站", 5)
        self.households()
        return self.units

    def institution(
        self,
        *,
        name: str,
        itype: str,
        street: str | None = None,
        capacity: int | None = None,
        contact_name: str = "",
        address: str = "",
    ) -> None:
        if name in self.names:
            raise ValueError(f"duplicate demo institution name {name}")
        self.names.add(name)
        self.serial += 1
        if street is None:
            parent = self.code
            lat, lng = _near(self.rng, self.d.lat, self.d.lng, 2500)
        else:
            parent = self.street_codes[street]
            # Within 1 km of a street centre that is within 2 km of the district centre.
            lat, lng = _near(self.rng, *self.street_centres[street], 1000)
        code = f"{parent}-I{self.serial:03d}"
        # A household's contact has an ID number; drawn from its own generator (seeded by the
        # code) so that the district's draws, and so every other demo value, stay as they were.
        id_number = (
            # Repeatable generated data, not secrets (bandit B311).
            demo_id_number(random.Random(code))  # nosec B311
            if itype == InstitutionType.LOW_INCOME_HOUSEHOLD
            else ""
        )
        self.units.append(
            UnitSpec(
                code=code,
                name=name,
                kind=OrgKind.INSTITUTION,
                parent=parent,
                institution_type=itype,
                supervising_department=SUPERVISOR_BY_TYPE[itype],
                address=address or self.address(),
                latitude=_decimal(lat),
                longitude=_decimal(lng),
                contact_name=contact_name or _person(self.rng),
                contact_phone=_mobile(self.rng),
                contact_id_number=id_number,
                capacity=capacity,
            )
        )

    def district_level(self) -> None:
        name = self.d.name
        self.institution(name=f"{name}婚姻登记处", itype=InstitutionType.MARRIAGE_REGISTRY)
        self.institution(
            name=f"{name}救助管理站",
            itype=InstitutionType.RESCUE_STATION,
            capacity=self.rng.randrange(40, 161, 10),
        )
        if name in FUNERAL_HOMES:
            self.institution(name=FUNERAL_HOMES[name], itype=InstitutionType.FUNERAL_HOME)
        if name in WELFARE_HOMES:
            self.institution(
                name=WELFARE_HOMES[name],
                itype=InstitutionType.WELFARE_HOME,
                capacity=self.rng.randrange(60, 301, 20),
            )
        if name in SANATORIA:
            self.institution(
                name=SANATORIA[name],
                itype=InstitutionType.VETERAN_SANATORIUM,
                capacity=self.rng.randrange(80, 241, 10),
            )

    def elder_care(self) -> None:
        d, rng = self.d, self.rng
        count = d.elder_care
        if d.name in FEATURED_ELDER_CARE:
            street, home, beds = FEATURED_ELDER_CARE[d.name]
            self.institution(
                name=home, itype=InstitutionType.ELDER_CARE, street=street, capacity=beds
            )
            count -= 1
        # Every street has its 颐康中心 (the street's comprehensive elder-care centre) as far as
        # the count allows; the rest are 长者照护之家 and private homes.
        streets = list(d.streets)
        for street in streets[:count]:
            self.institution(
                name=f"{_street_short(street)}颐康中心",
                itype=InstitutionType.ELDER_CARE,
                street=street,
                capacity=rng.randrange(40, 151, 10),
            )
            count -= 1
        while count > 0:
            street = rng.choice(streets)
            if rng.random() < 0.5:
                name = f"{_street_short(street)}长者照护之家"
                beds = rng.randrange(20, 61, 5)
            else:
                brand = rng.choice(ELDER_CARE_BRANDS)
                name = f"{d.name.removesuffix('区')}{brand}{rng.choice(ELDER_CARE_SUFFIXES)}"
                beds = rng.randrange(80, 601, 20)
            if name in self.names:
                continue
            self.institution(
                name=name, itype=InstitutionType.ELDER_CARE, street=street, capacity=beds
            )
            count -= 1

    def street_stations(
        self, itype: str, suffix: str, count: int, places: tuple[int, int] | None = None
    ) -> None:
        for street in self.rng.sample(list(self.d.streets), count):
            capacity = self.rng.randrange(places[0], places[1] + 1, 5) if places else None
            self.institution(
                name=f"{_street_short(street)}{suffix}",
                itype=itype,
                street=street,
                capacity=capacity,
            )

    def households(self) -> None:
        rng, made = self.rng, 0
        while made < self.d.households:
            person = _person(rng)
            name = f"低保家庭（{mask_name(person)}户）"
            if name in self.names:
                continue
            street = rng.choice(self.d.streets)
            flat = f"{rng.randint(1, 30)}{rng.randint(1, 8):02d}房"
            address = f"{self.address()}{flat}"
            self.institution(
                name=name,
                itype=InstitutionType.LOW_INCOME_HOUSEHOLD,
                street=street,
                contact_name=person,
                address=address,
            )
            made += 1


@cache
def _units() -> tuple[UnitSpec, ...]:
    # Repeatable generated data, not secrets (bandit B311).
    rng = random.Random(f"{SEED}:bureau")  # nosec B311
    units = [
        UnitSpec(
            code=ROOT_CODE,
            name=ROOT[0],
            short_name=ROOT[1],
            kind=OrgKind.BUREAU,
            parent=None,
            address=ROOT[2],
            latitude=_decimal(23.1285),
            longitude=_decimal(113.2738),
            contact_phone=_landline(rng),
        )
    ]
    for code, name, short in DEPARTMENTS:
        units.append(
            UnitSpec(
                code=code,
                name=name,
                short_name=short,
                kind=OrgKind.DEPARTMENT,
                parent=ROOT_CODE,
                address=ROOT[2],
                contact_name=_person(rng),
                contact_phone=_landline(rng),
            )
        )
    for code, name, short, department, district_name in AFFILIATED_UNITS:
        district = DISTRICT_BY_NAME[district_name]
        lat, lng = _near(rng, district.lat, district.lng, 3000)
        units.append(
            UnitSpec(
                code=code,
                name=name,
                short_name=short,
                kind=OrgKind.AFFILIATED_UNIT,
                parent=ROOT_CODE,
                supervising_department=department,
                address=f"广州市{district_name}{rng.choice(district.roads)}{rng.randint(1, 480)}号",
                latitude=_decimal(lat),
                longitude=_decimal(lng),
                contact_name=_person(rng),
                contact_phone=_landline(rng),
            )
        )
    names: set[str] = set()
    for index, district in enumerate(DISTRICTS, start=1):
        units.extend(_DistrictBuilder(index, district, names).build())
    return tuple(units)


def units() -> list[UnitSpec]:
    """Every unit of the demo city, each parent before its children."""
    return list(_units())


def unit_code(name: str) -> str:
    """The code of the demo unit called ``name`` (names used here are unique)."""
    for unit in _units():
        if unit.name == name:
            return unit.code
    raise KeyError(name)


# --- People -----------------------------------------------------------------------------

ROLE_LABELS = {
    Role.SUPERVISOR: "专项办督查员",
    Role.OFFICE_HEAD: "专项办负责人",
    Role.INSPECTOR: "检查员",
    Role.UNIT_LIAISON: "责任单位联络员",
    Role.DEPARTMENT: "业务处室",
    Role.LEADER: "局领导",
    Role.AUDITOR: "审计员",
    Role.SYSADMIN: "系统管理员",
}

# username, real name, title, unit (code or name), roles as (role, scope unit or None)
_OFFICE = OFFICE_CODE
_PEOPLE = [
    ("admin", "郑志远", "信息中心工程师", "GZMZ-BGS", [(Role.SYSADMIN, None)]),
    ("auditor", "冯婉清", "安全审计员", "GZMZ-BGS", [(Role.AUDITOR, None)]),
    ("zxb_head", "陈卫东", "专项办主任", _OFFICE, [(Role.OFFICE_HEAD, None)]),
    ("zxb01", "黄俊杰", "专项办副主任", _OFFICE, [(Role.SUPERVISOR, None), (Role.INSPECTOR, None)]),
    ("zxb02", "梁丽萍", "一级主任科员", _OFFICE, [(Role.SUPERVISOR, None), (Role.INSPECTOR, None)]),
    ("zxb03", "李志强", "二级主任科员", _OFFICE, [(Role.SUPERVISOR, None)]),
    ("zxb04", "何秀英", "二级主任科员", _OFFICE, [(Role.SUPERVISOR, None)]),
    ("zxb05", "罗嘉明", "四级主任科员", _OFFICE, [(Role.SUPERVISOR, None)]),
    ("zxb06", "吴晓燕", "一级科员", _OFFICE, [(Role.SUPERVISOR, None)]),
    ("inspector1", "邓伟健", "检查员", _OFFICE, [(Role.INSPECTOR, None)]),
    ("inspector2", "麦颖欣", "检查员", _OFFICE, [(Role.INSPECTOR, None)]),
    ("inspector3", "谭国华", "检查员", _OFFICE, [(Role.INSPECTOR, None)]),
    ("leader", "林振华", "局长", ROOT_CODE, [(Role.LEADER, None)]),
    (
        "leader_tianhe",
        "周慧敏",
        "天河区民政局局长",
        "天河区民政局",
        [(Role.LEADER, "天河区民政局")],
    ),
    ("dept_jiuzhu", "叶建明", "社会救助处副处长", "GZMZ-SHJZ", [(Role.DEPARTMENT, "GZMZ-SHJZ")]),
    (
        "dept_yanglao",
        "曾淑贞",
        "养老服务处一级主任科员",
        "GZMZ-YLFW",
        [(Role.DEPARTMENT, "GZMZ-YLFW")],
    ),
]
_DISTRICT_LIAISONS = {
    "yuexiu": "张嘉欣",
    "haizhu": "刘永康",
    "liwan": "潘美玲",
    "tianhe": "杨浩然",
    "baiyun": "钟少华",
    "huangpu": "郭桂芳",
    "panyu": "卢志明",
    "huadu": "苏婷婷",
    "nansha": "区俊豪",
    "conghua": "温秀兰",
    "zengcheng": "蔡锦荣",
}
# Heads of the district bureaus (单位负责人): the unit-head rung of the overdue escalation.
_DISTRICT_HEADS = {
    "yuexiu": "陈志明",
    "haizhu": "李国栋",
    "liwan": "黄淑仪",
    "tianhe": "吴伟光",
    "baiyun": "梁振宇",
    "huangpu": "何丽华",
    "panyu": "冯家豪",
    "huadu": "谢婉婷",
    "nansha": "邓建华",
    "conghua": "彭晓东",
    "zengcheng": "林美娟",
}
# username, real name, title, unit name
_UNIT_LIAISONS = [
    ("liaison_fuliyuan", "赵静怡", "办公室主任", "广州市社会福利院"),
    ("liaison_jiuzhuzhan", "朱国强", "安全保卫科科长", "广州市救助管理站"),
    ("liaison_binzang", "关文辉", "办公室副主任", "广州市殡葬服务中心"),
    ("liaison_dongshan", "邝玉珍", "院长", "越秀区东山颐养院"),
]


def _code(ref: str | None) -> str | None:
    if ref is None or ref.startswith(ROOT_CODE):
        return ref
    return unit_code(ref)


@cache
def _users() -> tuple[UserSpec, ...]:
    # Repeatable generated data, not secrets (bandit B311).
    rng = random.Random(f"{SEED}:people")  # nosec B311
    people = list(_PEOPLE)
    for district in DISTRICTS:
        bureau = f"{district.name}民政局"
        people.append(
            (
                f"liaison_{district.pinyin}",
                _DISTRICT_LIAISONS[district.pinyin],
                "办公室联络员",
                bureau,
                [(Role.UNIT_LIAISON, bureau)],
            )
        )
        people.append(
            (
                f"head_{district.pinyin}",
                _DISTRICT_HEADS[district.pinyin],
                "副局长",
                bureau,
                [(Role.UNIT_LIAISON, bureau)],
            )
        )
    for username, real_name, title, unit in _UNIT_LIAISONS:
        people.append((username, real_name, title, unit, [(Role.UNIT_LIAISON, unit)]))
    return tuple(
        UserSpec(
            username=username,
            real_name=real_name,
            title=title,
            org_unit=_code(unit),
            phone=_mobile(rng),
            roles=tuple((str(role), _code(scope)) for role, scope in roles),
        )
        for username, real_name, title, unit, roles in people
    )


def users() -> list[UserSpec]:
    """Every demo login, with the org unit and role scopes as unit codes."""
    return list(_users())


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role in Chinese, real name) of every demo login, for the README and the
    loader's closing table."""
    names = {u.code: u.name for u in _units()}
    rows = []
    for user in _users():
        labels = []
        for role, scope in user.roles:
            label = ROLE_LABELS[Role(role)]
            if scope is not None and scope != ROOT_CODE:
                label += f"（{names[scope]}）"
            labels.append(label)
        rows.append((user.username, "、".join(labels), user.real_name))
    return rows
