"""The daily digest at city scale (#8): it lists at most DIGEST_OVERDUE_LIMIT overdue orders,
the longest overdue first, and its figure still counts them all."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from rectification.models import Rectification
from reports.digest import digest_data
from tests.daily_data import DAY, make_period
from tests.rectification_data import issue

pytestmark = pytest.mark.django_db


def test_digest_lists_the_longest_overdue_and_counts_all(city, settings):
    settings.DIGEST_OVERDUE_LIMIT = 2
    period = make_period(city)
    orders = [issue(city, title=f"逾期{i}") for i in range(3)]
    for days, order in zip((5, 9, 7), orders, strict=True):
        Rectification.objects.filter(pk=order.pk).update(deadline=DAY - dt.timedelta(days=days))
    data = digest_data(period, DAY, timezone.now())
    assert data["figures"]["overdue_orders"] == 3
    assert [o["days"] for o in data["overdue"]] == [9, 7]
    html = render_to_string("reports/daily/digest_pdf.html", {**data, "status_labels": {}})
    assert "The 2 longest overdue of 3 orders" in html or "仅列出逾期最久的 2 件" in html
    settings.DIGEST_OVERDUE_LIMIT = 10
    data = digest_data(period, DAY, timezone.now())
    assert len(data["overdue"]) == data["figures"]["overdue_orders"] == 3
