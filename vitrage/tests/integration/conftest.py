"""Fixtures of the integration tier: real RabbitMQ and MariaDB servers.

See :mod:`vitrage.tests.integration.services` for the environment
variables and the skip-or-fail rule.
"""
from collections.abc import Iterator

import pytest

from vitrage.storage import connection
from vitrage.storage import migrations
from vitrage.tests import helpers
from vitrage.tests.integration import services


@pytest.fixture
def rabbit_transport_url() -> str:
    """The transport URL of the test RabbitMQ (skip, or fail in CI)."""
    return services.rabbit_url()


@pytest.fixture
def mysql_server_url() -> str:
    """The URL of the test MariaDB server, no database selected."""
    return services.mysql_url()


@pytest.fixture
def mysql_database(mysql_server_url: str) -> Iterator[str]:
    """A new, uniquely named database; its SQLAlchemy URL.

    The database is dropped after the test, whatever its outcome.
    """
    name = helpers.unique_name('vitrage_test')
    url = services.create_database(mysql_server_url, name)
    try:
        yield url
    finally:
        services.drop_database(mysql_server_url, name)


@pytest.fixture
def database(mysql_database: str) -> Iterator[connection.Database]:
    """That database at the migrations' head revision, for the storage
    tests that run on SQLite in the unit tier.
    """
    db = connection.Database(mysql_database)
    migrations.upgrade(db.engine)
    yield db
    db.dispose()
