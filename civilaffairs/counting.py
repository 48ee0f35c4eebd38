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


def whole_table(queryset) -> bool:
    """The queryset is a whole table: no WHERE, DISTINCT, LIMIT, GROUP BY or set operation
    (joins for select_related and annotations do not change how many rows there are)."""
    query = queryset.query
    return not (
        query.where
        or query.distinct
        or query.combinator
        or query.group_by
        or query.low_mark
        or query.high_mark is not None
        or connection.vendor != "postgresql"
    )


def table_count(queryset, above: int) -> tuple[int, bool] | None:
    """For a whole table, in one statement (the query a COUNT(*) would have been): the planner's
    estimate when it is above ``above`` (and True), else the exact count (and False); None when
    the queryset is not a whole table."""
    if not whole_table(queryset):
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    # The table name is the model's, quoted: no user input reaches this SQL.
    sql = (
        "SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "  # noqa: S608  # nosec B608
        f"ELSE (SELECT count(*) FROM {table}) END, c.reltuples > %s "
        "FROM pg_class c WHERE c.oid = to_regclass(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [above, above, table])
        row = cursor.fetchone()
    return (int(row[0]), bool(row[1])) if row else None


class ListPaginator(Paginator):
    """A Paginator whose ``count`` is the table's estimate for a whole large table
    (``estimated`` then says so), else exact; one query either way."""

    estimated = False

    def __init__(self, *args, read_rows=None, **kwargs):
        super().__init__(*args, **kwargs)
        # How a page's sliced queryset is read (the API's lists read as values); the count is
        # always the queryset's own.
        self.read_rows = read_rows

    def _get_page(self, object_list, *args, **kwargs):
        if self.read_rows is not None and hasattr(object_list, "query"):
            object_list = self.read_rows(object_list)
        return super()._get_page(object_list, *args, **kwargs)

    @cached_property
    def count(self):
        limit = settings.LIST_COUNT_ESTIMATE_ABOVE
        if limit and hasattr(self.object_list, "query"):
            counted = table_count(self.object_list, limit)
            if counted is not None:
                self.estimated = counted[1]
                return counted[0]
        return super().count
