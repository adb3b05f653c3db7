import socket

from oslo_config import cfg

GROUP = None

OPTS = [
    cfg.StrOpt('host', default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this node: the RPC server name of its '
                    'services.'),
]
