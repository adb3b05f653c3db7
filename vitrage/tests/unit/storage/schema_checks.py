"""Checks shared by the SQLite and MariaDB schema tests."""
from alembic import autogenerate
from alembic.runtime import migration

from vitrage.storage import models


def schema_differences(engine) -> list:
    """What differs between the migrated database and the models."""
    with engine.connect() as connection:
        context = migration.MigrationContext.configure(
            connection, opts={'compare_type': True})
        diff = autogenerate.compare_metadata(context, models.Base.metadata)
    return [d for d in diff
            if not (isinstance(d, tuple) and d[0] == 'remove_table'
                    and d[1].name == 'alembic_version')]
