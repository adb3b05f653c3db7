from oslo_config import cfg

GROUP = 'consistency'

OPTS = [
    cfg.IntOpt('consistency_interval', default=600, min=10,
               help='Seconds between two runs of the consistency task.'),
    cfg.IntOpt('min_time_to_delete', default=60, min=0,
               help='Seconds a vertex stays marked deleted before the '
                    'consistency task removes it from the graph.'),
]
