"""Entity graphs of the simulated cloud, built through the real processor.

For tests and benchmarks that need a realistic graph of a given size
without a collector or a message bus: the simulated driver's ``get_all``
is stamped like the collector stamps it and applied by a
:class:`~vitrage.graph.processor.Processor` with the shipped state
normalisation files.
"""
from oslo_config import cfg

from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage import conf as vitrage_conf
from vitrage.datasources import loader
from vitrage.datasources.simulated.cloud import CloudSizes
from vitrage.datasources.simulated.cloud import sizes_for_vertices
from vitrage.datasources.simulated.driver import SimulatedDriver
from vitrage.graph.driver import EntityGraph
from vitrage.graph.processor import Processor
from vitrage.graph import states

SAMPLE_DATE = '2024-05-01T12:00:00Z'
NAME = 'simulated'


def _conf(sizes: CloudSizes) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    vitrage_conf.register_opts(conf)
    conf([], project='vitrage', default_config_files=[])
    conf.set_override('types', [NAME], 'datasources')
    loader.register_datasource_opts(conf)
    for name, value in sizes.as_options().items():
        conf.set_override(name, value, NAME)
    return conf


def build(target: int | None = None, sizes: CloudSizes | None = None,
          now: float = 0.0) -> EntityGraph:
    """The entity graph of a simulated cloud.

    :param target: about this many vertices (see
        :func:`~vitrage.datasources.simulated.cloud.sizes_for_vertices`).
    :param sizes: the exact sizes instead of ``target``.
    :param now: the simulated clock (decides which hosts are down).
    :raises ValueError: when neither or both of target and sizes are given.
    """
    if (target is None) == (sizes is None):
        raise ValueError('give either target or sizes')
    if sizes is None:
        sizes = sizes_for_vertices(target)
    conf = _conf(sizes)
    driver = SimulatedDriver(conf, NAME, clock=lambda: now)
    graph = EntityGraph()
    transformer = SimulatedDriver.transformer_class(
        conf, SimulatedDriver.entity_types[0])
    normalizer = states.StateNormalizer(
        states.resolve_dir(states.DEFAULT_DIR),
        frozenset(SimulatedDriver.entity_types))
    processor = Processor(graph, {NAME: transformer}, normalizer)

    def stamped():
        for event in driver.get_all():
            event[Envelope.DATASOURCE_ACTION] = DatasourceAction.INIT_SNAPSHOT
            event[Envelope.SAMPLE_DATE] = SAMPLE_DATE
            event[Envelope.DATASOURCE_NAME] = NAME
            yield event
    bad = processor.process_events(stamped())
    if bad:
        raise RuntimeError('%d simulated events were malformed' % bad)
    return graph
