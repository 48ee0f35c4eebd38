"""Set-based writes for the jobs that touch tens of thousands of rows at once (the deadline
scan): one ``INSERT … SELECT FROM unnest(…)`` per batch, each column sent as one typed array,
returning what the caller needs — with ``ON CONFLICT DO NOTHING`` the rows returned are exactly
the ones this statement inserted, so an insert can be a claim that a concurrent run loses."""

from django.db import connection


def insert_returning(
    model, fields, rows, *, returning=("id",), skip_conflicts=False, batch_size=5000
) -> list[tuple]:
    """Insert ``rows`` (tuples in the order of ``fields``, attnames) into ``model``'s table;
    returns the ``returning`` columns of the rows inserted. Defaults and ``auto_now_add`` are
    not applied: the caller gives every column the table requires."""
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    names = ", ".join(quote(field.column) for field in columns)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    wanted = ", ".join(quote(meta.get_field(name).column) for name in returning)
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608 (names from the model)  # nosec B608
        f"SELECT * FROM unnest({arrays}){conflict} RETURNING {wanted}"
    )
    rows = list(rows)
    inserted: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
            inserted.extend(cursor.fetchall())
    return inserted
