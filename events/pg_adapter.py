"""SQLite's SQL on PostgreSQL: the connections the projections receive from a PostgresLog.

The projections (projections/*) are written against sqlite3: ``?`` marks, SQLite DDL,
``INSERT OR REPLACE``, ``instr``, subqueries without an alias, cursors that fetch. On
PostgreSQL, ``log.reader()`` and the connection handed to append hooks and to
``run_in_writer`` are wrapped here, and each statement is translated once (then cached):

- ``?`` becomes ``%s`` (and a literal ``%`` is doubled), outside quotes;
- ``CREATE TABLE``/``ALTER TABLE ... ADD``: INTEGER becomes BIGINT (SQLite's are 64-bit),
  BLOB BYTEA, REAL DOUBLE PRECISION, TEXT ``TEXT COLLATE "C"`` (byte order, as SQLite
  sorts, whatever the server's locale); ``STRICT``, ``WITHOUT ROWID`` and AUTOINCREMENT go;
- ``INSERT OR REPLACE``/``REPLACE INTO`` become ``INSERT ... ON CONFLICT (<primary key>) DO
  UPDATE`` (the key read from the catalog once per table), ``INSERT OR IGNORE`` ``ON
  CONFLICT DO NOTHING``;
- ``instr(a, b)``, ``ifnull``, ``group_concat``, ``julianday``, two-argument ``max``/``min``, ``IS ?``,
  ``LIMIT -1``, ``sqlite_master``; a subquery in FROM gets the alias PostgreSQL requires;
- ``PRAGMA`` is a no-op, ``BEGIN IMMEDIATE`` is ``BEGIN``, ``executescript`` runs each statement;
- cursors answer ``fetchone``/``fetchall``/``fetchmany``/iteration as sqlite3's do (``None``
  and ``[]`` after a statement without rows); NUMERIC comes back as int or float, as
  SQLite would give it; a unique violation is raised as ``sqlite3.IntegrityError``.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import NumericLoader

Token = tuple[str, str]  # (kind, text)
Catalog = Callable[[str, Sequence[object]], list[tuple]]  # runs a catalog query

_TOKEN = re.compile(
    r"""(?P<str>'(?:[^']|'')*')
    |(?P<ident>"(?:[^"]|"")*")
    |(?P<space>\s+)
    |(?P<comment>--[^\n]*|/\*.*?\*/)
    |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
    |(?P<param>\?)
    |(?P<op>\|\||<=|>=|<>|!=|==|::)
    |(?P<other>.)""",
    re.X | re.S,
)
TYPES = {
    "INTEGER": "BIGINT",
    "INT": "BIGINT",
    "BLOB": "BYTEA",
    "REAL": "DOUBLE PRECISION",
    "DOUBLE": "DOUBLE PRECISION",
    "FLOAT": "DOUBLE PRECISION",
    "TEXT": 'TEXT COLLATE "C"',
}
FUNCTIONS = ("instr", "ifnull", "group_concat", "max", "min", "julianday")
CONSTRAINTS = {"PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"}
# Words that may follow a subquery in FROM where an alias would otherwise be.
AFTER_FROM = {
    "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "UNION", "EXCEPT", "INTERSECT", "JOIN", "INNER", "LEFT",
    "RIGHT", "FULL", "CROSS", "NATURAL", "ON", "USING", "HAVING", "WINDOW", "FETCH", "FOR", "RETURNING",
}  # fmt: skip
SQLITE_MASTER = (
    "(SELECT CASE c.relkind WHEN 'i' THEN 'index' WHEN 'v' THEN 'view' ELSE 'table' END AS type,"
    " c.relname::text AS name, coalesce(t.relname, c.relname)::text AS tbl_name, NULL::text AS sql"
    " FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid"
    " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'i', 'v'))"
)
UNIQUE_KEYS = """
    SELECT i.indexrelid, a.attname::text FROM pg_index i
    JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = to_regclass(%s) AND (i.indisprimary OR i.indisunique)
    ORDER BY i.indisprimary DESC, i.indexrelid, k.n
"""
COLUMNS = """
    SELECT attname::text FROM pg_attribute
    WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum
