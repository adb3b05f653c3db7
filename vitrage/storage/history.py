"""Alarm history: alarm activations, changes and causal edges over time.

The graph sends the history notifications of notifiers.md section 3 to the
persistor topic; :func:`parse` turns one into a typed record and
:class:`HistoryStore` writes it:

* ``vitrage.alarm.activate``: a row of ``alarms`` from its start;
* ``vitrage.alarm.deactivate``: the open row of that alarm gets its end;
* ``vitrage.alarm.change`` / ``vitrage.alarm.change_project_id``: a row of
  ``changes``, and the open alarm row takes the new value;
* ``vitrage.causal_relationship.activate`` / ``.deactivate``: a row of
  ``edges`` opened, then closed.

Every write is idempotent: a redelivered notification changes nothing.
Timestamps come from the payload (``vitrage_sample_timestamp`` or
``update_timestamp``), else from the notification, and are kept to the
second in UTC. Within one persistor notifications are written in the order
received; with several persistors a deactivation that overtakes its
activation leaves an open row.
"""
import dataclasses
import datetime
import json

import sqlalchemy as sa

from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.storage import connection as db_connection
from vitrage.storage import models

ALARMS = models.Alarm.__table__
EDGES = models.Edge.__table__
CHANGES = models.Change.__table__

ALARM_ACTIVATE = 'vitrage.alarm.activate'
ALARM_DEACTIVATE = 'vitrage.alarm.deactivate'
ALARM_CHANGE = 'vitrage.alarm.change'
ALARM_CHANGE_PROJECT_ID = 'vitrage.alarm.change_project_id'
EDGE_ACTIVATE = 'vitrage.causal_relationship.activate'
EDGE_DEACTIVATE = 'vitrage.causal_relationship.deactivate'

EVENT_TYPES = (ALARM_ACTIVATE, ALARM_DEACTIVATE, ALARM_CHANGE,
               ALARM_CHANGE_PROJECT_ID, EDGE_ACTIVATE, EDGE_DEACTIVATE)

CHANGE_SEVERITY = 'severity'
CHANGE_PROJECT_ID = 'project_id'

_ALARM_COLUMNS = ('name', 'vitrage_type', 'vitrage_aggregated_severity',
                  'vitrage_operational_severity', 'project_id',
                  'vitrage_resource_type', 'vitrage_resource_id',
                  'vitrage_resource_project_id')
_ALARM_COLUMN_LENGTHS = {c.name: c.type.length for c in ALARMS.columns
                         if isinstance(c.type, sa.String)}


@dataclasses.dataclass(frozen=True)
class AlarmActivated:
    vitrage_id: str
    start: datetime.datetime
    payload: dict


@dataclasses.dataclass(frozen=True)
class AlarmDeactivated:
    vitrage_id: str
    end: datetime.datetime
    payload: dict


@dataclasses.dataclass(frozen=True)
class AlarmChanged:
    vitrage_id: str
    timestamp: datetime.datetime
    change_type: str
    payload: dict


@dataclasses.dataclass(frozen=True)
class EdgeActivated:
    source_id: str
    target_id: str
    label: str
    start: datetime.datetime
    payload: dict


@dataclasses.dataclass(frozen=True)
class EdgeDeactivated:
    source_id: str
    target_id: str
    label: str
    end: datetime.datetime
    payload: dict


HistoryRecord = (AlarmActivated | AlarmDeactivated | AlarmChanged
                 | EdgeActivated | EdgeDeactivated)


def parse_time(text: object) -> datetime.datetime:
    """A timestamp of a payload as naive UTC, to the second.

    :param text: ISO-8601 text (``Z``, an offset, or none for UTC).
    :raises vitrage.common.exceptions.MalformedEvent: when it is not.
    """
    if not isinstance(text, str):
        raise exceptions.MalformedEvent('timestamp must be a string, got %r'
                                        % (text,))
    try:
        parsed = timeutils.parse_iso(text)
    except ValueError:
        raise exceptions.MalformedEvent('timestamp %r is not ISO-8601'
                                        % text) from None
    return parsed.replace(tzinfo=None, microsecond=0)


