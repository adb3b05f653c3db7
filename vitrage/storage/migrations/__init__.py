"""Alembic migrations of the Vitrage database (``vitrage-dbsync``)."""
import os

from alembic import command
from alembic import config as alembic_config
from alembic.runtime import migration
from alembic import script as alembic_script
import sqlalchemy as sa

HERE = os.path.dirname(os.path.abspath(__file__))


def alembic_cfg(connection: sa.Connection | None = None
                ) -> alembic_config.Config:
    """An alembic configuration on this folder, bound to ``connection``.

    :param connection: the connection migrations run on (``env.py``
        reads it from ``config.attributes``).
    """
    config = alembic_config.Config()
    config.set_main_option('script_location', HERE)
    if connection is not None:
        config.attributes['connection'] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = 'head') -> None:
    """Create the database schema, or upgrade it, up to ``revision``.

    :param engine: an engine on the database (it must exist).
    :param revision: an alembic revision, ``head`` by default.
    :raises alembic.util.CommandError: on an unknown revision.
    :raises oslo_db.exception.DBError: when the database refuses.
    """
    with engine.begin() as connection:
        command.upgrade(alembic_cfg(connection), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None when it has none."""
    with engine.connect() as connection:
        context = migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def head_revision() -> str:
    """The newest revision of the migration scripts."""
    scripts = alembic_script.ScriptDirectory.from_config(alembic_cfg())
    return scripts.get_current_head()
