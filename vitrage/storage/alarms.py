"""Alarm queries over the history tables (rest-api-v1.md 4.7, 4.9-4.11).

The persistor fills ``alarms`` and ``edges`` from the graph's history
notifications (:mod:`vitrage.storage.history`); this module reads them
for the API:

* :meth:`AlarmQueries.list_alarms`: active alarms (no end yet), paged,
  sorted and filtered;
* :meth:`AlarmQueries.history`: active and ended alarms in a time window;
* :meth:`AlarmQueries.count`: active alarms per operational severity;
* :meth:`AlarmQueries.rca`: an alarm, what causes it and what it causes
  (``causes`` edges followed upstream only and downstream only, at any
  depth), ended ones included.

An alarm *record* (section 7.2) is the payload stored at activation, with
the columns that later changes keep current (severities, resource
project) laid over it, plus ``start_timestamp`` and, for an ended alarm,
``end_timestamp``, ``state: Inactive`` and
``vitrage_operational_severity: OK``. Timestamps are ``str()`` of aware
UTC datetimes (``2024-05-01 10:00:00+00:00``).

Tenancy (section 1.5) is a :class:`Scope`: a caller sees the alarms whose
own project or whose resource's project is its own; an admin also those
with neither; ``all_tenants`` (or an admin of no project) sees all.
"""
from collections.abc import Iterable
import dataclasses
import datetime
import json
from typing import Any

import sqlalchemy as sa

from vitrage.common.constants import AlarmSeverity
from vitrage.common.constants import AlarmState
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.storage import connection as db_connection
from vitrage.storage import models

ALARMS = models.Alarm.__table__
EDGES = models.Edge.__table__

#: Rows a page holds when the caller gives no limit.
DEFAULT_LIMIT = 10000
#: Columns a list may be sorted by.
SORT_COLUMNS = ('vitrage_id', 'start_timestamp', 'end_timestamp', 'name',
                'vitrage_type', 'vitrage_aggregated_severity',
                'vitrage_operational_severity', 'project_id',
                'vitrage_resource_type', 'vitrage_resource_id',
                'vitrage_resource_project_id')
#: Columns a list may be filtered by (text columns, substring match).
FILTER_COLUMNS = tuple(c for c in SORT_COLUMNS
                       if c not in ('start_timestamp', 'end_timestamp'))
DEFAULT_SORT = ('start_timestamp', 'vitrage_id')
SORT_DIRS = ('asc', 'desc')
#: Columns whose current value (kept by alarm changes) wins over the
#: payload stored at activation.
_CURRENT_COLUMNS = ('vitrage_aggregated_severity',
                    'vitrage_operational_severity',
                    'vitrage_resource_project_id')
