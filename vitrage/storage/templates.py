"""Stored templates in the ``templates`` table.

A template's life (rest-api-v1.md 4.12-4.17): the API stores a valid one
as ``LOADING`` and an invalid one as ``ERROR``; the active vitrage-graph
loads ``LOADING`` ones into its evaluator and marks them ``ACTIVE``. A
delete marks a loaded template ``DELETING``; the graph unloads it (undoing
its actions) and removes the row. ``ERROR`` rows are removed at once.

Rows are listed in creation order (then by name: MariaDB keeps whole
seconds).
"""
import dataclasses
import datetime
import json
from typing import Any
import uuid

import sqlalchemy as sa

from vitrage.storage import connection as db_connection
from vitrage.storage import models

TEMPLATES = models.Template.__table__

LOADING = 'LOADING'
ACTIVE = 'ACTIVE'
ERROR = 'ERROR'
DELETING = 'DELETING'
STATUSES = (LOADING, ACTIVE, ERROR, DELETING)

#: Statuses whose templates are (to be) in force.
IN_FORCE = (LOADING, ACTIVE)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None)


@dataclasses.dataclass(frozen=True)
class StoredTemplate:
    """One row of ``templates``.

    :param uuid: its id.
    :param name: ``metadata.name``.
    :param template_type: standard, definition or equivalence (None when
        unknown: an ERROR row).
    :param status: one of :data:`STATUSES`.
    :param status_details: the validation message or why it failed.
    :param content: the template as stored (parameters resolved, scalars
        as strings).
    :param created_at: naive UTC.
    """

    uuid: str
    name: str
    template_type: str | None
    status: str
    status_details: str | None
    content: Any
    created_at: datetime.datetime

    def to_api_dict(self) -> dict[str, Any]:
        """A row of ``GET /v1/template`` (rest-api-v1.md 4.12)."""
        return {
            'uuid': self.uuid,
            'name': self.name,
            'status': self.status,
            'status details': self.status_details,
            'date': str(self.created_at.replace(
                tzinfo=datetime.timezone.utc)),
            'type': self.template_type,
        }


def _row(row: sa.Row) -> StoredTemplate:
    return StoredTemplate(row.id, row.name, row.template_type, row.status,
                          row.status_details, json.loads(row.file_content),
                          row.created_at)


class TemplateStore:
    """Reads and writes ``templates``.

    :param database: the Vitrage database.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def add(self, name: str, template_type: str | None, status: str,
            status_details: str | None, content: Any) -> StoredTemplate:
        """Store a new template row.

        :param name: the template's name.
        :param template_type: its type, or None.
        :param status: LOADING for a valid template, ERROR otherwise.
        :param status_details: the validation message.
        :param content: the template document (JSON-serialisable).
        :returns: the stored row.
        :raises ValueError: an unknown status.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        if status not in STATUSES:
            raise ValueError('unknown template status %r' % status)
        stored = StoredTemplate(str(uuid.uuid4()), name, template_type,
                                status, status_details, content, _now())
        with self.database.begin() as connection:
            connection.execute(sa.insert(TEMPLATES).values(
                id=stored.uuid, name=name, template_type=template_type,
                status=status, status_details=status_details,
                file_content=json.dumps(content),
                created_at=stored.created_at))
        return stored

    def rows(self, statuses: tuple[str, ...] | None = None
             ) -> list[StoredTemplate]:
        """Templates in creation order.

        :param statuses: only these statuses (default: all).
        :raises oslo_db.exception.DBError: when the database fails.
        """
        query = sa.select(TEMPLATES).order_by(TEMPLATES.c.created_at,
                                              TEMPLATES.c.name,
                                              TEMPLATES.c.id)
        if statuses is not None:
            query = query.where(TEMPLATES.c.status.in_(statuses))
        with self.database.connect() as connection:
            return [_row(r) for r in connection.execute(query)]

    def states(self) -> list[tuple[str, str, str | None]]:
        """(uuid, status, template_type) of every row, in creation order:
        what changes when templates are added, put in force or deleted
        (a row's content never changes), without reading the contents.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        query = sa.select(TEMPLATES.c.id, TEMPLATES.c.status,
                          TEMPLATES.c.template_type).order_by(
            TEMPLATES.c.created_at, TEMPLATES.c.name, TEMPLATES.c.id)
        with self.database.connect() as connection:
            return [tuple(r) for r in connection.execute(query)]

    def get(self, uuid_or_name: str) -> StoredTemplate | None:
        """The template of this uuid or, failing that, the oldest of this
        name.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        with self.database.connect() as connection:
            row = connection.execute(sa.select(TEMPLATES).where(
                TEMPLATES.c.id == uuid_or_name)).first()
            if row is None:
                row = connection.execute(
                    sa.select(TEMPLATES)
                    .where(TEMPLATES.c.name == uuid_or_name)
                    .order_by(TEMPLATES.c.created_at, TEMPLATES.c.id)
                ).first()
        return None if row is None else _row(row)

    def names_in_use(self) -> set[str]:
        """Names of the templates not being deleted.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        with self.database.connect() as connection:
            return set(connection.execute(
                sa.select(TEMPLATES.c.name).where(
                    TEMPLATES.c.status != DELETING)).scalars())

    def set_status(self, template_uuid: str, status: str,
                   status_details: str | None = None,
                   expected: tuple[str, ...] | None = None) -> bool:
        """Move a template to ``status``.

        :param expected: change it only from one of these statuses (so a
            delete that came in meanwhile is not undone).
        :returns: whether a row changed.
        :raises ValueError: an unknown status.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        if status not in STATUSES:
            raise ValueError('unknown template status %r' % status)
        values: dict[str, Any] = {'status': status, 'updated_at': _now()}
        if status_details is not None:
            values['status_details'] = status_details
        query = sa.update(TEMPLATES).where(TEMPLATES.c.id == template_uuid)
        if expected is not None:
            query = query.where(TEMPLATES.c.status.in_(expected))
        with self.database.begin() as connection:
            return connection.execute(query.values(**values)).rowcount > 0

    def remove(self, template_uuid: str) -> bool:
        """Delete the row.

        :returns: whether it existed.
        :raises oslo_db.exception.DBError: when the database fails.
        """
        with self.database.begin() as connection:
            return connection.execute(sa.delete(TEMPLATES).where(
                TEMPLATES.c.id == template_uuid)).rowcount > 0

    def count(self) -> int:
        """How many rows there are, whatever their status.

        :raises oslo_db.exception.DBError: when the database fails.
        """
        with self.database.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(TEMPLATES)
            ).scalar_one()
