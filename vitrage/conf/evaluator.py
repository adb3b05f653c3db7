from oslo_config import cfg

GROUP = 'evaluator'

OPTS = [
    cfg.BoolOpt('enabled', default=True,
                help='Evaluate the scenarios of the stored templates in '
                     'vitrage-graph. When false, templates can still be '
                     'stored and validated, but nothing is deduced.'),
    cfg.StrOpt('templates_dir', default='',
               help='A directory of template files (YAML) that seeds the '
                    'template store: when the active graph starts and the '
                    'store holds no template at all, every file is added '
                    'as "template add" would. Later changes go through the '
                    'API. Without persistency (no database) the files are '
                    'the templates.'),
    cfg.FloatOpt('templates_poll_interval', default=1.0, min=0.1,
                 help='Seconds between two looks of the active graph at '
                      'the template store: templates added become ACTIVE '
                      'and deleted ones are unloaded within about this '
                      'time.'),
    cfg.IntOpt('max_rounds', default=32, min=1,
               help='How many rounds of scenario actions one change may '
                    'cause before the evaluator stops, logging the '
                    'scenarios that feed each other forever.'),
]