"""


def tokens(sql: str) -> list[Token]:
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(sql)]


def _significant(toks: Sequence[Token], start: int, step: int = 1) -> int:
    """Index of the next token from ``start`` (in direction ``step``) that is not space or a comment."""
    i = start
    while 0 <= i < len(toks) and toks[i][0] in ("space", "comment"):
        i += step
    return i


def _closing(toks: Sequence[Token], opening: int) -> int:
    depth = 0
    for i in range(opening, len(toks)):
        if toks[i] == ("other", "("):
            depth += 1
        elif toks[i] == ("other", ")"):
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced parentheses in SQL")


def _split_commas(toks: Sequence[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in toks:
        if tok == ("other", "("):
            depth += 1
        elif tok == ("other", ")"):
            depth -= 1
        if tok == ("other", ",") and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _words(toks: Iterable[Token]) -> list[str]:
    return [t.upper() for kind, t in toks if kind == "word"]


def split_statements(script: str) -> list[str]:
    """The statements of a script, split at semicolons outside quotes."""
    statements: list[str] = []
    current: list[Token] = []
    for tok in tokens(script):
        if tok == ("other", ";"):
            statements.append("".join(t for _, t in current))
            current = []
        else:
            current.append(tok)
    statements.append("".join(t for _, t in current))
    return [s for s in statements if s.strip()]


class Dialect:
    """Translates statements for one database; translations and table keys are cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], str | None] = {}
        self._keys: dict[str, list[str]] = {}
        self._columns: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def translate(self, sql: str, has_params: bool, catalog: Catalog) -> str | None:
        """PostgreSQL's text for ``sql``; None for a statement with nothing to do there (PRAGMA)."""
        key = (sql, has_params)
        try:
            return self._cache[key]
        except KeyError:
            pass
        text = self._translate(sql, has_params, catalog)
        with self._lock:
            if len(self._cache) > 4096:  # statements built with varying IN lists: bound the cache
                self._cache.clear()
            self._cache[key] = text
        return text

    def forget_tables(self) -> None:
        """Drop cached keys and columns (after tables were replaced)."""
        self._keys.clear()
        self._columns.clear()

    def _translate(self, sql: str, has_params: bool, catalog: Catalog) -> str | None:
        toks = tokens(sql)
        words = _words(toks)
        if not words:
            return sql
        first = words[0]
        if first == "PRAGMA":
            return None
        if first == "BEGIN":
            return "BEGIN"
        if first == "END":
            return "COMMIT"
        if words[:2] in (["CREATE", "TABLE"], ["CREATE", "TEMP"], ["CREATE", "TEMPORARY"]):
            toks = _create_table(toks)
        elif words[:2] == ["ALTER", "TABLE"] and "ADD" in words:
            toks = _alter_add(toks)
        elif first in ("INSERT", "REPLACE"):
            toks = self._insert(toks, catalog)
        toks = _functions(toks)
        toks = _aliases(toks)
        toks = _small_forms(toks)
        out = []
        for kind, text in toks:
            if kind == "param":
                out.append("%s")
            elif kind == "word" and text.lower() in ("sqlite_master", "sqlite_schema"):
                out.append(SQLITE_MASTER + " AS sqlite_master")
            else:
                out.append(text.replace("%", "%%") if has_params else text)
        return "".join(out)

    # -- INSERT OR REPLACE / IGNORE --------------------------------------------------------
    def _insert(self, toks: list[Token], catalog: Catalog) -> list[Token]:
        words_at = [n for n, t in enumerate(toks) if t[0] == "word"]
        upper = [toks[n][1].upper() for n in words_at]
        if upper[:1] == ["REPLACE"]:
            action, into_word = "REPLACE", 1
        elif upper[:2] == ["INSERT", "OR"] and len(upper) > 2:
            action, into_word = upper[2], 3
        else:
            return toks
        if into_word >= len(upper) or upper[into_word] != "INTO":
            return toks
        into = words_at[into_word]
        if action not in ("REPLACE", "IGNORE"):  # OR ABORT / FAIL / ROLLBACK: a plain INSERT's behaviour
            return [("word", "INSERT"), ("space", " ")] + toks[into:]
        table_at = _significant(toks, into + 1)
        table, j = toks[table_at][1], table_at + 1
        while j + 1 < len(toks) and toks[j] == ("other", "."):  # schema.table
            table, j = f"{table}.{toks[j + 1][1]}", j + 2
        rest = toks[j:]
        opening = _significant(rest, 0)
        if opening < len(rest) and rest[opening] == ("other", "(") and _words(rest[opening:])[:1] != ["SELECT"]:
            closing = _closing(rest, opening)
            columns = ["".join(t for _, t in part).strip() for part in _split_commas(rest[opening + 1 : closing])]
        else:
            columns = self._table_columns(table, catalog)
            rest = [("other", " (" + ", ".join(columns) + ")")] + rest
        # ON CONFLICT goes before RETURNING and any trailing semicolon.
        end = next((n for n, t in enumerate(rest) if t[0] == "word" and t[1].upper() == "RETURNING"), len(rest))
        while end > 0 and (rest[end - 1][0] in ("space", "comment") or rest[end - 1] == ("other", ";")):
            end -= 1
        if action == "IGNORE":
            clause = " ON CONFLICT DO NOTHING"
        else:
            keys = self._table_keys(table, catalog)
            if not keys:
                raise psycopg.ProgrammingError(f"INSERT OR REPLACE INTO {table}: the table has no primary key")
            lowered = {k.lower() for k in keys}
            updates = [c for c in columns if c.strip('"').lower() not in lowered]
            action_sql = (
                "DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in updates) if updates else "DO NOTHING"
            )
            clause = f" ON CONFLICT ({', '.join(keys)}) {action_sql}"
        tail = [("space", " "), *rest[end:]] if end < len(rest) else []
        return [("word", "INSERT INTO"), ("space", " "), ("word", table), *rest[:end], ("space", clause), *tail]

    def _table_keys(self, table: str, catalog: Catalog) -> list[str]:
        """The primary key's columns, else the first unique index's (what REPLACE would conflict on)."""
        if table not in self._keys:
            rows = catalog(UNIQUE_KEYS, (table,))
            first = rows[0][0] if rows else None
            self._keys[table] = [name for index, name in rows if index == first]
        return self._keys[table]

    def _table_columns(self, table: str, catalog: Catalog) -> list[str]:
        if table not in self._columns:
            self._columns[table] = [row[0] for row in catalog(COLUMNS, (table,))]
        return self._columns[table]


