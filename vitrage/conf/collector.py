from oslo_config import cfg

GROUP = 'collector'

OPTS = [
    cfg.StrOpt('topic', default='vitrage_collector',
               help='RPC topic the collectors serve get_all and get_changes '
                    'on. Every collector of a deployment uses the same one.'),
    cfg.IntOpt('workers', default=1, min=1,
               help='Collector worker processes per vitrage-collector.'),
    cfg.IntOpt('batch_size', default=1000, min=1,
               help='Entity events per message sent to vitrage-graph. A '
                    'get_all of any size travels as many messages of at '
                    'most this many events, never as one RPC reply.'),
]
