"""Single-statement writes the ORM has no word for (PostgreSQL and SQLite 3.35+ alike).

* ``insert_once``: ``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING pk`` — write a
  row keyed by a unique column at most once, without a read first or a savepoint
  (``insert_many_once``: many rows in one statement).
* ``counter_add``: ``INSERT … ON CONFLICT (pk) DO UPDATE SET col = col + amount`` — add
  to a per-key counter row, creating it on first use, in one statement.
* ``counter_add_capped``: the same keyed by a unique set of columns, the update made only
  while the sum stays within a cap (a per-person purchase limit), in one statement.
* ``rows_update``: ``UPDATE … FROM (VALUES …)`` — many rows, each with its own values, in
  one statement.
* ``insert_many``: a plain multi-row ``INSERT`` with no ``RETURNING`` and no transaction
  of its own (``bulk_create`` opens one: two statements more outside a transaction).
* ``take_if_enough``: ``UPDATE … SET col = col - qty WHERE <key> AND col >= qty`` — take
  units from one row only while enough are left (stock, a flash sale's bucket).
* ``run`` / ``rows_of``: a written-out statement on the hot path, where building it
  with the ORM would cost more in Python than the database spends on it.
* ``models_of``: a written-out ``SELECT`` of a model's rows (a lock, a join, a subquery)
  turned into model instances the way the ORM's own queries make them, without
  ``Model.objects.raw``'s per-query work of matching the cursor's columns to fields
  (``children_of``: a parent's rows of a reverse foreign key, kept as a prefetch).

A concurrent writer of the same key is waited for by the database, as with any insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import signals
from django.db.models.base import ModelState


def insert_once(obj: models.Model, *, unique: str) -> bool:
    """Insert ``obj`` unless a row with the same ``unique`` value exists; True if inserted."""
    return bool(insert_many_once([obj], unique=unique))


# Rows per INSERT: keeps the bound parameters far below SQLite's and PostgreSQL's limits.
_ROWS_PER_INSERT = 500


def insert_many_once(objs: Sequence[models.Model], *, unique: str) -> list[models.Model]:
    """``insert_once`` for many rows of one model in one statement (per 500 rows).

    Returns the objects inserted, their primary keys set; those whose ``unique`` value
    was already taken (by an existing row or an earlier object of ``objs``) are left out.
    """
    if not objs:
        return []
    model = type(objs[0])
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    key = model._meta.get_field(unique)
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql_head = (
        f"INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    sql_tail = (
        f" ON CONFLICT ({quote(key.column)}) DO NOTHING"
        f" RETURNING {quote(model._meta.pk.column)}, {quote(key.column)}"
    )
    inserted: list[models.Model] = []
    for start in range(0, len(objs), _ROWS_PER_INSERT):
        batch = objs[start : start + _ROWS_PER_INSERT]
        values: list = []
        by_key: dict = {}
        for obj in batch:
            for field in fields:
                field.pre_save(obj, add=True)  # auto_now_add stamps, as save() would
            values.extend(f.get_db_prep_save(getattr(obj, f.attname), conn) for f in fields)
            by_key.setdefault(getattr(obj, key.attname), obj)
        with conn.cursor() as cursor:
            cursor.execute(sql_head + ", ".join([row_marks] * len(batch)) + sql_tail, values)
            rows = cursor.fetchall()
        for pk, key_value in rows:
            obj = by_key[key_value]
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = conn.alias
            inserted.append(obj)
    return inserted


def insert_many(objs: Sequence[models.Model], *, pks: bool = False) -> int:
    """Insert ``objs`` (one model) in one statement per 500 rows, with no transaction of
    its own. ``pks``: ``RETURNING`` their primary keys, set on the objects (rows come back
    in the order of ``VALUES``, as ``bulk_create`` relies on too), as ``save()`` would
    leave them. No model signals are sent."""
    if not objs:
        return 0
    model = type(objs[0])
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql_head = (
        f"INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    sql_tail = f" RETURNING {quote(model._meta.pk.column)}" if pks else ""
    for start in range(0, len(objs), _ROWS_PER_INSERT):
        batch = objs[start : start + _ROWS_PER_INSERT]
        values: list = []
        for obj in batch:
            for field in fields:
                field.pre_save(obj, add=True)
            values.extend(f.get_db_prep_save(getattr(obj, f.attname), conn) for f in fields)
        with conn.cursor() as cursor:
            cursor.execute(sql_head + ", ".join([row_marks] * len(batch)) + sql_tail, values)
            if pks:
                for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    obj.pk = pk
                    obj._state.adding = False
                    obj._state.db = conn.alias
    return len(objs)


def run(sql: str, params: Sequence = ()) -> int:
    """Execute one written-out statement; returns the rows it touched."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def take_if_enough(model: type[models.Model], *, column: str, qty: int, where: dict) -> bool:
    """Take ``qty`` units from the one row of ``model`` whose columns equal ``where``,
    only if ``column`` keeps at least 0; True if taken. Concurrent takers of the row wait
    on its lock and test what the first one left, so it never goes below 0."""
    quote = transaction.get_connection().ops.quote_name
    units = quote(column)
    key = " AND ".join(f"{quote(name)} = %s" for name in where)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {units} = {units} - %s"
        f" WHERE {key} AND {units} >= %s"
    )
    return run(sql, [qty, *where.values(), qty]) == 1


