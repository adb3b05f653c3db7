"""Three cases of the HA contract with real processes (issue 11, items 4,
5 and 6), on the deployment of :mod:`vitrage.tests.integration.soak`
(the shared RabbitMQ and MariaDB: nothing restarts them here).

* A stalled active graph (SIGSTOP of its worker: alive, sockets open,
  doing nothing) is deposed like a dead one; woken up (SIGCONT), it
  stops (its worker exits, or it reports that it lost its term) without
  anything of its old term written after its successor took over, no
  accepted event is lost and no entity is deleted. "Written after its
  successor took over": a row of the old term whose auto-increment id is
  above the highest id in the table once the successor serves and before
  the stalled graph is woken (by then everything the stalled graph had
  handed off while it held its term is written: its successor restored
  it), or above the first id of a later term
  (:func:`~vitrage.tests.integration.soak_checks.two_actives`).
* A graph restarted after a downtime longer than ``snapshot_interval``
  still restores (push-only doctor alarms survive), and ``alarm list``,
  the alarm history and the graph agree.
* A well-formed message on the persistor topic with a term no graph
  has taken is not written; the persistor logs and counts it; the next
  takeover takes the next real term and restores normally.
"""
import ast
import os
import re
import signal
import threading
import time

from oslo_config import cfg
import oslo_messaging
import pytest

from vitrage.tests import deployment as deploy
from vitrage.tests.deployment import deployment_fixture  # noqa: F401
from vitrage.tests.integration import chaos
from vitrage.tests.integration import soak
from vitrage.tests.integration import soak_checks
from vitrage.tests.integration import soak_load

LEASE = 3.0
STARTUP_TIMEOUT = 180
TAKEOVER_TIMEOUT = 90
FORGED_TERM = 1000000
_COUNTERS = re.compile(r'counters: (\{.*\})')


def _graph_alarms(topology: dict) -> set[str]:
    """The vitrage ids of the ALARM vertices of a topology."""
    return {n['vitrage_id'] for n in topology['nodes']
            if n.get('vitrage_category') == 'ALARM'}


def _doctor_hosts(records: list[dict], topology: dict) -> set[str]:
    """The host names that carry a doctor alarm among ``records``."""
    names = {n['vitrage_id']: n.get('id') for n in topology['nodes']
             if n.get('vitrage_type') == 'nova.host'}
    return {names.get(r.get('vitrage_resource_id')) for r in records
            if r.get('vitrage_type') == 'doctor'}


class ResourceSampler:
    """Counts the topology's resource vertices every 0.3 s."""

    def __init__(self, cluster: soak.SoakCluster) -> None:
        self.cluster = cluster
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            count = self.cluster.resource_count()
            if count is not None:
                self.samples.append((time.monotonic(), count))

    def __enter__(self) -> 'ResourceSampler':
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(30)