def _when(payload: dict, fallback: str | None) -> datetime.datetime:
    for key in ('vitrage_sample_timestamp', 'update_timestamp'):
        if payload.get(key):
            return parse_time(payload[key])
    if fallback:
        return parse_time(fallback)
    raise exceptions.MalformedEvent(
        'payload has neither vitrage_sample_timestamp nor update_timestamp')


def _required_id(payload: dict, key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise exceptions.MalformedEvent('payload lacks %s' % key)
    if len(value) > 128:
        raise exceptions.MalformedEvent('%s longer than 128 characters'
                                        % key)
    return value


def parse(event_type: str, payload: object,
          timestamp: str | None = None) -> HistoryRecord:
    """The history record of one notification.

    :param event_type: one of :data:`EVENT_TYPES`.
    :param payload: the notification payload.
    :param timestamp: the notification's own timestamp, used when the
        payload has none.
    :raises vitrage.common.exceptions.MalformedEvent: naming what is
        wrong with the notification.
    """
    if not isinstance(payload, dict):
        raise exceptions.MalformedEvent('%s payload must be an object, got '
                                        '%s' % (event_type,
                                                type(payload).__name__))
    if event_type in (ALARM_ACTIVATE, ALARM_DEACTIVATE, ALARM_CHANGE,
                      ALARM_CHANGE_PROJECT_ID):
        vitrage_id = _required_id(payload, 'vitrage_id')
        when = _when(payload, timestamp)
        if event_type == ALARM_ACTIVATE:
            return AlarmActivated(vitrage_id, when, payload)
        if event_type == ALARM_DEACTIVATE:
            return AlarmDeactivated(vitrage_id, when, payload)
        change = (CHANGE_SEVERITY if event_type == ALARM_CHANGE
                  else CHANGE_PROJECT_ID)
        return AlarmChanged(vitrage_id, when, change, payload)
    if event_type in (EDGE_ACTIVATE, EDGE_DEACTIVATE):
        source = _required_id(payload, 'source_id')
        target = _required_id(payload, 'target_id')
        label = payload.get('relationship_type') or 'causes'
        if not isinstance(label, str) or len(label) > 64:
            raise exceptions.MalformedEvent('bad relationship_type %r'
                                            % (label,))
        when = _when(payload, timestamp)
        if event_type == EDGE_ACTIVATE:
            return EdgeActivated(source, target, label, when, payload)
        return EdgeDeactivated(source, target, label, when, payload)
    raise exceptions.MalformedEvent('unknown history event type %r'
                                    % (event_type,))


def _dump(payload: dict) -> str:
    return json.dumps(payload, separators=(',', ':'))


def _alarm_fields(payload: dict) -> dict:
    fields = {}
    for name in _ALARM_COLUMNS:
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            value = str(value)
        if value is not None:
            # History keeps what fits; the full value is in the payload.
            value = value[:_ALARM_COLUMN_LENGTHS[name]]
        fields[name] = value
    return fields


class HistoryStore:
    """Writes and reads the ``alarms``, ``edges`` and ``changes`` tables.

    :param database: the database holding the migrated schema.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def record(self, records: list[HistoryRecord]) -> None:
        """Write ``records`` in one transaction, in order.

        :raises oslo_db.exception.DBError: on a database error.
        """
        with self.database.begin() as connection:
            self.apply(connection, records)

    def apply(self, connection: sa.Connection,
              records: list[HistoryRecord]) -> None:
        """Write ``records`` in order inside the caller's transaction.

        :raises oslo_db.exception.DBError: on a database error.
        """
        for record in records:
            if isinstance(record, AlarmActivated):
                self._activate_alarm(connection, record)
            elif isinstance(record, AlarmDeactivated):
                self._deactivate_alarm(connection, record)
            elif isinstance(record, AlarmChanged):
                self._change_alarm(connection, record)
            elif isinstance(record, EdgeActivated):
                self._activate_edge(connection, record)
            elif isinstance(record, EdgeDeactivated):
                self._deactivate_edge(connection, record)
            else:
                raise TypeError('not a history record: %r' % (record,))

    def _activate_alarm(self, connection: sa.Connection,
                        record: AlarmActivated) -> None:
        open_row = connection.execute(
            sa.select(ALARMS.c.id)
            .where(ALARMS.c.vitrage_id == record.vitrage_id)
            .where(ALARMS.c.end_timestamp.is_(None))).first()
        if open_row is not None:
            # Already live (a redelivery, or a repeated activation).
            return
        connection.execute(
            self.database.insert_ignore(ALARMS),
            [dict(vitrage_id=record.vitrage_id,
                  start_timestamp=record.start, end_timestamp=None,
                  payload=_dump(record.payload),
                  **_alarm_fields(record.payload))])

    def _deactivate_alarm(self, connection: sa.Connection,
                          record: AlarmDeactivated) -> None:
        connection.execute(
            ALARMS.update()
            .where(ALARMS.c.vitrage_id == record.vitrage_id)
            .where(ALARMS.c.end_timestamp.is_(None))
            .where(ALARMS.c.start_timestamp <= record.end)
            .values(end_timestamp=record.end))

    def _change_alarm(self, connection: sa.Connection,
                      record: AlarmChanged) -> None:
        fields = _alarm_fields(record.payload)
        if record.change_type == CHANGE_SEVERITY:
            keys = ('vitrage_operational_severity',
                    'vitrage_aggregated_severity')
        else:
            keys = ('vitrage_resource_project_id',)
        new = {key: fields[key] for key in keys}
        connection.execute(
            self.database.insert_ignore(CHANGES),
            [{'vitrage_id': record.vitrage_id,
              'timestamp': record.timestamp,
              'change_type': record.change_type,
              'severity': (new.get('vitrage_operational_severity')
                           if record.change_type == CHANGE_SEVERITY
                           else None),
              'payload': _dump(record.payload)}])
        connection.execute(
            ALARMS.update()
            .where(ALARMS.c.vitrage_id == record.vitrage_id)
            .where(ALARMS.c.end_timestamp.is_(None))
            .values(**new))

    def _activate_edge(self, connection: sa.Connection,
                       record: EdgeActivated) -> None:
        open_row = connection.execute(
            sa.select(EDGES.c.id)
            .where(EDGES.c.source_id == record.source_id)
            .where(EDGES.c.target_id == record.target_id)
            .where(EDGES.c.label == record.label)
            .where(EDGES.c.end_timestamp.is_(None))).first()
        if open_row is not None:
            return
        connection.execute(
            self.database.insert_ignore(EDGES),
            [{'source_id': record.source_id, 'target_id': record.target_id,
              'label': record.label, 'start_timestamp': record.start,
              'end_timestamp': None, 'payload': _dump(record.payload)}])

    def _deactivate_edge(self, connection: sa.Connection,
                         record: EdgeDeactivated) -> None:
        connection.execute(
            EDGES.update()
            .where(EDGES.c.source_id == record.source_id)
            .where(EDGES.c.target_id == record.target_id)
            .where(EDGES.c.label == record.label)
            .where(EDGES.c.end_timestamp.is_(None))
            .where(EDGES.c.start_timestamp <= record.end)
            .values(end_timestamp=record.end))

    def alarms(self, vitrage_id: str | None = None) -> list[sa.Row]:
        """Alarm history rows by start time, of one alarm or all."""
        query = sa.select(ALARMS).order_by(ALARMS.c.start_timestamp,
                                           ALARMS.c.id)
        if vitrage_id is not None:
            query = query.where(ALARMS.c.vitrage_id == vitrage_id)
        with self.database.connect() as connection:
            return list(connection.execute(query))

    def edges(self) -> list[sa.Row]:
        """Causal edge history rows by start time."""
        query = sa.select(EDGES).order_by(EDGES.c.start_timestamp,
                                          EDGES.c.id)
        with self.database.connect() as connection:
            return list(connection.execute(query))

    def changes(self, vitrage_id: str | None = None) -> list[sa.Row]:
        """Alarm change rows by time, of one alarm or all."""
        query = sa.select(CHANGES).order_by(CHANGES.c.timestamp,
                                            CHANGES.c.id)
        if vitrage_id is not None:
            query = query.where(CHANGES.c.vitrage_id == vitrage_id)
        with self.database.connect() as connection:
            return list(connection.execute(query))
