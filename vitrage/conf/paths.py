"""``[DEFAULT]`` paths: where a Vitrage service keeps its local state."""
from oslo_config import cfg

GROUP = None

OPTS = [
    cfg.StrOpt('state_path', default='/var/lib/vitrage',
               help='Folder of the local state of Vitrage services; the '
                    'default ``[database] connection`` is an SQLite file '
                    'in it.'),
]