def _wait_takeover(cluster: soak.SoakCluster, term: int,
                   timeout: float = TAKEOVER_TIMEOUT) -> tuple[int, str]:
    """Wait for a term after ``term`` and the API serving again."""
    found = deploy.wait_until(
        lambda: (lambda row: row if row and row[0] > term else None)(
            cluster.holder()),
        timeout, 'a term after %d' % term, interval=0.2)
    deploy.wait_until(lambda: cluster.status() == 200, timeout,
                      'the API to serve in term %d' % found[0],
                      interval=0.2)
    return found


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_stalled_active_graph_is_deposed_and_stops_when_it_wakes(
        deployment, tmp_path, rabbit_transport_url, mysql_database):
    # The soak's load and two collectors: the graph is stopped while it
    # has events in hand more often than not.
    cluster = soak.SoakCluster(deployment, tmp_path, rabbit_transport_url,
                               mysql_database, hosts=30, lease=LEASE)
    load = None
    try:
        cluster.start(timeout=STARTUP_TIMEOUT)
        resources = cluster.resource_count()
        load = soak_load.LoadGenerator(cluster.post_event, cluster.hosts,
                                       25, 10000, 60,
                                       'stall-%d' % os.getpid())
        with ResourceSampler(cluster) as sampler:
            load.start()
            time.sleep(5)
            term, holder, active = cluster.active_graph()
            pid = cluster.worker_pid(holder)
            os.kill(pid, signal.SIGSTOP)
            stopped_at = time.monotonic()
            try:
                new_term, new_holder = _wait_takeover(cluster, term)
                # Stalled for about twice the lease, or until taken over.
                time.sleep(max(0.0, stopped_at + 2 * LEASE -
                               time.monotonic()))
                # The successor serves: whatever the stalled graph had
                # handed off is written by now (the successor restored
                # it). Anything of the old term written from here on was
                # written after its successor took over.
                watermark = chaos.query(
                    cluster.db_url,
                    'SELECT COALESCE(MAX(id), 0) FROM events')[0][0]
            finally:
                os.kill(pid, signal.SIGCONT)
            assert new_holder != holder
            # The woken graph stops: its worker exits, or it says it lost
            # its term (and waits as a standby).
            deploy.wait_until(
                lambda: not soak.process_alive(pid) or
                ('lost term %d' % term) in active.log(), 60,
                'the woken graph (pid %d) to stop' % pid)
            load.wait()
            load.final_round()
            logged, topology = soak_checks.settle(cluster, load, 180)
        accepted = {e.event_id for e in load.sent if e.accepted}
        lost = sorted(accepted - set(logged))
        assert lost == [], '%d accepted events lost: %s' % (len(lost),
                                                            lost[:20])
        # Nothing of the old term was written after the successor took
        # over, nor after the successor's first event.
        late = chaos.query(cluster.db_url, 'SELECT COUNT(*) FROM events '
                           'WHERE term = :term AND id > :watermark',
                           term=term, watermark=watermark)[0][0]
        assert late == 0, '%d events of the deposed term %d written after ' \
            'its successor took over' % (late, term)
        signs = soak_checks.two_actives(cluster.db_url, cluster.logs('graph'))
        assert signs == [], signs
        assert chaos.term_holder(cluster.db_url)[0] >= new_term
        # No entity was deleted while the old graph woke up.
        low = min(count for _at, count in sampler.samples)
        assert low >= resources, (
            'the resource vertices dropped from %d to %d' % (resources, low))
        assert soak_checks.wrong_hosts(load.expected_down(), topology,
                                       cluster.alarm_list()) == {}
    finally:
        if load is not None:
            load.close()
        cluster.cleanup()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_restart_longer_than_the_snapshot_interval_keeps_pushed_alarms(
        deployment, tmp_path, rabbit_transport_url, mysql_database):
    interval = 5
    cluster = soak.SoakCluster(
        deployment, tmp_path, rabbit_transport_url, mysql_database,
        hosts=6, graphs=1, collectors=1, lease=LEASE,
        extra={'persistency': {'snapshot_interval': interval}})
    try:
        cluster.start(timeout=STARTUP_TIMEOUT)
        down = cluster.hosts[:3]
        for index, host in enumerate(down):
            assert cluster.post_event(soak_load.doctor_event(
                'stale-%d' % index, host, 'down')) == 200
        # Raised and cleared: must stay cleared.
        assert cluster.post_event(soak_load.doctor_event(
            'stale-up-0', cluster.hosts[3], 'down')) == 200
        time.sleep(1.2)
        assert cluster.post_event(soak_load.doctor_event(
            'stale-up-1', cluster.hosts[3], 'up')) == 200

        def raised():
            topology = cluster.topology()
            listed = cluster.alarm_list()
            if topology is None or listed is None:
                return None
            ok = (_doctor_hosts([n for n in topology['nodes']], topology) ==
                  set(down) and _doctor_hosts(listed, topology) == set(down))
            return topology if ok else None
        before = deploy.wait_until(raised, 60, 'the doctor alarms of %s'
                                   % down)
        # A snapshot is taken with them (or not: either way they must
        # come back), then the graph dies and stays down for longer than
        # the snapshot interval.
        time.sleep(interval + 1)
        graph = cluster.graphs[0]
        cluster.kill_group(graph)
        time.sleep(2 * interval + 2)
        cluster.start_graph()
        deploy.wait_for_api(cluster.url, deployment, timeout=120)
        after = deploy.wait_until(cluster.topology, 60, 'the topology')
        listed = cluster.alarm_list()
        history = cluster.alarm_history()
        assert listed is not None and history is not None
        assert _doctor_hosts([n for n in after['nodes']], after) == \
            set(down), 'doctor alarms in the graph after the restart'
        assert _doctor_hosts(listed, after) == set(down)
        # alarm list, the alarm history and the graph agree.
        active_history = {r['vitrage_id'] for r in history
                          if not r.get('end_timestamp')}
        assert {r['vitrage_id'] for r in listed} == active_history
        assert _graph_alarms(after) == active_history
        assert deploy.topology_summary(after) == \
            deploy.topology_summary(before)
        expected = {host: host in down for host in cluster.hosts}
        assert soak_checks.wrong_hosts(expected, after, listed) == {}
    finally:
        cluster.cleanup()


