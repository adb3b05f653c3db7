"""``[persistency]``: the event log, snapshots and history retention.

The persistor (``vitrage-persistor``) consumes the graph's handled events
and history notifications from :data:`persistor_topic` and writes them to
the database of ``[database] connection``. For messages to survive a
persistor that dies, deployments on RabbitMQ set
``[oslo_messaging_rabbit] amqp_durable_queues = true`` (or
``rabbit_quorum_queue = true``).
"""
from oslo_config import cfg

GROUP = 'persistency'

OPTS = [
    cfg.BoolOpt('enable_persistency', default=True,
                help='Log every handled event and take graph snapshots, so '
                     'that a standby graph recovers from the database. '
                     'When false, a new graph starts empty and calls '
                     'get_all on every datasource.'),
    cfg.StrOpt('persistor_topic', default='vitrage_persistor',
               help='Notification topic that vitrage-graph sends handled '
                    'events, barriers and alarm history to, and that the '
                    'persistors listen on. For no handled event to be '
                    'lost on RabbitMQ, set [oslo_messaging_rabbit] '
                    'amqp_durable_queues = true (or rabbit_quorum_queue = '
                    'true) on the graph and the persistors alike, with a '
                    'control_exchange that was declared durable from the '
                    'start.'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Persistor worker processes per vitrage-persistor.'),
    cfg.IntOpt('batch_size', default=1000, min=1,
               help='Flush threshold of the persistor: it takes at most '
                    'this many messages from the queue at once and writes '
                    'their events in transactions of at most this many '
                    'events. Messages are acknowledged only once their '
                    'rows are committed.'),
    cfg.IntOpt('batch_timeout_ms', default=20, min=1,
               help='Milliseconds the persistor waits for a batch to fill '
                    'before it writes what it has. Under load batches fill '
                    'before that; when events trickle in it is how late '
                    'an alarm reaches the alarm history and "alarm list".'),
    cfg.IntOpt('snapshot_interval', default=600, min=1,
               help='Seconds between two graph snapshots (besides the '
                    'snapshot after each get_all). Recovery uses the latest '
                    'snapshot however old it is, and replays the events '
                    'logged after it.'),
    cfg.IntOpt('snapshot_events', default=100000, min=1,
               help='Handled events after which vitrage-graph takes a '
                    'snapshot even before snapshot_interval / 2 has '
                    'passed (besides the snapshot after each get_all).'),
    cfg.StrOpt('standby_mode', default='cold',
               choices=[('cold', 'a standby loads the latest snapshot and '
                                 'replays the log when it takes over'),
                        ('hot', 'a standby keeps its graph current by '
                                'following the events table, so taking '
                                'over costs only the tail')],
               help='How a standby vitrage-graph waits.'),
    cfg.IntOpt('barrier_timeout', default=60, min=1,
               deprecated_for_removal=True,
               deprecated_reason='A graph that becomes active no longer '
                                 'waits for the persistor: taking the term '
                                 'seals the previous one, and the inputs '
                                 'of what was not written yet come back '
                                 'from the broker.',
               help='Unused.'),
    cfg.FloatOpt('handoff_timeout', default=60.0, min=1.0,
                 help='Seconds vitrage-graph waits for the persistor to '
                      'write the events it handled for one input message '
                      'before it gives the message back to the broker '
                      '(the persistor or the database is down). A message '
                      'is acknowledged only once its handled events are '
                      'written.'),
    cfg.IntOpt('snapshots_to_keep', default=3, min=1,
               help='Graph snapshots kept by the purge; events older than '
                    'the oldest kept snapshot are deleted.'),
    cfg.IntOpt('alarm_history_ttl', default=30, min=1,
               help='Days an ended alarm, causal edge or alarm change is '
                    'kept in the history tables.'),
    cfg.IntOpt('purge_interval', default=3600, min=0,
               help='Seconds between two purges run by the persistor; 0 '
                    'disables the periodic purge (vitrage-purge-data can '
                    'still be run by hand or by cron).'),
    cfg.IntOpt('stats_interval', default=60, min=0,
               help='Seconds between two logs of the persistor counters; '
                    '0 disables them.'),
]
