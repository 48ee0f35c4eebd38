"""Counting the rows of a list at city scale. An exact COUNT(*) over a whole table of a million
rows costs a few hundred milliseconds on every first page; when a list has no filter at all (a
city-wide reader's unfiltered list), PostgreSQL's own row estimate of the table (pg_class
reltuples, kept current by autovacuum and ANALYZE) serves instead, above
LIST_COUNT_ESTIMATE_ABOVE rows. Any filter (a date range, a district, a reader's visibility)
gives an exact count, so a dashboard figure and the list it links to always agree."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property


def table_estimate(queryset) -> int | None:
    """The planner's row estimate of the queryset's table, when the queryset is the whole
    table (no WHERE, no DISTINCT, no LIMIT, no GROUP BY, no set operation); else None."""
    query = queryset.query
    if (
        query.where
        or query.distinct
        or query.combinator
        or query.group_by
        or query.low_mark
        or query.high_mark is not None
        or connection.vendor != "postgresql"
    ):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class ListPaginator(Paginator):
    """A Paginator whose ``count`` is the table's estimate for a whole large table
    (``estimated`` then says so), else exact."""

    estimated = False

    @cached_property
    def count(self):
        limit = settings.LIST_COUNT_ESTIMATE_ABOVE
        if limit and hasattr(self.object_list, "query"):
            estimate = table_estimate(self.object_list)
            if estimate is not None and estimate > limit:
                self.estimated = True
                return estimate
        return super().count
