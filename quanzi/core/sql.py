"""Single-statement writes the ORM has no word for (PostgreSQL and SQLite 3.35+ alike).

* ``insert_once``: ``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING pk`` — write a
  row keyed by a unique column at most once, without a read first or a savepoint.
* ``counter_add``: ``INSERT … ON CONFLICT (pk) DO UPDATE SET col = col + amount`` — add
  to a per-key counter row, creating it on first use, in one statement.

A concurrent writer of the same key is waited for by the database, as with any insert.
"""

from __future__ import annotations

from django.db import models, transaction


def insert_once(obj: models.Model, *, unique: str) -> bool:
    """Insert ``obj`` unless a row with the same ``unique`` value exists; True if inserted."""
    model = type(obj)
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    for field in fields:
        field.pre_save(obj, add=True)  # auto_now_add stamps, as save() would
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    values = [f.get_db_prep_save(getattr(obj, f.attname), conn) for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
            f" ON CONFLICT ({quote(model._meta.get_field(unique).column)}) DO NOTHING"
            f" RETURNING {quote(model._meta.pk.column)}",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = conn.alias
    return True


def counter_add(model: type[models.Model], *, pk: int, field: str, amount: int) -> int:
    """Add ``amount`` to ``field`` of the row ``pk`` (created with ``amount`` if missing;
    a negative ``amount`` needs the row).

    Every other column of ``model`` needs a default in the database or must not exist:
    meant for narrow counter tables. Returns the new value.
    """
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    table = quote(model._meta.db_table)
    pk_column = quote(model._meta.pk.column)
    column = quote(model._meta.get_field(field).column)
    with conn.cursor() as cursor:
        if amount < 0:
            # Taking away needs the row (a CHECK on the proposed insert would fire first).
            cursor.execute(
                f"UPDATE {table} SET {column} = {column} + %s WHERE {pk_column} = %s"
                f" RETURNING {column}",
                [amount, pk],
            )
            row = cursor.fetchone()
            if row is None:
                raise model.DoesNotExist(f"no {model.__name__} {pk} to take {-amount} from")
            return row[0]
        cursor.execute(
            f"INSERT INTO {table} ({pk_column}, {column}) VALUES (%s, %s)"
            f" ON CONFLICT ({pk_column}) DO UPDATE SET {column} = {table}.{column} + %s"
            f" RETURNING {column}",
            [pk, amount, amount],
        )
        return cursor.fetchone()[0]