def _forged_record(conf: cfg.ConfigOpts, host: str) -> dict:
    """A well-formed positioned record of a doctor event on ``host``."""
    from vitrage.collector.manager import DatasourceRunner
    from vitrage.common.constants import DatasourceAction
    from vitrage.common import timeutils
    from vitrage.datasources import loader

    runner = DatasourceRunner(conf, 'doctor',
                              loader.enabled_classes(conf)['doctor'],
                              'forger')
    sample = timeutils.sample_now()
    body = soak_load.doctor_event('forged-0', host, 'down')
    event = list(runner.stamp(iter(runner.driver.enrich_event(
        'vitrage.custom.event.down', body)), DatasourceAction.UPDATE,
        sample))[0]
    return {'seq': 1, 'type': 'vitrage.custom.event.down',
            'collector_timestamp': sample, 'event': event}


def _counters(log: str) -> dict:
    """The last counters line of a persistor log."""
    found = _COUNTERS.findall(log)
    return ast.literal_eval(found[-1]) if found else {}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_forged_term_is_not_written(deployment, tmp_path,
                                      rabbit_transport_url, mysql_database,
                                      conf):
    from vitrage.graph import handoff
    from vitrage.persistor import batch

    cluster = soak.SoakCluster(deployment, tmp_path, rabbit_transport_url,
                               mysql_database, hosts=6, collectors=1,
                               lease=LEASE,
                               extra={'persistency': {'stats_interval': 1}})
    try:
        cluster.start(timeout=STARTUP_TIMEOUT)
        term, _holder = cluster.holder()
        chaos.parse_config(conf, cluster.config)
        transport = oslo_messaging.get_notification_transport(conf)
        try:
            handoff.ConfirmedSender(
                conf, [conf.persistency.persistor_topic], transport).send(
                    batch.EVENTS, {'term': FORGED_TERM, 'events': [
                        _forged_record(conf, 'forged-host')]})
        finally:
            transport.cleanup()
        # A real event after it: once logged, the persistor has handled
        # the forged message too (one queue, in order).
        assert cluster.post_event(soak_load.doctor_event(
            'marker-0', cluster.hosts[0], 'down')) == 200
        deploy.wait_until(lambda: cluster.logged_ids('marker'), 60,
                          'the marker event in the events table')
        rows = chaos.query(cluster.db_url, 'SELECT COUNT(*) FROM events '
                           'WHERE term = :term', term=FORGED_TERM)[0][0]
        assert rows == 0, 'the forged term was written (%d rows)' % rows
        persistor_log = cluster.persistor.log()
        assert str(FORGED_TERM) in persistor_log, persistor_log[-3000:]
        # Counted: a counter about terms (e.g. unknown terms) is >= 1.
        deploy.wait_until(
            lambda: [k for k, v in _counters(cluster.persistor.log()).items()
                     if 'term' in k and v >= 1], 30,
            'a persistor counter of refused terms')

        before = deploy.topology_summary(cluster.topology())
        term, holder, active = cluster.active_graph()
        cluster.kill_group(active)
        cluster.start_graph()
        new_term, new_holder = _wait_takeover(cluster, term)
        assert new_term == term + 1, (term, new_term)
        assert new_holder != holder
        after = deploy.wait_until(cluster.topology, 60, 'the topology')
        assert deploy.topology_summary(after) == before, chaos.diff(
            deploy.topology_summary(after), before)
        assert not [n for n in after['nodes']
                    if n.get('hostname') == 'forged-host']
    finally:
        cluster.cleanup()