def rows_of(sql: str, params: Sequence = ()) -> list[tuple]:
    """The rows of one written-out statement."""
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _columns(model: type[models.Model], conn, table: str) -> tuple[str, tuple, list]:
    """The SELECT list of ``model``'s concrete fields (qualified by ``table``), their
    attribute names and, per field that has them, its database converters (cached)."""
    key = (model, conn.vendor, table)
    known = _COLUMNS.get(key)
    if known is None:
        quote = conn.ops.quote_name
        fields = model._meta.concrete_fields
        prefix = f"{table}." if table else ""
        select = ", ".join(prefix + quote(f.column) for f in fields)
        converters = []
        for index, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
            if found:
                converters.append((index, col, found))
        known = _COLUMNS[key] = (select, tuple(f.attname for f in fields), converters)
    return known


_COLUMNS: dict = {}


def models_of(
    model: type[models.Model],
    sql: str,
    params: Sequence = (),
    *,
    table: str = "",
    extra: Sequence[str] = (),
) -> list:
    """Instances of ``model`` from a written-out statement whose SELECT list is
    ``{columns}`` (every concrete field, prefixed with ``table.`` when given) followed by
    the columns named in ``extra``, set as attributes of the same names (values as the
    database gives them)."""
    conn = transaction.get_connection()
    select, attnames, converters = _columns(model, conn, table)
    with conn.cursor() as cursor:
        cursor.execute(sql.replace("{columns}", select), params)
        rows = cursor.fetchall()
    n = len(attnames)
    # As ``Model.from_db`` makes them, without ``__init__``'s walk over the fields (every
    # value is given, none deferred); a model whose instances someone watches being made
    # (``post_init``) goes through ``from_db`` itself.
    plain = not signals.pre_init.has_listeners(model) and not signals.post_init.has_listeners(model)
    found = []
    for row in rows:
        values = list(row[:n])
        for index, col, funcs in converters:
            for func in funcs:
                values[index] = func(values[index], col, conn)
        if plain:
            obj = model.__new__(model)
            obj.__dict__.update(zip(attnames, values, strict=True))
            state = obj._state = ModelState()
            state.adding = False
            state.db = conn.alias
        else:
            obj = model.from_db(conn.alias, attnames, values)
        for name, value in zip(extra, row[n:], strict=True):
            setattr(obj, name, value)
        found.append(obj)
    return found


