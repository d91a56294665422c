"""Bulk writes of checked person rows: PostgreSQL COPY, or executemany on SQLite.

A person written here is the row `services.create_person` would have saved: the same columns
(derived from the model, so a field the registry adds later is written with its default), ID
number, phone and addresses encrypted with `pii.encrypt` under the field's kind, their blind
indexes filled, `area_code` copied from the area, `created_by` the importer — and its change
history row (django-simple-history's "+" with the importer as history user), copied from the
written row inside the database so it holds exactly the stored values.

Ids are reserved before the write (PostgreSQL: the table's sequence; SQLite: above the highest
id ever used, under the write lock an IMMEDIATE transaction holds), so rows and their history
are written without reading anything back. Updates (an ID number already registered, when the
user chose to update) set only the columns the file gave, then add "~" history rows the same
way. Every call must run inside the import's transaction.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

from django.db import connection

from zhili.core import pii
from zhili.core.pii import EncryptedTextField
from zhili.core.pii.fields import companion_field
from zhili.people.models import Person

# Columns an import may change on a person already registered (the ID number is the key; the
# area changes through the move service, which tells the modules that follow persons).
NOT_UPDATED = {"id", "id_type", "id_number", "id_number_bidx", "area", "area_code", "house",
               "house_relation", "is_active", "inactive_reason", "inactive_on", "created_by",
               "created_at", "updated_at"}
SQLITE_PARAMS = 900  # below SQLite's default limit of 999 bound parameters


def _copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    kind = value.__class__
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\\", "\\\\").replace("\t", "\\t").replace(
                "\n", "\\n").replace("\r", "\\r")
        return value
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):  # dates and (aware) datetimes
        return value.isoformat()
    return _copy_text(str(value))


class PersonWriter:
    def __init__(self, *, actor, now):
        self.vendor = connection.vendor
        self.actor_id = getattr(actor, "pk", None)
        self.table = Person._meta.db_table
        self.fields = list(Person._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        self.index.update({f.name: i for i, f in enumerate(self.fields)})
        self.encrypted: dict[str, tuple[str, int | None]] = {}
        for field in self.fields:
            if isinstance(field, EncryptedTextField):
                companion = companion_field(Person, field.name)
                self.encrypted[field.name] = (
                    field.kind, self.index[companion.attname] if companion else None)
        # One encrypter per kind for the whole import (key and associated data looked up once).
        self.encrypt = {kind: pii.encrypter(kind) for kind, _c in self.encrypted.values()}
        template = []
        for field in self.fields:
            value = field.get_default() if field.has_default() else (
                None if field.null else "")
            template.append(value)
        stamp = Person._meta.get_field("created_at").get_db_prep_save(now, connection)
        template[self.index["created_at"]] = stamp
        template[self.index["updated_at"]] = stamp
        template[self.index["created_by_id"]] = self.actor_id
        self.template = template
        self.stamp = stamp
        # COPY text: every column but the id, in order, then the id (added by `insert`).
        self.id_position = self.index["id"]
        self.copy_columns = [c for i, c in enumerate(self.columns) if i != self.id_position]
        self.copy_columns.append(self.columns[self.id_position])
        shift = {i: (i if i < self.id_position else i - 1) for i in range(len(self.fields))
                 if i != self.id_position}
        self.text_index = {name: shift[i] for name, i in self.index.items() if i in shift}
        self.text_template = [_copy_text(v) for i, v in enumerate(template)
                              if i != self.id_position]
        self.text_encrypted = {name: (kind, shift[companion] if companion is not None else None)
                               for name, (kind, companion) in self.encrypted.items()}
        self._history_sql = self._history_statement()
        self._history_copy()

    def _history_copy(self) -> None:
        """How a new person's history row is cut from its COPY line: the tracked columns are
        the person's own values (as encoded for the person), the history columns constants;
        the id comes last, as for the person. The history row holds exactly what was
        written, as the INSERT … SELECT of `history` would copy it."""
        history = Person.history.model
        constants = {"history_date": _copy_text(self.stamp), "history_type": "+",
                     "history_user": "\\N" if self.actor_id is None else str(self.actor_id)}
        extra: list[str] = []  # constants appended after the person's values
        base = len(self.text_template)
        columns, picks = [], []
        for field in history._meta.concrete_fields:
            if field.name == "history_id" or field.attname == "id":
                continue
            columns.append(field.column)
            if field.name in constants:
                extra.append(constants[field.name])
                picks.append(base + len(extra) - 1)
            elif field.attname in self.text_index and field.name not in constants:
                picks.append(self.text_index[field.attname])
            else:  # history_change_reason, or an extra field of the history table
                extra.append("\\N")
                picks.append(base + len(extra) - 1)
        columns.append("id")
        self.history_copy_columns = columns
        self.history_constants = extra
        self.history_pick = operator.itemgetter(*picks)

    # --- reading ------------------------------------------------------------------------------

    def lookup(self, indexes: list[str]) -> dict[str, tuple[int, str, bool, str]]:
        """Persons already registered under these ID-number blind indexes: {bidx: (id,
        area_code, is_active, inactive_reason)}, the active (then oldest) one per number.
        One indexed query per batch (PostgreSQL: `= ANY(array)`, one parameter)."""
        if not indexes:
            return {}
        quote = connection.ops.quote_name
        select = (f"SELECT {quote('id_number_bidx')}, {quote('id')}, {quote('area_code')}, "
                  f"{quote('is_active')}, {quote('inactive_reason')} "
                  f"FROM {quote(self.table)} WHERE {quote('id_number_bidx')} ")
        rows = []
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(select + "= ANY(%s)", [indexes])
                rows = cursor.fetchall()
            else:
                for start in range(0, len(indexes), SQLITE_PARAMS):
                    chunk = indexes[start:start + SQLITE_PARAMS]
                    cursor.execute(select + f"IN ({', '.join(['%s'] * len(chunk))})", chunk)
                    rows.extend(cursor.fetchall())
        found: dict[str, tuple] = {}
        for bidx, pk, area_code, active, reason in sorted(rows, key=lambda r: (not r[3], r[1])):
            found.setdefault(bidx, (pk, area_code, bool(active), reason))
        return found

    # --- new persons ----------------------------------------------------------------------------

    def row(self, cleaned: dict, *, area_id: int, area_code: str, id_bidx: str) -> list:
        """The column values of a new person (the id is set by `insert`)."""
        row = self.template.copy()
        index = self.index
        row[index["area_id"]] = area_id
        row[index["area_code"]] = area_code
        encrypted = self.encrypted
        for name, value in cleaned.items():
            position = index.get(name)
            if position is None:
                continue
            spec = encrypted.get(name)
            if spec is None:
                row[position] = value
            elif value:
                kind, companion = spec
                row[position] = self.encrypt[kind](value)
                if companion is not None:
                    row[companion] = id_bidx if name == "id_number" else \
                        pii.blind_index(value, kind)
            else:
                row[position] = None
        return row

    def reserve_ids(self, count: int) -> list[int]:
        if not count:
            return []
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT array_agg(nextval(pg_get_serial_sequence(%s, 'id'))) "
                    "FROM generate_series(1, %s)", [self.table, count])
                return sorted(cursor.fetchone()[0])
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            used = cursor.fetchone()
            highest = max(highest, used[0] if used else 0)
        return list(range(highest + 1, highest + 1 + count))

    def row_text(self, cleaned: dict, *, area_id: int, area_code: str,
                 id_bidx: str) -> tuple[str, str]:
        """A new person and its "+" history row as lines of COPY text without the id
        (PostgreSQL): what `row` gives, encoded where it is prepared, so the writing side only
        sends bytes. Only the values the row has are encoded; the other columns are the
        template's, encoded once."""
        parts = self.text_template.copy()
        index = self.text_index
        parts[index["area_id"]] = str(area_id)
        parts[index["area_code"]] = area_code
        encrypted = self.text_encrypted
        for name, value in cleaned.items():
            position = index.get(name)
            if position is None:
                continue
            spec = encrypted.get(name)
            if spec is None:
                parts[position] = _copy_text(value)
            elif value:
                kind, companion = spec
                parts[position] = self.encrypt[kind](value)  # base64url: nothing to escape
                if companion is not None:
                    parts[companion] = id_bidx if name == "id_number" else \
                        pii.blind_index(value, kind)
            else:
                parts[position] = "\\N"
        line = "\t".join(parts)
        parts.extend(self.history_constants)
        return line + "\t", "\t".join(self.history_pick(parts)) + "\t"

    def insert(self, rows: list) -> list[int]:
        """Write new persons and their "+" history; returns their ids. `rows` are lines from
        `row_text` on PostgreSQL, value lists from `row` on SQLite."""
        if not rows:
            return []
        ids = self.reserve_ids(len(rows))
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                statement = (f"COPY {quote(self.table)} "
                             f"({', '.join(quote(c) for c in self.copy_columns)}) FROM STDIN")
                payload = "".join([f"{line}{pk}\n" for (line, _h), pk in
                                   zip(rows, ids, strict=True)])
                with cursor.cursor.copy(statement) as copy:
                    copy.write(payload.encode("utf-8"))
                statement = (f"COPY {quote(Person.history.model._meta.db_table)} "
                             f"({', '.join(quote(c) for c in self.history_copy_columns)}) "
                             "FROM STDIN")
                payload = "".join([f"{line}{pk}\n" for (_p, line), pk in
                                   zip(rows, ids, strict=True)])
                with cursor.cursor.copy(statement) as copy:
                    copy.write(payload.encode("utf-8"))
                return ids
            else:
                position = self.id_position
                for pk, row in zip(ids, rows, strict=True):
                    row[position] = pk
                columns = ", ".join(quote(c) for c in self.columns)
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})", rows)
        self.history(ids, "+")
        return ids

    # --- updates ----------------------------------------------------------------------------

    def update(self, changes: list[tuple[int, dict]]) -> None:
        """Set the given columns of registered persons, grouped by the set of columns given,
        and add their "~" history."""
        if not changes:
            return
        groups: dict[tuple[str, ...], list[list]] = {}
        for pk, values in changes:
            row_values: dict[str, object] = {}
            for name, value in values.items():
                if name in NOT_UPDATED or name not in self.index:
                    continue
                spec = self.encrypted.get(name)
                if spec is None:
                    row_values[self.fields[self.index[name]].column] = value
                    continue
                kind, companion = spec
                row_values[self.fields[self.index[name]].column] = self.encrypt[kind](value) \
                    if value else None
                if companion is not None:
                    row_values[self.columns[companion]] = pii.blind_index(value, kind) \
                        if value else ""
            names = tuple(sorted(row_values))
            groups.setdefault(names, []).append([*(row_values[n] for n in names), pk])
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for names, rows in groups.items():
                sets = ", ".join([*(f"{quote(n)} = %s" for n in names),
                                  f"{quote('updated_at')} = %s"])
                statement = f"UPDATE {quote(self.table)} SET {sets} WHERE {quote('id')} = %s"
                cursor.executemany(statement, [[*r[:-1], self.stamp, r[-1]] for r in rows])
        self.history([pk for pk, _values in changes], "~")

    # --- history ------------------------------------------------------------------------------

    def _history_statement(self) -> tuple[str, list[str]]:
        """INSERT … SELECT copying persons into their history rows (the parameters named in
        the second item are bound per call)."""
        history = Person.history.model
        quote = connection.ops.quote_name
        targets, sources, params = [], [], []
        for field in history._meta.concrete_fields:
            if field.name == "history_id":
                continue
            targets.append(quote(field.column))
            if field.name == "history_date":
                sources.append("%s")
                params.append("date")
            elif field.name == "history_type":
                sources.append("%s")
                params.append("type")
            elif field.name == "history_user":
                sources.append("%s")
                params.append("user")
            elif field.attname in self.index:
                sources.append(quote(self.columns[self.index[field.attname]]))
            else:  # history_change_reason, or an extra field of the history table
                sources.append("NULL")
        sql = (f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(targets)}) "
               f"SELECT {', '.join(sources)} FROM {quote(self.table)} WHERE ")
        return sql, params

    def history(self, ids: list[int], kind: str) -> None:
        if not ids:
            return
        sql, names = self._history_sql
        values = {"date": self.stamp, "type": kind, "user": self.actor_id}
        bound = [values[n] for n in names]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(sql + f"{quote('id')} = ANY(%s) ORDER BY {quote('id')}",
                               [*bound, list(ids)])
                return
            contiguous = ids == list(range(ids[0], ids[0] + len(ids)))
            if contiguous:
                cursor.execute(sql + f"{quote('id')} BETWEEN %s AND %s ORDER BY {quote('id')}",
                               [*bound, ids[0], ids[-1]])
                return
            step = SQLITE_PARAMS - len(bound)
            for start in range(0, len(ids), step):
                chunk = ids[start:start + step]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(sql + f"{quote('id')} IN ({marks}) ORDER BY {quote('id')}",
                               [*bound, *chunk])
