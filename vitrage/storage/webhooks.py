"""Registered webhooks in the ``webhooks`` table (rest-api-v1.md 4.19-4.22).

A webhook belongs to the project of whoever registered it; an admin's is
marked ``is_admin_webhook`` (the notifier sends it every project's
alarms). ``regex_filter`` and ``headers`` are kept as the strings the
client sent (a dict literal each, or ``""``) and returned verbatim.

Ids are time-ordered UUIDs (version 7 layout), so rows sort in creation
order by ``(created_at, id)`` even where the database keeps whole seconds.
"""
import dataclasses
import datetime
import os
import re
import threading
import time
from typing import Any
from urllib import parse as urlparse
import uuid

import sqlalchemy as sa

from vitrage.common import exceptions
from vitrage.common import literals
from vitrage.storage import connection as db_connection
from vitrage.storage import models

WEBHOOKS = models.Webhook.__table__
MAX_URL_LENGTH = WEBHOOKS.c.url.type.length
#: TEXT on MariaDB holds 65,535 bytes.
MAX_TEXT_BYTES = 65535


class InvalidWebhook(exceptions.BadRequest):
    """A webhook's url, headers or filter is malformed."""


class WebhookNotFound(exceptions.NotFound):
    """No webhook has this id (for this caller)."""


@dataclasses.dataclass(frozen=True)
class Webhook:
    """One row of ``webhooks``.

    :param id: its id.
    :param project_id: the registering caller's project (None: none).
    :param is_admin_webhook: registered by an admin.
    :param created_at: naive UTC.
    :param url: where notifications go.
    :param regex_filter: a dict literal of field -> regex, or ``""``.
    :param headers: a dict literal of extra HTTP headers, or ``""``.
    """

    id: str
    project_id: str | None
    is_admin_webhook: bool
    created_at: datetime.datetime
    url: str
    regex_filter: str
    headers: str

    def to_api_dict(self) -> dict[str, Any]:
        """The row as the API returns it."""
        return {
            'id': self.id,
            'project_id': self.project_id,
            'is_admin_webhook': self.is_admin_webhook,
            'created_at': str(self.created_at),
            'url': self.url,
            'regex_filter': self.regex_filter,
            'headers': self.headers,
        }

    @property
    def filters(self) -> dict[str, re.Pattern]:
        """The compiled ``regex_filter`` (empty: match everything)."""
        return {key: re.compile(value) for key, value in
                (parse_dict_literal(self.regex_filter, 'regex_filter')
                 or {}).items()}

    @property
    def header_dict(self) -> dict[str, str]:
        """The parsed ``headers``."""
        return parse_dict_literal(self.headers, 'headers') or {}


_ID_LOCK = threading.Lock()
_LAST_MS = [0]


