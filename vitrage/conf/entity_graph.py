from oslo_config import cfg

GROUP = 'entity_graph'

OPTS = [
    cfg.StrOpt('datasources_values_dir',
               default='/etc/vitrage/datasources_values',
               help='Folder of <vitrage_type>.yaml files that map raw states '
                    'and severities to normalised ones.'),
    cfg.StrOpt('topic', default='vitrage_graph',
               help='RPC topic vitrage-graph answers API queries on.'),
    cfg.StrOpt('events_topic', default='vitrage_graph_events',
               help='Topic on which collectors send entity events to '
                    'vitrage-graph.'),
    cfg.FloatOpt('lease_time', default=10.0, min=1.0,
                 help='Seconds without a heartbeat after which the active '
                      'vitrage-graph is considered dead and a standby takes '
                      'a new term (with [persistency] enable_persistency; '
                      'without a database, run one graph or let Pacemaker '
                      'choose it).'),
    cfg.FloatOpt('heartbeat_interval', default=3.0, min=0.1,
                 help='Seconds between two heartbeats of the active '
                      'vitrage-graph; keep it well below lease_time.'),
    cfg.FloatOpt('stall_timeout', default=10.0, min=0.5,
                 help='Seconds the active vitrage-graph may spend inside '
                      'one piece of work (a batch of events, a template '
                      'change) before it considers itself stalled: it '
                      'stops renewing its lease and drops its broker lock, '
                      'so that a standby takes over at once. When the stall '
                      'holds the whole interpreter, the vitrage-graph master '
                      'process kills the worker after this many seconds; a '
                      'frozen host is ended by lease_time.'),
    cfg.BoolOpt('broker_lock', default=True,
                help='With RabbitMQ, the active vitrage-graph also holds an '
                     'exclusive queue "<topic>.active_graph", which the '
                     'broker drops as soon as its process dies; a standby '
                     'that sees it dropped takes over at once instead of '
                     'waiting for lease_time. The lease still decides when '
                     'the broker cannot tell (a host that lost power).'),
    cfg.FloatOpt('takeover_check_interval', default=0.2, min=0.05,
                 help='Seconds between two looks of a standby at the broker '
                      'lock (and at the term) when broker_lock is on.'),
    cfg.IntOpt('answer_part_size', default=10 * 1024 * 1024,
               min=64 * 1024,
               help='Bytes of gzipped JSON per RPC message of a large answer '
                    'to vitrage-api (a 100,000-vertex topology is about '
                    '9 MB gzipped; each message is 4/3 of this in base64). '
                    'A larger answer travels in several messages, so that '
                    'none exceeds RabbitMQ\'s max_message_size (16 MiB by '
                    'default since RabbitMQ 4.0, 128 MiB before).'),
]
