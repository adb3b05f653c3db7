"""Fixtures of the unit tests: a migrated SQLite database."""
import pytest

from vitrage.storage import connection
from vitrage.tests import helpers


@pytest.fixture
def database(tmp_path):
    """A new SQLite file database at the migrations' head revision."""
    db = connection.Database(
        helpers.sqlite_database(tmp_path / 'vitrage.sqlite'))
    yield db
    db.dispose()