def new_id() -> str:
    """A random UUID whose first 48 bits are the creation time in ms
    (UUIDv7 layout); later ids of this process sort after earlier ones.
    """
    with _ID_LOCK:
        millis = max(time.time_ns() // 1_000_000, _LAST_MS[0] + 1)
        _LAST_MS[0] = millis
    value = (millis << 80) | int.from_bytes(os.urandom(10), 'big')
    value &= ~(0xF << 76)
    value |= 0x7 << 76                        # version 7
    value &= ~(0x3 << 62)
    value |= 0x2 << 62                        # RFC 4122 variant
    return str(uuid.UUID(int=value))


def parse_dict_literal(text: str | None, name: str) -> dict | None:
    """A dict given as a JSON object or Python dict literal, as text.

    :param text: the string (None or ``""``: no dict).
    :param name: the field, for the error message.
    :raises InvalidWebhook: not a dict literal of string keys and values.
    """
    if text is None or not text.strip():
        return None
    try:
        value = literals.json_or_literal(text)
    except ValueError:
        raise InvalidWebhook('%s is not a dict literal: %r'
                             % (name, text)) from None
    if not isinstance(value, dict):
        raise InvalidWebhook('%s is not a dict literal: %r' % (name, text))
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidWebhook('%s must map strings to strings: %r'
                                 % (name, text))
    return value


def _check_text(name: str, value: str | None) -> None:
    if value:
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:
            raise InvalidWebhook('%s is not valid Unicode text' % name)


def validate(url: Any, regex_filter: Any, headers: Any) -> None:
    """Check a webhook before it is stored.

    :param url: an ``http`` or ``https`` URL with a host.
    :param regex_filter: None, ``""`` or a dict literal of regexes.
    :param headers: None, ``""`` or a dict literal of header values.
    :raises InvalidWebhook: naming the bad field.
    """
    if url is None or url == '':
        raise InvalidWebhook('url is missing')
    if not isinstance(url, str):
        raise InvalidWebhook('url must be a string')
    _check_text('url', url)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook('url is longer than %d characters'
                             % MAX_URL_LENGTH)
    try:
        parsed = urlparse.urlsplit(url)
        parsed.port    # raises on a bad port
    except ValueError as exc:
        raise InvalidWebhook('url %r is malformed: %s' % (url, exc))
    if parsed.scheme not in ('http', 'https') or not parsed.hostname:
        raise InvalidWebhook('url %r needs an http or https scheme and a '
                             'host' % url)
    for name, value in (('regex_filter', regex_filter),
                        ('headers', headers)):
        if value is not None and not isinstance(value, str):
            raise InvalidWebhook('%s must be a string holding a dict '
                                 'literal' % name)
        _check_text(name, value)
        if value and len(value.encode('utf-8')) > MAX_TEXT_BYTES:
            raise InvalidWebhook('%s is longer than %d bytes'
                                 % (name, MAX_TEXT_BYTES))
    filters = parse_dict_literal(regex_filter, 'regex_filter') or {}
    for key, pattern in filters.items():
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            raise InvalidWebhook('regex_filter %r: %r is not a valid '
                                 'regular expression: %s'
                                 % (key, pattern, exc))
    for key, value in (parse_dict_literal(headers, 'headers')
                       or {}).items():
        if (not key or any(c in key for c in ':\r\n') or
                any(c in value for c in '\r\n')):
            raise InvalidWebhook('headers: %r is not a valid HTTP header'
                                 % key)


def _row(row: sa.Row) -> Webhook:
    return Webhook(row.id, row.project_id, bool(row.is_admin_webhook),
                   row.created_at, row.url, row.regex_filter or '',
                   row.headers or '')


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(
        tzinfo=None, microsecond=0)


class WebhookStore:
    """Adds, lists, shows and deletes webhooks.

    :param database: the database holding the migrated schema.
    """

    def __init__(self, database: db_connection.Database) -> None:
        self.database = database

    def add(self, project_id: str | None, is_admin: bool, url: str,
            regex_filter: str | None = None,
            headers: str | None = None) -> Webhook:
        """Register a webhook.

        :param project_id: the caller's project.
        :param is_admin: the caller is an admin.
        :param url: where notifications go.
        :param regex_filter: a dict literal of regexes, or None.
        :param headers: a dict literal of headers, or None.
        :returns: the stored row.
        :raises InvalidWebhook: a field is malformed (nothing stored).
        :raises oslo_db.exception.DBError: on a database error.
        """
        validate(url, regex_filter, headers)
        webhook = Webhook(new_id(), project_id, bool(is_admin), _now(), url,
                          regex_filter or '', headers or '')
        with self.database.begin() as conn:
            conn.execute(sa.insert(WEBHOOKS).values(
                id=webhook.id, project_id=webhook.project_id,
                is_admin_webhook=webhook.is_admin_webhook,
                created_at=webhook.created_at, url=webhook.url,
                regex_filter=webhook.regex_filter,
                headers=webhook.headers))
        return webhook

    def list_webhooks(self, project_id: str | None = None,
                      all_tenants: bool = False) -> list[Webhook]:
        """Webhooks in creation order.

        :param project_id: the project whose webhooks are listed.
        :param all_tenants: every project's (``project_id`` ignored).
        :raises oslo_db.exception.DBError: on a database error.
        """
        query = sa.select(WEBHOOKS).order_by(WEBHOOKS.c.created_at,
                                             WEBHOOKS.c.id)
        if not all_tenants:
            if project_id is None:
                query = query.where(WEBHOOKS.c.project_id.is_(None))
            else:
                query = query.where(WEBHOOKS.c.project_id == project_id)
        with self.database.connect() as conn:
            return [_row(row) for row in conn.execute(query)]

    def get(self, webhook_id: str, project_id: str | None = None,
            is_admin: bool = True) -> Webhook:
        """One webhook.

        :param webhook_id: its id.
        :param project_id: the caller's project.
        :param is_admin: the caller may see every project's webhooks.
        :raises WebhookNotFound: no such webhook, or another project's
            and the caller is not an admin.
        :raises oslo_db.exception.DBError: on a database error.
        """
        with self.database.connect() as conn:
            row = conn.execute(sa.select(WEBHOOKS).where(
                WEBHOOKS.c.id == webhook_id)).first()
        if row is None or (not is_admin and row.project_id != project_id):
            raise WebhookNotFound('no webhook %r' % webhook_id)
        return _row(row)

    def delete(self, webhook_id: str, project_id: str | None = None,
               is_admin: bool = True) -> None:
        """Remove a webhook.

        :param webhook_id: its id.
        :param project_id: the caller's project.
        :param is_admin: the caller may delete every project's webhooks.
        :raises WebhookNotFound: as :meth:`get`; nothing is deleted.
        :raises oslo_db.exception.DBError: on a database error.
        """
        query = sa.delete(WEBHOOKS).where(WEBHOOKS.c.id == webhook_id)
        if not is_admin:
            if project_id is None:
                query = query.where(WEBHOOKS.c.project_id.is_(None))
            else:
                query = query.where(WEBHOOKS.c.project_id == project_id)
        with self.database.begin() as conn:
            if conn.execute(query).rowcount == 0:
                raise WebhookNotFound('no webhook %r' % webhook_id)
