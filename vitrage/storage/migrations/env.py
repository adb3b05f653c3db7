"""Alembic environment: runs on the connection the caller passed in.

Called through :func:`vitrage.storage.migrations.upgrade`; there is no
``alembic.ini``, ``vitrage-dbsync`` is the command line.
"""
from alembic import context

from vitrage.storage import models


def run_migrations_online() -> None:
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=models.Base.metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError('offline (SQL script) migrations are not supported')
run_migrations_online()
