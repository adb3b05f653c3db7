"""Restarts with nothing lost (HA contract, promises 2 and 7).

Real processes: a collector running the ``simulated`` datasource with a
failure schedule (changes nearly every second, polled every second), a
persistor, one ``vitrage-graph`` and an API, on RabbitMQ (durable queues)
and MariaDB. While entity events flow:

* the persistor is killed with SIGKILL and started again, three times;
* the RabbitMQ node is restarted (a private node of this test);
* the MariaDB server is restarted (a private server of this test);
* the MariaDB server stays down longer than the graph's lease: the
  graph steps down and, once the database is back, takes the next term
  and restores itself from the snapshot and the log.

No service is restarted by the test but the one under trial: the others
reconnect by themselves. Then the load stops and the graph settles, and:

* the graph kept its term (the outage was shorter than the lease), or
  took a later one after the long outage;
* every event the graph handled is in the events table exactly once:
  the term's positions are 1..N with no hole, and a fresh graph that
  applies the logged events in order equals the live graph;
* the live graph equals a reference graph built afresh from the
  simulated cloud at the moment of its last change.

An in-process test pins down what happens to a batch in flight when the
graph loses its term: it goes back to the queue.

The shared servers on 5672 and 3306 are never restarted; see
:mod:`vitrage.tests.integration.private_servers`.
"""
import signal
import time

import oslo_messaging
import pytest

from vitrage.common import timeutils
from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests import helpers
from vitrage.tests.integration import chaos
from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration.private_servers import (  # noqa: F401
    private_mariadb_fixture)
from vitrage.tests.integration.private_servers import (  # noqa: F401
    private_rabbit_fixture)
from vitrage.tests.integration import services

STARTUP_TIMEOUT = 90
#: Seconds a server stays down while events flow.
DOWNTIME = 4.0
#: Longer than any outage of these tests: the graph keeps its term.
LEASE = 20.0


class Cluster:
    """Collector, persistor, graph and API on one config file."""

    def __init__(self, deployment: deploy.Deployment, tmp_path,
                 transport_url: str, db_url: str,
                 lease: float = LEASE) -> None:
        self.deployment = deployment
        self.transport_url = transport_url
        self.db_url = db_url
        self.prefix = chaos.unique_prefix('restart')
        self.url = 'http://127.0.0.1:%d' % helpers.free_port()
        self.config = chaos.write_config(
            tmp_path, self.prefix, transport_url, db_url,
            int(self.url.rsplit(':', 1)[1]), lease=lease,
            extra={'entity_graph': {'heartbeat_interval': 1}})
        persistor_procs.dbsync(str(self.config))
        self.collector: deploy.ServiceProcess | None = None
        self.persistor: deploy.ServiceProcess | None = None
        self.persistor_starts = 0

    def start_persistor(self) -> deploy.ServiceProcess:
        self.persistor_starts += 1
        self.persistor = self.deployment.start(
            'persistor-%d' % self.persistor_starts, 'vitrage-persistor',
            self.config)
        return self.persistor

    def start(self) -> 'Cluster':
        self.collector = self.deployment.start(
            'collector', 'vitrage-collector', self.config)
        self.start_persistor()
        self.deployment.start('graph', 'vitrage-graph', self.config)
        self.deployment.start('api', 'vitrage-api', self.config)
        deploy.wait_for_api(self.url, self.deployment,
                            timeout=STARTUP_TIMEOUT)
        return self

    def logged(self) -> int:
        return chaos.query(self.db_url, 'SELECT COUNT(*) FROM events')[0][0]

    def wait_logged_growth(self, timeout: float = 60) -> int:
        """Wait until more events are logged than now (the load flows)."""
        before = self.logged()
        return deploy.wait_until(
            lambda: (lambda n: n if n > before else None)(self.logged()),
            timeout, 'more than %d logged events' % before,
            deployment=self.deployment)

    def cleanup(self) -> None:
        self.deployment.cleanup()
        chaos.delete_broker_objects(self.transport_url, self.prefix,
                                    self.deployment)


