from oslo_config import cfg

GROUP = 'api'

OPTS = [
    cfg.HostAddressOpt('host', default='0.0.0.0',
                       help='Address the vitrage-api server listens on. '
                            'With auth_mode noauth it must be a loopback '
                            'address (the all-in-one listens on '
                            '127.0.0.1) unless '
                            'allow_noauth_on_public_address is set.'),
    cfg.PortOpt('port', default=8999,
                help='Port the vitrage-api server listens on.'),
    cfg.StrOpt('auth_mode', default='keystone',
               choices=[('keystone', 'Keystone tokens via keystonemiddleware'),
                        ('noauth', 'Trust the X-User-Id, X-Project-Id and '
                                   'X-Roles headers (testing, all-in-one)')],
               help='How callers are authenticated.'),
    cfg.BoolOpt('allow_noauth_on_public_address', default=False,
                help='Let vitrage-api and vitrage-all-in-one serve auth_mode '
                     'noauth on a non-loopback host, where anyone who can '
                     'reach it may claim any identity and role. Off: they '
                     'refuse to start with such a configuration. On: they '
                     'start and log a warning.'),
    cfg.StrOpt('url_prefix', default='',
               help='Path prefix the API is served under, e.g. "/rca".'),
    cfg.IntOpt('workers', default=8, min=1,
               help='Threads serving requests in the vitrage-api console '
                    'script.'),
    cfg.BoolOpt('check_graph_ready', default=True,
                help='Answer 503 on /v1/* while vitrage-graph is not ready.'),
    cfg.IntOpt('graph_rpc_timeout', default=60, min=1,
               help='Seconds an API request waits for vitrage-graph.'),
    cfg.StrOpt('graph_rpc_version_cap', default=None,
               regex=r'^\d+\.\d+$',
               help='Highest graph RPC version vitrage-api sends, e.g. 1.1 '
                    'while a rolling upgrade leaves vitrage-graph of the '
                    'previous release running; a call that needs a newer '
                    'version answers 503 naming both. Unset: every call '
                    'goes with the lowest version that carries it, which '
                    'older graphs answer when they know the call.'),
    cfg.IntOpt('service_heartbeat_interval', default=10, min=1,
               help='Seconds between the heartbeats a Vitrage process '
                    'writes to the services table of [database]; GET '
                    '/v1/service lists the processes that beat within '
                    'three intervals.'),
    cfg.StrOpt('basic_auth_keystone_url', default='',
               help='Keystone URL that HTTP Basic credentials of POST '
                    '/v1/event are checked against (auth_mode keystone); '
                    'empty: [keystone_authtoken] www_authenticate_uri.'),
    cfg.StrOpt('basic_auth_user_domain', default='Default',
               help='Domain name of the users of HTTP Basic credentials.'),
    cfg.StrOpt('basic_auth_project', default='',
               help='Project (name) a Basic-authenticated caller is scoped '
                    'to; empty: an unscoped caller of no project.'),
    cfg.StrOpt('basic_auth_project_domain', default='Default',
               help='Domain name of basic_auth_project.'),
]
