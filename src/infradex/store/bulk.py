"""Many rows at once: :func:`insert_rows` and :func:`upsert_rows` write them, :func:`among`
and :func:`keyed` read them.

On PostgreSQL a batch is **one statement** whatever its size: every column goes as one array
parameter, and ``INSERT ... SELECT * FROM unnest(...)`` makes the rows on the server
(``ON CONFLICT ... DO UPDATE`` / ``DO NOTHING`` for an upsert). An ``executemany`` runs one
statement per row (psycopg pipelines them, but the server still parses, plans and executes
each one).

On SQLite both stay an ``executemany`` of a single-row statement: it runs in process, where a
statement costs no round trip, and SQLite has no arrays.

The values are the ones the table's column types take (timezone-aware datetimes for
``Time``, anything JSON for a JSON column, ``None`` for NULL): each array element goes through
the column type's own bind processing, so a row is stored exactly as a single-row ``INSERT``
stores it (a ``None`` in a JSON column is the JSON ``null``, as there).

:func:`keyed` reads the rows of a list of whole keys on PostgreSQL: a join with the keys
unnested, so the planner looks each up by the primary key, whatever the statistics say (no
statistics at all on a new table, or without autovacuum, when an index on one key column
looks cheaper). :func:`among` is ``column IN (...)`` for a read of many values: on PostgreSQL
``column = ANY(:array)``, one parameter and one statement text whatever the number of keys
(psycopg prepares it once; an ``IN`` list of 500 parameters is a new statement for each
length, and a generic plan of it rebuilds the 500-element array for every row it filters).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Executable

__all__ = ["among", "insert_rows", "keyed", "upsert_rows"]


def among(
    connection: AsyncConnection, column: Column[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column`` is one of ``values``: ``= ANY(:array)`` on PostgreSQL, ``IN`` elsewhere."""
    if connection.dialect.name != "postgresql":
        return column.in_(values)
    kind = postgresql.ARRAY(column.type)
    return column == any_(cast(bindparam(None, list(values), type_=kind), kind))


def keyed(table: Table, names: Sequence[str], keys: Sequence[Sequence[Any]]) -> Select[Any]:
    """PostgreSQL only: ``SELECT table.* FROM table JOIN unnest(:first, :second, ...) ON``
    every column of ``names`` equal: the rows whose ``names`` columns are one of ``keys``."""
    values = {name: [key[i] for key in keys] for i, name in enumerate(names)}
    given = _unnest(table, tuple(names), values)
    return select(table).join(given, and_(*(table.c[name] == given.c[name] for name in names)))


async def insert_rows(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` (each with the same keys: the columns written; the others take their
    defaults)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        await connection.execute(insert(table), list(rows))
        return
    names = tuple(rows[0])
    await connection.execute(_pg_statement(table, names, None, False), _arrays(table, names, rows))


async def upsert_rows(
    connection: AsyncConnection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[dict[str, Any]],
    *,
    do_nothing: bool = False,
) -> None:
    """Insert ``rows``, or on a conflict over ``keys`` (the table's primary key or a unique
    index) update every other column of the row there from the row given (with
    ``do_nothing``, keep the row there). Two rows with the same key: the later one is
    written, as by one statement per row."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect != "postgresql":
        statement = sqlite.insert(table)
        if do_nothing:
            await connection.execute(
                statement.on_conflict_do_nothing(index_elements=list(keys)), list(rows)
            )
            return
        update = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
        await connection.execute(
            statement.on_conflict_do_update(index_elements=list(keys), set_=update), list(rows)
        )
        return
    # one statement may not update a row twice: the last row of a key stands for it (dicts
    # keep the first insertion's place, the last value)
    by_key = {tuple(row[k] for k in keys): row for row in rows}
    unique = list(by_key.values()) if len(by_key) < len(rows) else rows
    names = tuple(unique[0])
    await connection.execute(
        _pg_statement(table, names, tuple(keys), do_nothing), _arrays(table, names, unique)
    )


def _arrays(table: Table, names: tuple[str, ...], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    arrays: dict[str, Any] = {}
    for name in names:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, Float):
            # psycopg refuses to dump a list that mixes ints and floats
            values = [None if v is None else float(v) for v in values]
        arrays[name] = values
    return arrays


@lru_cache(maxsize=64)
def _pg_statement(
    table: Table, names: tuple[str, ...], keys: tuple[str, ...] | None, do_nothing: bool
) -> Executable:
    """``INSERT INTO table (names) SELECT * FROM unnest(CAST(:name AS type[]), ...)``, with
    ``ON CONFLICT (keys)`` when ``keys`` are given."""
    rows = _unnest(table, names)
    statement = postgresql.insert(table).from_select(
        list(names), select(*(rows.c[name] for name in names))
    )
    if keys is None:
        return statement
    if do_nothing:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    update = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=update)


def _unnest(
    table: Table, names: tuple[str, ...], values: dict[str, list[Any]] | None = None
) -> Any:
    """``unnest(CAST(:name AS type[]), ...) AS anon(name, ...)``: a row per array index, an
    array parameter per column of ``names`` (with ``values``, bound to them)."""
    arrays = []
    for name in names:
        kind = postgresql.ARRAY(table.c[name].type)
        if values is None:
            parameter = bindparam(name, type_=kind)
        else:
            parameter = bindparam(name, values[name], type_=kind, unique=True)
        arrays.append(cast(parameter, kind))
    return func.unnest(*arrays).table_valued(*names).render_derived()