def _settled_topology(cluster: Cluster) -> dict:
    """Stop the load; the topology once two readings agree and every
    handled event has been written.
    """
    assert cluster.collector.terminate(30) is not None
    previous = None

    def settled():
        nonlocal previous
        current = chaos.topology(cluster.url)
        if current is None:
            return None
        now = (deploy.topology_summary(current), cluster.logged())
        if previous is not None and now == previous[0]:
            return current
        previous = (now, current)
        return None

    return deploy.wait_until(settled, 90, 'the graph and the log to settle',
                             interval=2, deployment=cluster.deployment)


def _assert_nothing_lost(cluster: Cluster, conf, first_term: int,
                         same_term: bool = True) -> None:
    """The checks of the module docstring, once the load has stopped.

    :param same_term: the graph must have kept its term; otherwise it
        must have stepped down and taken a later one, and only the last
        term (never interrupted) must have a log with no hole.
    """
    settled = _settled_topology(cluster)
    final = deploy.topology_summary(settled)
    assert len(final[0]) == chaos.CLOUD_VERTICES

    term, _holder = chaos.term_holder(cluster.db_url)
    if same_term:
        assert term == first_term, (
            'the graph lost its term: %d -> %d\n%s' % (
                first_term, term, cluster.deployment.logs()))
    else:
        assert term > first_term, 'the graph never stepped down'
    positions = chaos.event_positions(cluster.db_url)
    assert max(positions) == term
    seqs = positions[term]
    assert seqs == list(range(1, len(seqs) + 1)), (
        'holes in the log of term %d: %s' % (
            term, sorted(set(range(1, seqs[-1] + 1)) - set(seqs))))

    chaos.parse_config(conf, cluster.config)
    from_log = deploy.topology_summary(chaos.log_topology(
        conf, cluster.db_url))
    assert from_log == final, chaos.diff(final, from_log)

    last = timeutils.parse_sample(chaos.latest_sample(settled))
    references = [deploy.topology_summary(chaos.reference_topology(
        conf, last.timestamp() + offset)) for offset in (0.5, 1.5)]
    assert final in references, chaos.diff(final, references[0])


@pytest.mark.slow
def test_persistor_killed_and_restarted_while_events_flow(
        deployment, tmp_path, rabbit_transport_url, mysql_database, conf):
    cluster = Cluster(deployment, tmp_path, rabbit_transport_url,
                      mysql_database)
    try:
        cluster.start()
        first_term, _holder = chaos.term_holder(mysql_database)
        for _round in range(3):
            cluster.wait_logged_growth()
            cluster.persistor.kill_group()
            deployment.processes.remove(cluster.persistor)
            # The graph goes on handling events while no persistor runs:
            # they wait in the durable queue.
            time.sleep(2)
            assert deploy.http_status(cluster.url + '/v1/status/') == 200
            cluster.start_persistor()
        cluster.wait_logged_growth()
        _assert_nothing_lost(cluster, conf, first_term)
    finally:
        cluster.cleanup()


@pytest.mark.slow
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL],
                         ids=['restarted', 'killed'])
def test_rabbitmq_restarted_while_events_flow(
        deployment, tmp_path, private_rabbit, mysql_database, conf, sig):
    cluster = Cluster(deployment, tmp_path, private_rabbit.url,
                      mysql_database)
    try:
        cluster.start()
        first_term, _holder = chaos.term_holder(mysql_database)
        cluster.wait_logged_growth()
        private_rabbit.restart(sig, downtime=DOWNTIME)
        # Everyone reconnects by themselves: the API answers again and
        # new events keep reaching the events table.
        deploy.wait_for_api(cluster.url, deployment, timeout=120)
        cluster.wait_logged_growth(timeout=120)
        cluster.wait_logged_growth()
        _assert_nothing_lost(cluster, conf, first_term)
    finally:
        deployment.cleanup()