# -- the rewrites ------------------------------------------------------------------------------


def _create_table(toks: list[Token]) -> list[Token]:
    """Column types mapped, SQLite's table options dropped."""
    opening = next((n for n, t in enumerate(toks) if t == ("other", "(")), None)
    if opening is None or "AS" in _words(toks[:opening]):
        return toks  # CREATE TABLE ... AS SELECT
    closing = _closing(toks, opening)
    defs = [_column_def(part) for part in _split_commas(toks[opening + 1 : closing])]
    body = list(itertools.chain.from_iterable(itertools.chain(*(([("other", ",")], d) for d in defs))))[1:]
    tail = [t for t in toks[closing + 1 :] if t == ("other", ";")]
    return toks[: opening + 1] + body + [("other", ")")] + tail


def _column_def(part: list[Token]) -> list[Token]:
    first = _significant(part, 0)
    if first >= len(part) or (part[first][0] == "word" and part[first][1].upper() in CONSTRAINTS):
        return part
    out = list(part)
    type_at = _significant(out, first + 1)
    autoincrement = any(k == "word" and t.upper() == "AUTOINCREMENT" for k, t in out)
    if type_at < len(out) and out[type_at][0] == "word" and out[type_at][1].upper() in TYPES:
        mapped = TYPES[out[type_at][1].upper()]
        if autoincrement:
            mapped = "BIGINT GENERATED BY DEFAULT AS IDENTITY"
        out[type_at] = ("word", mapped)
    return [t for t in out if not (t[0] == "word" and t[1].upper() == "AUTOINCREMENT")]


