from oslo_config import cfg

GROUP = 'api'

OPTS = [
    cfg.HostAddressOpt('host', default='0.0.0.0',
                       help='Address the vitrage-api server listens on.'),
    cfg.PortOpt('port', default=8999,
                help='Port the vitrage-api server listens on.'),
    cfg.StrOpt('auth_mode', default='keystone',
               choices=[('keystone', 'Keystone tokens via keystonemiddleware'),
                        ('noauth', 'Trust the X-User-Id, X-Project-Id and '
                                   'X-Roles headers (testing, all-in-one)')],
               help='How callers are authenticated.'),
    cfg.StrOpt('url_prefix', default='',
               help='Path prefix the API is served under, e.g. "/rca".'),
    cfg.IntOpt('workers', default=8, min=1,
               help='Threads serving requests in the vitrage-api console '
                    'script.'),
    cfg.BoolOpt('check_graph_ready', default=True,
                help='Answer 503 on /v1/* while vitrage-graph is not ready.'),
    cfg.IntOpt('graph_rpc_timeout', default=60, min=1,
               help='Seconds an API request waits for vitrage-graph.'),
]