#: Sorts an open alarm after every ended one on end_timestamp.
_NO_END = datetime.datetime(9999, 12, 31, 23, 59, 59)
#: Ids per IN (...) list of the RCA walk.
_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which alarms a caller may see.

    :ivar project_id: the caller's project (None: none).
    :ivar is_admin: the caller has the admin role.
    :ivar all_tenants: the caller asked for every project (the API has
        checked that it may).
    """

    project_id: str | None = None
    is_admin: bool = False
    all_tenants: bool = False

    @classmethod
    def of(cls, ctx: dict, all_tenants: bool = False) -> 'Scope':
        """The scope of an API request context.

        :param ctx: ``{"project_id", "is_admin", ...}``.
        :param all_tenants: the request's ``all_tenants``.
        """
        return cls(ctx.get('project_id') or None, bool(ctx.get('is_admin')),
                   bool(all_tenants))

    @property
    def unscoped(self) -> bool:
        return self.all_tenants or (self.is_admin and self.project_id is None)

    def clause(self) -> sa.ColumnElement | None:
        """The SQL condition on ``alarms`` rows (None: every row)."""
        if self.unscoped:
            return None
        own = ALARMS.c.project_id
        resource = ALARMS.c.vitrage_resource_project_id
        terms = []
        if self.project_id is not None:
            terms += [own == self.project_id, resource == self.project_id]
        if self.is_admin:
            terms.append(sa.and_(own.is_(None), resource.is_(None)))
        return sa.or_(*terms) if terms else sa.false()

    def sees(self, row: Any) -> bool:
        """Whether an ``alarms`` row is visible (the same rule in Python)."""
        if self.unscoped:
            return True
        own, resource = row.project_id, row.vitrage_resource_project_id
        if self.project_id is not None and \
                self.project_id in (own, resource):
            return True
        return self.is_admin and own is None and resource is None


@dataclasses.dataclass
class Page:
    """Paging, sorting and filtering of a list (section 4.7).

    :ivar limit: rows per page; None for :data:`DEFAULT_LIMIT`, 0 for no
        limit.
    :ivar sort_by: columns of :data:`SORT_COLUMNS`.
    :ivar sort_dirs: ``asc``/``desc`` per sort column (missing ones are
        ``asc``).
    :ivar filter_by: columns of :data:`FILTER_COLUMNS`.
    :ivar filter_vals: per filter column, a substring or a list of
        substrings (any of them matches).
    :ivar next_page: with ``marker``: the page after it (True) or before
        it (False).
    :ivar marker: the vitrage_id of the last row of the current page (or
        the first one, for the page before).
    """

    limit: int | None = None
    sort_by: list[str] = dataclasses.field(
        default_factory=lambda: list(DEFAULT_SORT))
    sort_dirs: list[str] = dataclasses.field(default_factory=list)
    filter_by: list[str] = dataclasses.field(default_factory=list)
    filter_vals: list = dataclasses.field(default_factory=list)
    next_page: bool = True
    marker: str | None = None

    def check(self) -> None:
        """:raises vitrage.common.exceptions.BadRequest: naming the bad
        argument.
        """
        if self.limit is not None and (isinstance(self.limit, bool) or
                                       not isinstance(self.limit, int) or
                                       self.limit < 0):
            raise exceptions.BadRequest(
                'Invalid limit %r: expected a non-negative integer'
                % (self.limit,))
        for column in self.sort_by:
            if column not in SORT_COLUMNS:
                raise exceptions.BadRequest(
                    'Invalid sort_by %r: expected one of %s'
                    % (column, ', '.join(SORT_COLUMNS)))
        if len(self.sort_dirs) > len(self.sort_by):
            raise exceptions.BadRequest(
                'Got %d sort_dirs for %d sort_by keys'
                % (len(self.sort_dirs), len(self.sort_by)))
        for direction in self.sort_dirs:
            if direction not in SORT_DIRS:
                raise exceptions.BadRequest(
                    "Invalid sort_dirs %r: expected 'asc' or 'desc'"
                    % (direction,))
        if len(self.filter_by) != len(self.filter_vals):
            raise exceptions.BadRequest(
                'filter_by and filter_vals must have the same length '
                '(got %d and %d)' % (len(self.filter_by),
                                     len(self.filter_vals)))
        for column, value in zip(self.filter_by, self.filter_vals):
            if column not in FILTER_COLUMNS:
                raise exceptions.BadRequest(
                    'Invalid filter_by %r: expected one of %s'
                    % (column, ', '.join(FILTER_COLUMNS)))
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, str) for v in values):
                raise exceptions.BadRequest(
                    'Invalid filter value %r for %s: expected a string or '
                    'a list of strings' % (value, column))


#: MariaDB collation that orders text by code point, as SQLite does.
_BINARY_COLLATION = 'utf8mb4_bin'


def _sort_expression(column: str, binary_collation: bool
                     ) -> sa.ColumnElement:
    """A column as sorted and compared: nulls never take part, and text
    sorts by code point on every backend (as :func:`page_records` does).
    """
    col = ALARMS.c[column]
    if column == 'end_timestamp':
        return sa.func.coalesce(col, sa.literal(_NO_END, col.type))
    expression = sa.func.coalesce(col, '') if col.nullable else col
    if binary_collation and isinstance(col.type, sa.String):
        expression = expression.collate(_BINARY_COLLATION)
    return expression


def aware(value: datetime.datetime) -> datetime.datetime:
    """A naive UTC datetime of the database, made aware."""
    return value.replace(tzinfo=datetime.timezone.utc)


def record(row: Any) -> dict:
    """The alarm record of an ``alarms`` row (section 7.2)."""
    try:
        result = json.loads(row.payload)
    except ValueError:
        result = {}
    if not isinstance(result, dict):
        result = {}
    for column in ('vitrage_id',) + _CURRENT_COLUMNS:
        value = getattr(row, column)
        if value is not None:
            result[column] = value
    result['start_timestamp'] = str(aware(row.start_timestamp))
    if row.end_timestamp is not None:
        result['end_timestamp'] = str(aware(row.end_timestamp))
        result[Prop.STATE] = AlarmState.INACTIVE
        result[Prop.OPERATIONAL_SEVERITY] = AlarmSeverity.OK
    else:
        result.pop('end_timestamp', None)
    return result


def empty_rca() -> dict:
    """The RCA answer of an unknown (or invisible) alarm."""
    return {'directed': True, 'multigraph': True, 'graph': {},
            'inspected_index': 0, 'nodes': [], 'links': []}


def page_records(records: list[dict], page: Page) -> list[dict]:
    """The :class:`Page` semantics over alarm records held in memory.

    For deployments without alarm history, whose lists come from the live
    graph: the same columns, substring filters (case-insensitive, as the
    databases' ``LIKE``), sort order (absent values first, ties broken by
    vitrage_id) and paging, except that the marker must be one of the
    records.

    :param records: alarm records (vertex property dicts).
    :param page: paging, sorting and filtering.
    :raises vitrage.common.exceptions.BadRequest: on a bad page argument
        or a marker that is not among the records.
    """
    page.check()
    selected = []
    for item in records:
        for column, value in zip(page.filter_by, page.filter_vals):
            values = value if isinstance(value, list) else [value]
            text = _text(item.get(column)).lower()
            if not any(v.lower() in text for v in values):
                break
        else:
            selected.append(item)
    descending = [d == 'desc' for d in page.sort_dirs]
    descending += [False] * (len(page.sort_by) - len(descending))
    # Stable sorts, least significant key first; the tie-breaker sorts as
    # the last key does.
    selected.sort(key=lambda r: _text(r.get('vitrage_id')),
                  reverse=descending[-1] if descending else False)
    for column, desc in reversed(list(zip(page.sort_by, descending))):
        selected.sort(key=lambda r: _sort_text(r, column), reverse=desc)
    limit = DEFAULT_LIMIT if page.limit is None else page.limit
    if page.marker is None:
        return selected[:limit] if limit else selected
    positions = [i for i, r in enumerate(selected)
                 if r.get('vitrage_id') == page.marker]
    if not positions:
        raise exceptions.BadRequest(
            'Invalid marker %r: no alarm has this vitrage_id' % page.marker)
    at = positions[0]
    if page.next_page:
        return selected[at + 1:at + 1 + limit] if limit else \
            selected[at + 1:]
    return selected[max(0, at - limit):at] if limit else selected[:at]


def count_records(records: Iterable[dict]) -> dict[str, int]:
    """Alarm records per operational severity (see
    :meth:`AlarmQueries.count`).
    """
    counts = {s: 0 for s in AlarmSeverity.ALL}
    for item in records:
        value = item.get(Prop.OPERATIONAL_SEVERITY)
        counts[value if value in counts else AlarmSeverity.NA] += 1
    return counts


def _text(value: Any) -> str:
    if value is None:
        return ''
    return value if isinstance(value, str) else str(value)


def _sort_text(item: dict, column: str) -> str:
    value = item.get(column)
    if value is None and column == 'end_timestamp':
        return str(aware(_NO_END))
    return _text(value)


class AlarmQueries:
    """Reads of the alarm history for the API.

    :param database: the database holding the migrated schema.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def list_alarms(self, scope: Scope, page: Page,
                    resource_id: str | None = None) -> list[dict]:
        """Active alarms (not ended), one page of them.

        :param scope: what the caller may see.
        :param page: paging, sorting and filtering.
        :param resource_id: only the alarms on this resource (its
            vitrage_id); None or ``all`` for every alarm.
        :raises vitrage.common.exceptions.BadRequest: on a bad page
            argument or an unknown marker.
        :raises oslo_db.exception.DBError: on a database error.
        """
        where = [ALARMS.c.end_timestamp.is_(None)]
        if resource_id is not None and resource_id != 'all':
            where.append(ALARMS.c.vitrage_resource_id == resource_id)
        return self._page(scope, page, where)

    def history(self, scope: Scope, page: Page,
                start: datetime.datetime | None = None,
                end: datetime.datetime | None = None) -> list[dict]:
        """Active and ended alarms, one page of them.

        :param scope: what the caller may see.
        :param page: paging, sorting and filtering.
        :param start: only alarms active at some time at or after it
            (naive UTC).
        :param end: with ``start``: only alarms active at some time in
            [start, end].
        :raises vitrage.common.exceptions.BadRequest: ``end`` without
            ``start``, ``end`` before ``start``, a bad page argument or an
            unknown marker.
        :raises oslo_db.exception.DBError: on a database error.
        """
        where = []
        if end is not None and start is None:
            raise exceptions.BadRequest("'end' needs a 'start'")
        if start is not None:
            where.append(sa.or_(ALARMS.c.end_timestamp.is_(None),
                                ALARMS.c.end_timestamp >= start))
        if end is not None:
            if end < start:
                raise exceptions.BadRequest("'end' is before 'start'")
            where.append(ALARMS.c.start_timestamp <= end)
        return self._page(scope, page, where)

    def count(self, scope: Scope) -> dict[str, int]:
        """Active alarms per operational severity.

        :param scope: what the caller may see.
        :returns: the five severities (``CRITICAL``, ``SEVERE``,
            ``WARNING``, ``OK``, ``N/A``), each with its count; an alarm of
            no or another severity counts as ``N/A``.
        :raises oslo_db.exception.DBError: on a database error.
        """
        severity = ALARMS.c.vitrage_operational_severity
        query = (sa.select(severity, sa.func.count())
                 .where(ALARMS.c.end_timestamp.is_(None))
                 .group_by(severity))
        clause = scope.clause()
        if clause is not None:
            query = query.where(clause)
        counts = {s: 0 for s in AlarmSeverity.ALL}
        with self.database.connect() as connection:
            for value, number in connection.execute(query):
                key = value if value in counts else AlarmSeverity.NA
                counts[key] += number
        return counts

    def rca(self, scope: Scope, alarm_id: str) -> dict:
        """The root cause analysis of an alarm (section 4.11, format 5.1).

        The alarm, what causes it (``causes`` edges followed upstream
        only, towards causes, at any depth) and what it causes (followed
        downstream only), from the history: ended alarms and edges are
        included (an ended edge has ``vitrage_is_deleted: true``). An
        alarm that only shares an effect or a cause with the requested
        one is not related. Alarms the caller may not see are left out
        and not crossed. Nodes are ordered by start time.

        :param scope: what the caller may see.
        :param alarm_id: the vitrage_id of the alarm.
        :returns: ``{"nodes", "links", "inspected_index", ...}``; empty
            for an unknown or invisible alarm.
        :raises oslo_db.exception.DBError: on a database error.
        """
        with self.database.connect() as connection:
            latest = self._latest(connection, [alarm_id])
            if alarm_id not in latest or not scope.sees(latest[alarm_id]):
                return empty_rca()
            rows = dict(latest)
            edges: dict[tuple[str, str, str], Any] = {}
            for upstream in (True, False):
                self._walk(connection, scope, alarm_id, upstream, rows,
                           edges)
        visible = sorted((row for row in rows.values() if row is not None),
                         key=lambda r: (r.start_timestamp, r.vitrage_id))
        index = {row.vitrage_id: i for i, row in enumerate(visible)}
        nodes = []
        for i, row in enumerate(visible):
            node = record(row)
            if node.get(Prop.ID) is None:
                node[Prop.ID] = row.vitrage_id
            node[Prop.GRAPH_INDEX] = i
            nodes.append(node)
        links = []
        for (source, target, label), edge in sorted(edges.items()):
            if source not in index or target not in index:
                continue
            link = _edge_properties(edge)
            link.update({'source': index[source], 'target': index[target],
                         'key': label, Prop.RELATIONSHIP_TYPE: label,
                         Prop.IS_DELETED: edge.end_timestamp is not None})
            links.append(link)
        answer = empty_rca()
        answer.update(nodes=nodes, links=links,
                      inspected_index=index[alarm_id])
        return answer

    # -- helpers ------------------------------------------------------
    def _page(self, scope: Scope, page: Page,
              where: list[sa.ColumnElement]) -> list[dict]:
        page.check()
        clause = scope.clause()
        if clause is not None:
            where = where + [clause]
        for column, value in zip(page.filter_by, page.filter_vals):
            values = value if isinstance(value, list) else [value]
            where.append(sa.or_(*[ALARMS.c[column].contains(
                v, autoescape=True) for v in values]))
        binary = not self.database.is_sqlite
        keys = [_sort_expression(c, binary) for c in page.sort_by]
        descending = [d == 'desc' for d in page.sort_dirs]
        descending += [False] * (len(keys) - len(descending))
        # The row id breaks ties, so that pages never overlap.
        keys.append(ALARMS.c.id)
        descending.append(descending[-1] if descending else False)
        backwards = page.marker is not None and not page.next_page
        if backwards:
            descending = [not d for d in descending]
        with self.database.connect() as connection:
            if page.marker is not None:
                where.append(self._after(connection, page.marker, keys,
                                         descending))
            query = sa.select(ALARMS).where(*where).order_by(*[
                key.desc() if desc else key.asc()
                for key, desc in zip(keys, descending)])
            limit = DEFAULT_LIMIT if page.limit is None else page.limit
            if limit:
                query = query.limit(limit)
            rows = list(connection.execute(query))
        if backwards:
            rows.reverse()
        return [record(row) for row in rows]

    @staticmethod
    def _after(connection: sa.Connection, marker: str,
               keys: list[sa.ColumnElement],
               descending: list[bool]) -> sa.ColumnElement:
        """Rows that sort after the marker's row."""
        values = connection.execute(
            sa.select(*keys).where(ALARMS.c.vitrage_id == marker)
            .order_by(ALARMS.c.start_timestamp.desc(), ALARMS.c.id.desc())
            .limit(1)).first()
        if values is None:
            raise exceptions.BadRequest(
                'Invalid marker %r: no alarm has this vitrage_id' % marker)
        alternatives = []
        for i, (key, desc) in enumerate(zip(keys, descending)):
            value = sa.literal(values[i], key.type)
            terms = [keys[j] == sa.literal(values[j], keys[j].type)
                     for j in range(i)]
            terms.append(key < value if desc else key > value)
            alternatives.append(sa.and_(*terms))
        return sa.or_(*alternatives)

    @staticmethod
    def _latest(connection: sa.Connection,
                vitrage_ids: Iterable[str]) -> dict[str, Any]:
        """The most recent ``alarms`` row of each id."""
        latest: dict[str, Any] = {}
        ids = list(vitrage_ids)
        for i in range(0, len(ids), _CHUNK):
            query = (sa.select(ALARMS)
                     .where(ALARMS.c.vitrage_id.in_(ids[i:i + _CHUNK]))
                     .order_by(ALARMS.c.start_timestamp, ALARMS.c.id))
            for row in connection.execute(query):
                latest[row.vitrage_id] = row
        return latest

    def _walk(self, connection: sa.Connection, scope: Scope, start: str,
              upstream: bool, rows: dict[str, Any],
              edges: dict[tuple[str, str, str], Any]) -> None:
        """Follow ``causes`` edges from ``start`` one way only, breadth
        first, adding the alarms reached to ``rows`` (None for an
        unknown or invisible one, which is not crossed) and the latest
        row of each edge followed to ``edges``.
        """
        reached = {start}
        frontier = [start]
        while frontier:
            found = self._edges_of(connection, frontier, upstream)
            new_ids = set()
            followed = []
            for edge in found:
                other = edge.source_id if upstream else edge.target_id
                followed.append((edge, other))
                if other not in rows:
                    new_ids.add(other)
            fresh = self._latest(connection, sorted(new_ids))
            for vid in new_ids:
                row = fresh.get(vid)
                # Unknown or invisible: never looked up again.
                rows[vid] = row if row is not None and scope.sees(row) \
                    else None
            frontier = []
            for edge, other in followed:
                if rows.get(other) is None:
                    continue
                ident = (edge.source_id, edge.target_id, edge.label)
                if ident not in edges or _newer(edge, edges[ident]):
                    edges[ident] = edge
                if other not in reached:
                    reached.add(other)
                    frontier.append(other)

    @staticmethod
    def _edges_of(connection: sa.Connection, vitrage_ids: list[str],
                  upstream: bool) -> list[Any]:
        """Every ``causes`` edge row into (``upstream``) or out of one of
        the ids.
        """
        end = EDGES.c.target_id if upstream else EDGES.c.source_id
        found = []
        for i in range(0, len(vitrage_ids), _CHUNK):
            chunk = vitrage_ids[i:i + _CHUNK]
            query = (sa.select(EDGES)
                     .where(EDGES.c.label == EdgeLabel.CAUSES)
                     .where(end.in_(chunk))
                     .order_by(EDGES.c.start_timestamp, EDGES.c.id))
            found.extend(connection.execute(query))
        return found


def _newer(edge: Any, other: Any) -> bool:
    return (edge.start_timestamp, edge.id) > (other.start_timestamp,
                                              other.id)


def _edge_properties(edge: Any) -> dict:
    try:
        payload = json.loads(edge.payload)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        return {}
    return {k: v for k, v in payload.items()
            if k not in ('source_id', 'target_id')}
