"""Fixtures of the API unit tests that need a database."""
import pytest

from vitrage.api import app as api_app
from vitrage.tests.unit.api.test_app import FakeGraphClient


@pytest.fixture
def db_url(database) -> str:
    """The URL of the migrated SQLite database of ``database``."""
    return database.url


@pytest.fixture
def db_app(conf, db_url):
    """The application in noauth mode on the migrated database, with a
    fake graph; the database is closed after the test.
    """
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('connection', db_url, 'database')
    app = api_app.build_app(conf, FakeGraphClient())
    yield app
    state = app.extensions['vitrage']
    if state._database is not None:
        state.database.dispose()


@pytest.fixture
def db_http(db_app):
    return db_app.test_client()
