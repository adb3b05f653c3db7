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
    cfg.IntOpt('listener_batch_size', default=64, min=1,
               help='Messages vitrage-graph takes from its events topic at '
                    'once.'),
    cfg.FloatOpt('listener_batch_timeout', default=0.05, min=0.001,
                 help='Seconds the events listener waits to fill a batch.'),
]