def _alter_add(toks: list[Token]) -> list[Token]:
    words_at = [n for n, t in enumerate(toks) if t[0] == "word"]
    upper = [toks[n][1].upper() for n in words_at]
    at = upper.index("ADD") + 1
    if at < len(upper) and upper[at] == "COLUMN":
        at += 1
    if at >= len(words_at):
        return toks
    name = words_at[at]
    return toks[:name] + _column_def(toks[name:])


def _functions(toks: list[Token]) -> list[Token]:
    """instr, ifnull, group_concat and the scalar max/min of several arguments, recursively."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        name = text.lower() if kind == "word" else ""
        opening = _significant(toks, i + 1) if name else -1
        if name in FUNCTIONS and opening < len(toks) and toks[opening] == ("other", "("):
            closing = _closing(toks, opening)
            args = [_functions(a) for a in _split_commas(toks[opening + 1 : closing])]
            replaced = _call(name, args)
            if replaced is not None:
                out.extend(replaced)
                i = closing + 1
                continue
        out.append(toks[i])
        i += 1
    return out


def _call(name: str, args: list[list[Token]]) -> list[Token] | None:
    def joined(parts: Iterable[list[Token]], separator: str) -> list[Token]:
        result: list[Token] = []
        for n, part in enumerate(parts):
            if n:
                result.append(("other", separator))
            result.extend(part)
        return result

    if name == "instr" and len(args) == 2:
        return [("word", "position"), ("other", "(")] + args[1] + [("space", " in ")] + args[0] + [("other", ")")]
    if name == "julianday" and len(args) == 1:  # days since noon, 24 November 4714 BC: the same float
        return [("other", "(EXTRACT(EPOCH FROM ("), *args[0], ("other", ")::timestamp) / 86400.0 + 2440587.5)")]
    if name == "ifnull":
        return [("word", "coalesce"), ("other", "(")] + joined(args, ",") + [("other", ")")]
    if name == "group_concat":
        separator = args[1] if len(args) > 1 else [("str", "','")]
        return [("word", "string_agg"), ("other", "(("), *args[0], ("other", ")::text,"), *separator, ("other", ")")]
    if name in ("max", "min") and len(args) > 1:
        return (
            [("word", "greatest" if name == "max" else "least"), ("other", "(")] + joined(args, ",") + [("other", ")")]
        )
    return None


def _aliases(toks: list[Token]) -> list[Token]:
    """A subquery in FROM or JOIN without an alias gets one (PostgreSQL before 16 requires it)."""
    out: list[Token] = []
    counter = itertools.count(1)
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok == ("other", "("):
            before = _significant(toks, i - 1, -1)
            after = _significant(toks, i + 1)
            closing = _closing(toks, i)
            is_from = before >= 0 and toks[before][0] == "word" and toks[before][1].upper() in ("FROM", "JOIN")
            is_select = after < len(toks) and toks[after][0] == "word" and toks[after][1].upper() in ("SELECT", "WITH")
            inner = _aliases(toks[i + 1 : closing])
            out.extend([tok, *inner, toks[closing]])
            if is_from and is_select:
                nxt = _significant(toks, closing + 1)
                named = nxt < len(toks) and (
                    toks[nxt][0] == "ident" or (toks[nxt][0] == "word" and toks[nxt][1].upper() not in AFTER_FROM)
                )
                if not named:
                    out.append(("space", f" AS _subquery{next(counter)}"))
            i = closing + 1
            continue
        out.append(tok)
        i += 1
    return out


def _small_forms(toks: list[Token]) -> list[Token]:
    """``IS ?`` / ``IS NOT ?`` (SQLite's null-safe comparison) and ``LIMIT -1`` (no limit)."""
    out = list(toks)
    for n, (kind, text) in enumerate(out):
        if kind != "word":
            continue
        upper = text.upper()
        if upper == "IS":
            nxt = _significant(out, n + 1)
            if nxt < len(out) and out[nxt][0] == "param":
                out[n] = ("word", "IS NOT DISTINCT FROM")
            elif nxt < len(out) and out[nxt][0] == "word" and out[nxt][1].upper() == "NOT":
                after = _significant(out, nxt + 1)
                if after < len(out) and out[after][0] == "param":
                    out[n], out[nxt] = ("word", "IS DISTINCT FROM"), ("space", "")
        elif upper == "LIMIT":
            sign = _significant(out, n + 1)
            number = _significant(out, sign + 1)
            if sign < len(out) and out[sign] == ("other", "-") and number < len(out) and out[number] == ("num", "1"):
                out[sign], out[number] = ("space", ""), ("word", "ALL")
    return out


# -- connections ---------------------------------------------------------------------------------


class _SqliteLikeNumeric(NumericLoader):
    """NUMERIC (what sum() of integers gives) as SQLite would answer: int when whole, else float."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return value


def prepare(conn: psycopg.Connection) -> psycopg.Connection:
    """Configure a new connection for the translated statements."""
    conn.adapters.register_loader("numeric", _SqliteLikeNumeric)
    return conn


def _integrity(error: psycopg.IntegrityError) -> sqlite3.IntegrityError:
    found = sqlite3.IntegrityError(str(error).strip())
    found.__cause__ = error
    return found


class Rows:
    """A cursor over rows already fetched (the pooled reader returns its connection at once)."""

    arraysize = 1

    def __init__(self, rows: list[tuple] | None, description: Any, rowcount: int):
        self._rows = iter(rows or [])
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = None

    def fetchone(self) -> tuple | None:
        return next(self._rows, None)

    def fetchall(self) -> list[tuple]:
        return list(self._rows)

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        return list(itertools.islice(self._rows, size or self.arraysize))

    def __iter__(self) -> Iterator[tuple]:
        return self._rows

    def __next__(self) -> tuple:  # sqlite3's cursor is its own iterator: next(cursor) works
        return next(self._rows)

    def close(self) -> None:
        self._rows = iter(())


class Cursor:
    """sqlite3's cursor interface over a psycopg cursor of a wrapped connection."""

    arraysize = 1

    def __init__(self, connection: Connection):
        self.connection = connection
        self._cursor: Any = None
        self.lastrowid = None

    @property
    def description(self) -> Any:
        return None if self._cursor is None else self._cursor.description

    @property
    def rowcount(self) -> int:
        return -1 if self._cursor is None else self._cursor.rowcount

    def execute(self, sql: str, params: Sequence[object] | None = None) -> Cursor:
        self._cursor = self.connection._run(sql, params)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> Cursor:
        self._cursor = self.connection._run_many(sql, rows)
        return self

    def _has_rows(self) -> bool:
        return self._cursor is not None and self._cursor.description is not None

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._has_rows() else None

    def fetchall(self) -> list[tuple]:
        if not self._has_rows():
            return []
        rows = self._cursor.fetchall()
        self._done()
        return rows

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        if not self._has_rows():
            return []
        rows = self._cursor.fetchmany(size or self.arraysize)
        if not rows:
            self._done()
        return rows

    def __iter__(self) -> Iterator[tuple]:
        return self

    def __next__(self) -> tuple:  # sqlite3's cursor is its own iterator: next(cursor) works
        row = self._cursor.fetchone() if self._has_rows() else None
        if row is None:
            self._done()
            raise StopIteration
        return row

    def _done(self) -> None:
        """A server-side cursor read to its end is closed (its portal would live to the transaction's end)."""
        if isinstance(self._cursor, psycopg.ServerCursor) and not self._cursor.closed:
            self._cursor.close()

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()


class Connection:
    """A psycopg connection that speaks sqlite3: what the projections' functions receive.

    ``stream`` (inside a transaction): a SELECT without LIMIT is read through a server-side
    cursor, a page at a time, so a replay streams the log instead of holding it in memory.
    """

    _names = itertools.count(1)

    def __init__(self, raw: psycopg.Connection, dialect: Dialect, *, stream: bool = False):
        self.raw = raw
        self.dialect = dialect
        self.stream = stream
        self._open: list[Any] = []  # server-side cursors still open

    # sqlite3.Connection's interface
    def execute(self, sql: str, params: Sequence[object] | None = None) -> Cursor:
        return Cursor(self).execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> Cursor:
        return Cursor(self).executemany(sql, rows)

    def executescript(self, script: str) -> Cursor:
        cursor = Cursor(self)
        for statement in split_statements(script):
            cursor.execute(statement)
        return cursor

    def cursor(self) -> Cursor:
        return Cursor(self)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        self._open.clear()  # the transaction's end closes its cursors
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self._open.clear()
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    # translation and execution
    def _catalog(self, sql: str, params: Sequence[object]) -> list[tuple]:
        return self.raw.execute(sql, params).fetchall()

    def _run(self, sql: str, params: Sequence[object] | None) -> Any:
        text = self.dialect.translate(sql, bool(params), self._catalog)
        if text is None:
            return None
        try:
            if self.stream and self.in_transaction and _streamable(text):
                cursor = self.raw.cursor(name=f"diplo_stream_{next(self._names)}")
                cursor.itersize = 2_000
                self._open = [c for c in self._open if not c.closed] + [cursor]
                return cursor.execute(text, params or None)
            if self._open and _words(tokens(text))[:1] in (["DROP"], ["ALTER"]):
                self._close_streams()  # a table read by an open cursor cannot be dropped or altered
            return self.raw.execute(text, params or None)
        except psycopg.IntegrityError as error:
            raise _integrity(error) from error

    def _run_many(self, sql: str, rows: Iterable[Sequence[object]]) -> Any:
        rows = list(rows)
        text = self.dialect.translate(sql, True, self._catalog)
        cursor = self.raw.cursor()
        if text is None or not rows:
            return cursor
        try:
            cursor.executemany(text, rows)
        except psycopg.IntegrityError as error:
            raise _integrity(error) from error
        return cursor

    def _close_streams(self) -> None:
        for cursor in self._open:
            if not cursor.closed:
                cursor.close()
        self._open.clear()


def _streamable(text: str) -> bool:
    """An ordered SELECT without LIMIT: the shape of a scan over the log (an aggregate is neither)."""
    words = _words(tokens(text))
    return bool(words) and words[0] in ("SELECT", "WITH") and "ORDER" in words and "LIMIT" not in words


class PooledReader:
    """``log.reader()`` on PostgreSQL: each statement runs on a pooled connection (autocommit, as
    SQLite's readers are), fetched whole, the connection given back at once. A connection that
    died while idle is replaced; a server that is gone raises Unavailable."""

    def __init__(self, read: Callable[[Callable[[psycopg.Connection], Any]], Any], dialect: Dialect):
        self._read = read
        self.dialect = dialect
        self.in_transaction = False

    def execute(self, sql: str, params: Sequence[object] | None = None) -> Rows:
        return self._read(lambda conn: self._fetch(conn, sql, params))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> Rows:
        rows = list(rows)
        return self._read(lambda conn: Connection(conn, self.dialect).executemany(sql, rows) and Rows(None, None, -1))

    def executescript(self, script: str) -> Rows:
        for statement in split_statements(script):
            self.execute(statement)
        return Rows(None, None, -1)

    def cursor(self) -> _PooledCursor:
        return _PooledCursor(self)

    def commit(self) -> None:
        """Each statement commits by itself (autocommit)."""

    def rollback(self) -> None:
        """Nothing is ever pending."""

    def close(self) -> None:
        """The pool keeps its connections."""

    def _fetch(self, conn: psycopg.Connection, sql: str, params: Sequence[object] | None) -> Rows:
        cursor = Connection(conn, self.dialect).execute(sql, params)
        rows = cursor.fetchall() if cursor.description is not None else None
        return Rows(rows, cursor.description, cursor.rowcount)


class _PooledCursor:
    def __init__(self, reader: PooledReader):
        self.reader = reader
        self._rows = Rows(None, None, -1)

    def execute(self, sql: str, params: Sequence[object] | None = None) -> _PooledCursor:
        self._rows = self.reader.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> _PooledCursor:
        self._rows = self.reader.executemany(sql, rows)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rows, name)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._rows)

    def __next__(self) -> tuple:
        return next(self._rows)
