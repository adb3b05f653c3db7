"""Option groups, one module each; :func:`register_opts` registers them all."""
from oslo_config import cfg

from vitrage.conf import api
from vitrage.conf import collector
from vitrage.conf import consistency
from vitrage.conf import database
from vitrage.conf import datasources
from vitrage.conf import entity_graph
from vitrage.conf import evaluator
from vitrage.conf import paths
from vitrage.conf import persistency
from vitrage.conf import service

_MODULES = (api, collector, consistency, database, datasources, entity_graph,
            evaluator, paths, persistency, service)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every Vitrage option group on ``conf``.

    Datasource plugins register their own group when they are loaded
    (see :mod:`vitrage.datasources.loader`).
    """
    for module in _MODULES:
        conf.register_opts(module.OPTS, group=module.GROUP)