def children_of(parent: models.Model, related_name: str) -> list:
    """The rows pointing at ``parent`` through the foreign key whose ``related_name`` is
    given, in id order, read in one written-out statement and kept as Django's
    ``prefetch_related`` keeps them: ``parent.<related_name>.all()`` answers from them
    and each child's foreign key is ``parent`` itself, with no further query."""
    rel = parent._meta.get_field(related_name)
    model, fk = rel.related_model, rel.field
    quote = transaction.get_connection().ops.quote_name
    found = models_of(
        model,
        f"SELECT {{columns}} FROM {quote(model._meta.db_table)}"
        f" WHERE {quote(fk.column)} = %s ORDER BY {quote(model._meta.pk.column)}",
        [parent.pk],
    )
    for child in found:
        fk.set_cached_value(child, parent)
    manager = getattr(parent, related_name)
    cache = parent.__dict__.setdefault("_prefetched_objects_cache", {})
    name = rel.cache_name
    cache.pop(name, None)
    queryset = manager.get_queryset()
    queryset._result_cache = found
    queryset._prefetch_done = True
    cache[name] = queryset
    return found


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


def counter_add_capped(
    model: type[models.Model], *, keys: dict[str, Any], field: str, amount: int, cap: int | None
) -> bool:
    """Add ``amount`` (> 0) to ``field`` of the row of ``model`` whose unique ``keys`` (field
    name → value; a unique constraint on exactly those columns) are given, creating it
    with ``amount`` on first use, unless the result would pass ``cap`` (None: no cap).
    True if added. One statement; a concurrent writer of the same row waits for it, so
    two additions never pass the cap together. Other columns need database defaults."""
    if cap is not None and amount > cap:
        return False
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    meta = model._meta
    table = quote(meta.db_table)
    key_columns = [quote(meta.get_field(name).column) for name in keys]
    column = quote(meta.get_field(field).column)
    sql = (
        f"INSERT INTO {table} ({', '.join(key_columns)}, {column})"
        f" VALUES ({', '.join(['%s'] * (len(keys) + 1))})"
        f" ON CONFLICT ({', '.join(key_columns)}) DO UPDATE"
        f" SET {column} = {table}.{column} + excluded.{column}"
    )
    params = [*keys.values(), amount]
    if cap is not None:
        sql += f" WHERE {table}.{column} + excluded.{column} <= %s"
        params.append(cap)
    with conn.cursor() as cursor:
        cursor.execute(sql + f" RETURNING {column}", params)
        return cursor.fetchone() is not None


def rows_update(
    model: type[models.Model],
    *,
    fields: Sequence[str],
    rows: Sequence[Sequence],
    add: Sequence[str] = (),
    key: str = "pk",
) -> int:
    """Give many rows each their own values in one statement (per 500 rows):
    ``UPDATE … SET f = v.f FROM (VALUES (key, f…), …) v WHERE key = v.key``.

    ``rows`` holds ``(key, value of each of fields)``; a field named in ``add`` is added
    to (``f = f + v.f``) rather than set. What ``bulk_update`` does with one CASE per
    field and row, at a fraction of its cost in Python. Returns the rows updated.
    """
    if not rows:
        return 0
    conn = transaction.get_connection()
    quote = conn.ops.quote_name
    table = quote(model._meta.db_table)
    key_field = model._meta.pk if key == "pk" else model._meta.get_field(key)
    targets = [model._meta.get_field(name) for name in fields]
    postgres = conn.vendor == "postgresql"

    def column(i: int, field) -> str:
        # VALUES columns are column1, column2… in PostgreSQL and SQLite alike; PostgreSQL
        # is told their types (a column of NULLs would otherwise be text).
        name = f"v.column{i}"
        return f"CAST({name} AS {field.db_type(conn)})" if postgres else name

    sets = []
    for i, field in enumerate(targets, start=2):
        value = column(i, field)
        if field.name in add:
            value = f"{table}.{quote(field.column)} + {value}"
        sets.append(f"{quote(field.column)} = {value}")
    row_marks = "(" + ", ".join(["%s"] * (len(targets) + 1)) + ")"
    done = 0
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        batch = rows[start : start + _ROWS_PER_INSERT]
        values: list = []
        for row in batch:
            values.append(key_field.get_db_prep_value(row[0], conn))
            values.extend(
                field.get_db_prep_save(value, conn)
                for field, value in zip(targets, row[1:], strict=True)
            )
        with conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {', '.join(sets)}"
                f" FROM (VALUES {', '.join([row_marks] * len(batch))}) AS v"
                f" WHERE {table}.{quote(key_field.column)} = {column(1, key_field)}",
                values,
            )
            done += cursor.rowcount
    return done
