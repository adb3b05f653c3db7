"""Reachability of the local RabbitMQ and MariaDB servers.

The integration tier runs against real servers, chosen by environment
variables (tox sets both defaults)::

    VITRAGE_TEST_TRANSPORT_URL  rabbit://guest:guest@127.0.0.1:5672/
    VITRAGE_TEST_DB_URL         mysql+pymysql://root@127.0.0.1:3306

When a server does not answer, the test is skipped on a developer's
machine and fails when ``CI`` is set: CI must never go green by skipping.
"""
import os
import socket
import urllib.parse

import pymysql
import pytest
import sqlalchemy.engine

from vitrage.tests import helpers

DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
DEFAULT_DB_URL = 'mysql+pymysql://root@127.0.0.1:3306'
CONNECT_TIMEOUT = 5.0


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when running in CI.

    :param reason: which server is unreachable, and why.
    :raises pytest.fail.Exception: in CI.
    :raises pytest.skip.Exception: elsewhere.
    """
    if helpers.in_ci():
        pytest.fail('CI is set but %s' % reason, pytrace=False)
    pytest.skip(reason)


def _tcp_check(host: str, port: int) -> str | None:
    """None if something accepts a TCP connection, else the error text."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return str(exc)


def rabbit_url() -> str:
    """The oslo.messaging transport URL of the test RabbitMQ server.

    Checks that the broker accepts a TCP connection on the URL's host and
    port; skips (or fails in CI) otherwise.

    :raises pytest.fail.Exception: in CI when the broker is unreachable.
    :raises pytest.skip.Exception: elsewhere when it is unreachable.
    """
    url = os.environ.get('VITRAGE_TEST_TRANSPORT_URL', DEFAULT_TRANSPORT_URL)
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != 'rabbit':
        raise ValueError('VITRAGE_TEST_TRANSPORT_URL must be a rabbit:// URL, '
                         'got %r' % url)
    host = parsed.hostname or '127.0.0.1'
    port = parsed.port or 5672
    error = _tcp_check(host, port)
    if error is not None:
        unavailable('RabbitMQ at %s:%d is unreachable (%s)'
                    % (host, port, error))
    return url


def mysql_url() -> str:
    """The SQLAlchemy URL of the test MariaDB server, without a database.

    Checks that the server accepts a login with the URL's credentials;
    skips (or fails in CI) otherwise.

    :raises pytest.fail.Exception: in CI when the server is unreachable.
    :raises pytest.skip.Exception: elsewhere when it is unreachable.
    """
    url = os.environ.get('VITRAGE_TEST_DB_URL', DEFAULT_DB_URL)
    parsed = sqlalchemy.engine.make_url(url)
    if not parsed.drivername.startswith('mysql'):
        raise ValueError('VITRAGE_TEST_DB_URL must be a mysql+pymysql:// '
                         'URL, got %r' % url)
    try:
        connection = _connect(parsed)
    except pymysql.MySQLError as exc:
        unavailable('MariaDB at %s:%s is unreachable (%s)'
                    % (parsed.host, parsed.port or 3306, exc))
    connection.close()
    return parsed.set(database=None).render_as_string(hide_password=False)


def _connect(url: sqlalchemy.engine.URL) -> pymysql.connections.Connection:
    return pymysql.connect(host=url.host or '127.0.0.1',
                           port=url.port or 3306,
                           user=url.username or 'root',
                           password=url.password or '',
                           connect_timeout=int(CONNECT_TIMEOUT),
                           autocommit=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` (utf8mb4) and return its SQLAlchemy URL.

    :param server_url: a URL from :func:`mysql_url`.
    :param name: the database name, ``[a-z0-9_]`` only.
    :raises ValueError: when ``name`` has other characters.
    :raises pymysql.MySQLError: when the server refuses.
    """
    _check_name(name)
    parsed = sqlalchemy.engine.make_url(server_url)
    connection = _connect(parsed)
    try:
        with connection.cursor() as cursor:
            cursor.execute('CREATE DATABASE `%s` CHARACTER SET utf8mb4 '
                           'COLLATE utf8mb4_bin' % name)
    finally:
        connection.close()
    return parsed.set(database=name, query={'charset': 'utf8mb4'}
                      ).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` if it exists.

    :param server_url: a URL from :func:`mysql_url`.
    :param name: the database name, ``[a-z0-9_]`` only.
    :raises ValueError: when ``name`` has other characters.
    :raises pymysql.MySQLError: when the server refuses.
    """
    _check_name(name)
    connection = _connect(sqlalchemy.engine.make_url(server_url))
    try:
        with connection.cursor() as cursor:
            cursor.execute('DROP DATABASE IF EXISTS `%s`' % name)
    finally:
        connection.close()


def _check_name(name: str) -> None:
    if not name or not all(c.isascii() and (c.isalnum() or c == '_')
                           for c in name):
        raise ValueError('database name must be [A-Za-z0-9_]+, got %r'
                         % name)
