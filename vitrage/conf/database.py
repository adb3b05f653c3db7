"""``[database]``: oslo.db's options, defaulting to an embedded SQLite.

The URL scheme picks the backend: ``sqlite:///path`` (embedded default)
or ``mysql+pymysql://user:password@host/vitrage`` (production MariaDB).
"""
from oslo_config import cfg
from oslo_db import options as db_options

GROUP = 'database'

DEFAULT_CONNECTION = 'sqlite:///$state_path/vitrage.sqlite'

# Changes the default of oslo.db's own option objects, as
# oslo_db.options.set_defaults does, so that registering them again
# (oslo.db's enginefacade does) never conflicts.
cfg.set_defaults(db_options.database_opts, connection=DEFAULT_CONNECTION)

OPTS = db_options.database_opts