@pytest.mark.slow
def test_mariadb_restarted_while_events_flow(
        deployment, tmp_path, rabbit_transport_url, private_mariadb, conf):
    name = helpers.unique_name('vitrage_test')
    db_url = services.create_database(private_mariadb.url, name)
    cluster = Cluster(deployment, tmp_path, rabbit_transport_url, db_url)
    try:
        cluster.start()
        first_term, _holder = chaos.term_holder(db_url)
        cluster.wait_logged_growth()
        private_mariadb.restart(downtime=DOWNTIME)
        deploy.wait_for_api(cluster.url, deployment, timeout=120)
        cluster.wait_logged_growth(timeout=120)
        cluster.wait_logged_growth()
        _assert_nothing_lost(cluster, conf, first_term)
    finally:
        cluster.cleanup()


@pytest.mark.slow
def test_mariadb_outage_longer_than_the_lease(
        deployment, tmp_path, rabbit_transport_url, private_mariadb, conf):
    """The graph cannot renew its lease: it steps down (its worker
    exits, cotyledon starts a new one as a standby), and once the
    database is back it takes the next term, restores the snapshot and
    the log, and serves again, with nothing lost.
    """
    lease = 4.0
    name = helpers.unique_name('vitrage_test')
    db_url = services.create_database(private_mariadb.url, name)
    cluster = Cluster(deployment, tmp_path, rabbit_transport_url, db_url,
                      lease=lease)
    try:
        cluster.start()
        first_term, _holder = chaos.term_holder(db_url)
        cluster.wait_logged_growth()
        private_mariadb.restart(downtime=2 * lease + 2)
        deploy.wait_until(
            lambda: chaos.term_holder(db_url)[0] > first_term, 120,
            'a new term after the outage', deployment=deployment)
        deploy.wait_for_api(cluster.url, deployment, timeout=120)
        graph_log = [p for p in deployment.processes
                     if p.name == 'graph'][0].log()
        assert 'lost term %d' % first_term in graph_log
        assert 'restored from' in graph_log
        cluster.wait_logged_growth()
        _assert_nothing_lost(cluster, conf, first_term, same_term=False)
    finally:
        cluster.cleanup()


class _RecordingHandoff:
    """Stands in for the graph's hand-off: records what is published."""

    term = 1

    def __init__(self) -> None:
        self.seq = 0
        self.published: list[dict] = []

    def position(self, event: dict) -> dict:
        self.seq += 1
        return {'seq': self.seq, 'event': event}

    def publish(self, records: list, history: list) -> None:
        self.published.extend(records)


def test_a_graph_that_lost_its_term_does_not_acknowledge_unlogged_events(
        conf):
    """A database outage longer than the lease makes the graph lose its
    term (``_lose_term``, from the heartbeat thread) while collector
    batches may be in flight. Such a batch must go back to the queue
    for the next active graph, not be acknowledged unlogged.

    In process: the race is made deterministic by losing the term
    between two batches.
    """
    from vitrage.collector.manager import DatasourceRunner
    from vitrage.collector import rpcapi as collector_rpcapi
    from vitrage.common.constants import DatasourceAction
    from vitrage.datasources import loader
    from vitrage.graph.service import EventsEndpoint
    from vitrage.graph.service import GraphService

    conf.set_override('types', ['simulated'], 'datasources')
    loader.register_datasource_opts(conf)
    service = GraphService(conf)
    runner = DatasourceRunner(conf, 'simulated',
                              loader.enabled_classes(conf)['simulated'],
                              'test')
    events, _sample = runner.full(DatasourceAction.INIT_SNAPSHOT)
    events = list(events)
    handoff = _RecordingHandoff()
    service.handoff = handoff
    service.term = handoff.term
    service.coordinator.start()
    try:
        endpoint = EventsEndpoint(service)

        def deliver(batch: list[dict]):
            return endpoint.info({}, 'collector', collector_rpcapi.EVENTS_TYPE,
                                 {'request_id': None, 'events': batch}, {})

        # Holding the term: applied, handed off, acknowledged.
        assert deliver(events[:3]) == oslo_messaging.NotificationResult.HANDLED
        assert len(handoff.published) == 3

        service._lose_term(handoff.term)
        result = deliver(events[3:6])
        # Nothing more was handed off...
        assert len(handoff.published) == 3
        # ...so the message must not be acknowledged.
        assert result == oslo_messaging.NotificationResult.REQUEUE
    finally:
        service.coordinator.stop()
