"""The alembic migrations create exactly the schema of the models."""
import sqlalchemy as sa

from vitrage.storage import connection
from vitrage.storage import migrations
from vitrage.storage import models
from vitrage.tests.unit.storage import schema_checks


def test_models_and_migrations_agree(database):
    assert schema_checks.schema_differences(database.engine) == []


def test_a_changed_model_would_be_detected(tmp_path):
    # The comparison is not blind: a table missing from the database
    # shows up.
    db = connection.Database('sqlite:///%s' % (tmp_path / 'partial.sqlite'))
    models.Base.metadata.tables['events'].create(db.engine)
    differences = schema_checks.schema_differences(db.engine)
    added = {d[1].name for d in differences if d[0] == 'add_table'}
    assert 'alarms' in added and 'events' not in added
    db.dispose()


def test_upgrade_is_idempotent_and_reports_head(database):
    migrations.upgrade(database.engine)
    assert migrations.current_revision(database.engine) == \
        migrations.head_revision()


def test_fresh_database_has_term_zero_and_all_tables(database):
    inspector = sa.inspect(database.engine)
    assert set(models.Base.metadata.tables) <= set(
        inspector.get_table_names())
    with database.connect() as c:
        assert c.execute(sa.text('SELECT term FROM graph_term')
                         ).scalars().all() == [0]


def test_unsupported_url_is_a_config_error():
    import pytest

    from vitrage.common import exceptions
    with pytest.raises(exceptions.ConfigError, match='postgresql'):
        connection.Database('postgresql://u@h/db')
