"""Fixtures of the storage unit tests: a migrated SQLite database."""
import pytest

from vitrage.storage import connection
from vitrage.storage import migrations


@pytest.fixture
def database(tmp_path):
    """A new SQLite file database at the migrations' head revision."""
    db = connection.Database('sqlite:///%s' % (tmp_path / 'vitrage.sqlite'))
    migrations.upgrade(db.engine)
    yield db
    db.dispose()
