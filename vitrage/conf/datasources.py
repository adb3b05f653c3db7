from oslo_config import cfg

GROUP = 'datasources'

OPTS = [
    cfg.ListOpt('types', default=['static'],
                help='Datasources to enable, by the names of their '
                     'vitrage.datasources entry points (static, simulated, '
                     '...). Each may have an option group of its own.'),
    cfg.IntOpt('snapshots_interval', default=600, min=10,
               help='Seconds between two get_all calls of vitrage-graph '
                    'to the collectors.'),
    cfg.IntOpt('changes_interval', default=30, min=1,
               help='Seconds between two get_changes calls of '
                    'vitrage-graph to the collectors, for pull '
                    'datasources that have no interval of their own.'),
    cfg.ListOpt('notification_topics', default=['vitrage_notifications'],
                help='Message bus topics on which collectors listen for '
                     'push notifications of the monitored services.'),
    cfg.StrOpt('notification_exchange',
               help='Exchange of the push notification topics (the '
                    'transport default when unset).'),
    cfg.IntOpt('rpc_timeout', default=300, min=1,
               help='Seconds vitrage-graph waits for a live collector to '
                    'answer get_all or get_changes before it retries on '
                    'another collector (a collector that dies meanwhile '
                    'is noticed sooner, see ping_timeout).'),
    cfg.IntOpt('ping_timeout', default=10, min=1,
               help='Seconds vitrage-graph waits for a collector to answer '
                    'a ping before each get_all or get_changes (a call '
                    'sent while no collector listens is lost, so the long '
                    'call only goes to a collector known to be alive). '
                    'While it waits for the reply, the graph also pings '
                    'the collector called every this many seconds and '
                    'retries on another one when the ping is not '
                    'answered.'),
    cfg.IntOpt('rpc_retries', default=3, min=0,
               help='How many more times a get_all or get_changes whose '
                    'collector timed out or died is tried.'),
]
