"""A city with a little of everything, built through the real services: the data of the
dashboard tests and of the query-count baseline."""

import datetime as dt

from django.utils import timezone

from inspections import services as inspections
from rectification.models import Rectification
from tests.daily_data import DAY, at, lines, make_period, submit
from tests.flash_data import distributed
from tests.flash_data import finding as bare_finding
from tests.inspection_data import make_plan, walked_visit
from tests.rectification_data import issue, step


def fill(city):
    """A filed secret-plan visit to inst_a (district A) with findings; orders in both
    districts (one closed on time, one overdue, one open); a secret visit to inst_b still in
    progress with a draft finding; a distributed flash report; a sensitive period with daily
    reports (one late with an abnormal line)."""
    visit = walked_visit(city)
    inspections.visit_submit(actor=city["inspector"], visit=visit)
    bare_finding(city, target=city.inst_b, severity="serious")
    bare_finding(city, target=city.inst_a, severity="general")  # a repeat at inst_a
    bare_finding(city, target=city.street_a)  # a unit without an institution type
    on_time = issue(city, title="灭火器过期")
    step(on_time, city["liaison_a"], "acknowledge")
    step(on_time, city["liaison_a"], "submit")
    step(on_time, city["supervisor"], "verify")
    late = issue(city, title="安全出口上锁", responsible_unit=city.inst_b)
    Rectification.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=3)
    )
    issue(city, title="值班记录缺失")
    secret = make_plan(city, targets=[city.inst_b]).visits.get()
    inspections.visit_checkin(actor=city["inspector"], visit=secret, latitude=23.1, longitude=113.2)
    bare_finding(city, target=city.inst_b, visit=secret, state="draft")
    distributed(city)
    period = make_period(city)
    submit(city, period, city.district_a, "liaison_a", at(10))
    submit(city, period, city.district_b, "liaison_b", at(17), lines=lines({"safety": "漏水"}))
    submit(city, period, city.district_a, "liaison_a", at(11, day=DAY + dt.timedelta(days=1)))
    return city
