"""The soak harness's own logic, without servers: the disruption plan,
the load generator's bookkeeping and the per-host alarm check
(:mod:`vitrage.tests.integration.soak`).
"""
import threading
import time

import pytest

from vitrage.tests.integration import chaos
from vitrage.tests.integration import soak
from vitrage.tests.integration import soak_checks
from vitrage.tests.integration import soak_disrupt as disrupt
from vitrage.tests.integration import soak_load


def test_the_plan_is_seeded_and_spaced():
    others = [disrupt.PERSISTOR, disrupt.RABBIT]
    first = disrupt.plan(42, 300, (20, 40), others)
    assert first == disrupt.plan(42, 300, (20, 40), others)
    assert first != disrupt.plan(43, 300, (20, 40), others)
    kills = [at for at, action in first if action == disrupt.GRAPH]
    assert 6 <= len(kills) <= 15
    assert 20 <= kills[0] <= 40
    assert all(20 <= b - a <= 40 for a, b in zip(kills, kills[1:]))
    assert max(at for at, _action in first) < 290
    done = [action for _at, action in first if action != disrupt.GRAPH]
    assert sorted(done) == sorted(others)
    assert first == sorted(first)


@pytest.mark.parametrize('every', [(0, 10), (30, 20), (-1, 5)])
def test_a_bad_kill_interval_is_refused(every):
    with pytest.raises(ValueError, match='graph_every'):
        disrupt.plan(1, 100, every, [])


def test_an_unknown_disruption_is_refused():
    with pytest.raises(ValueError, match='reboot'):
        disrupt.plan(1, 100, (10, 20), ['reboot'])


def test_the_load_alternates_and_ends_with_a_spaced_final_round():
    posted = []
    lock = threading.Lock()

    def post(body: dict) -> int:
        with lock:
            posted.append(body)
        # Every 7th event is refused.
        number = int(body['details']['event_id'].rsplit('-', 1)[1])
        return 503 if number % 7 == 6 else 200

    hosts = ['h1', 'h2', 'h3']
    load = soak_load.LoadGenerator(post, hosts, rate=200, max_events=20,
                                   seconds=60, run_id='t')
    try:
        load.start()
        load.wait()
        load.final_round()
    finally:
        load.close()
    assert len(load.sent) == 23 and len(posted) == 23
    assert [e.event_id for e in load.sent] == ['t-%d' % n
                                               for n in range(23)]
    for host in hosts:
        events = [e for e in load.sent if e.host == host]
        assert [e.status for e in events] == [
            'down' if n % 2 == 0 else 'up' for n in range(len(events))]
        final, before = events[-1], events[-2]
        assert final.final and not before.final
        assert final.sent_at - before.sent_at >= soak_load.FINAL_SPACING
    assert all(e.accepted == (e.http_status == 200) for e in load.sent)
    expected = {}
    for event in load.sent:
        if event.accepted:
            expected[event.host] = event.status == 'down'
    assert load.expected_down() == expected


def test_a_load_needs_a_rate_and_hosts():
    with pytest.raises(ValueError, match='rate'):
        soak_load.LoadGenerator(lambda body: 200, ['h'], 0, 1, 1, 'r')
    with pytest.raises(ValueError, match='hosts'):
        soak_load.LoadGenerator(lambda body: 200, [], 1, 1, 1, 'r')


@pytest.fixture
def small_cloud(conf, tmp_path):
    """A parsed soak config of a 4-host cloud, and its hosts."""
    options = soak.cloud_options(4, 2)
    templates = tmp_path / 'templates'
    templates.mkdir()
    (templates / 'host_down.yaml').write_text(
        soak.HOST_DOWN_TEMPLATE.read_text())
    config = chaos.write_config(
        tmp_path, 'unit', 'rabbit://u:p@h:1/', 'sqlite://', 1, extra={
            'datasources': {'types': 'simulated,doctor'},
            'simulated': options, 'evaluator': {'templates_dir': templates}})
    chaos.parse_config(conf, config)
    return conf, soak.host_names(options)


def _alarm_records(topology: dict) -> list[dict]:
    return [{'vitrage_id': n['vitrage_id'],
             'vitrage_type': n.get('vitrage_type'), 'name': n.get('name'),
             'vitrage_resource_id': n.get('vitrage_resource_id')}
            for n in topology['nodes']
            if n.get('vitrage_category') == 'ALARM']


def test_the_host_check_follows_the_template(small_cloud):
    conf, hosts = small_cloud
    down = hosts[:2]
    topology = soak_checks.reference_topology(conf, {
        host: soak_load.doctor_event('e-%d' % n, host, 'down')
        for n, host in enumerate(down)})
    types = [n.get('vitrage_type') for n in topology['nodes']]
    # A doctor alarm per host down, a deduced alarm per instance on it.
    assert types.count('doctor') == 2
    assert len([n for n in topology['nodes']
                if n.get('name') == soak_checks.DEDUCED_ALARM]) == 4
    alarms = _alarm_records(topology)
    expected = {host: host in down for host in hosts}
    assert soak_checks.wrong_hosts(expected, topology, alarms) == {}

    # A host expected up that is down, and one expected down that is up.
    flipped = dict(expected, **{hosts[0]: False, hosts[2]: True})
    wrong = soak_checks.wrong_hosts(flipped, topology, alarms)
    assert sorted(wrong) == [hosts[0], hosts[2]]
    assert 'graph: doctor alarm still raised' in wrong[hosts[0]]
    assert 'graph: doctor alarm missing' in wrong[hosts[2]]

    # alarm list lacking a deduced alarm, or failing.
    partial = [a for a in alarms if a['vitrage_type'] == 'doctor']
    wrong = soak_checks.wrong_hosts(expected, topology, partial)
    assert sorted(wrong) == down
    assert 'alarm list: instance_down' in wrong[down[0]]
    assert soak_checks.wrong_hosts(expected, topology, None) == {
        host: 'alarm list failed' for host in hosts}


class _FakeCluster:
    """What the disruptor uses of a cluster; the API serves again
    ``recovery`` seconds after each graph kill.
    """

    def __init__(self, recovery: float) -> None:
        self.recovery = recovery
        self.term = 1
        self.down_until = 0.0
        self.calls: list[str] = []
        self.persistor = 'persistor-1'

    def active_graph(self):
        return self.term, 'h:%d' % self.term, 'graph-%d' % self.term

    def kill_group(self, proc) -> None:
        self.calls.append('kill %s' % proc)
        if proc.startswith('graph'):
            self.term += 1
            self.down_until = time.monotonic() + self.recovery

    def start_graph(self) -> None:
        self.calls.append('start graph')

    def start_persistor(self) -> None:
        self.calls.append('start persistor')

    def holder(self):
        return self.term, 'h:%d' % self.term

    def status(self, timeout: float = 5):
        return 200 if time.monotonic() >= self.down_until else 503


def test_late_graph_kills_are_skipped_and_one_offs_still_happen():
    cluster = _FakeCluster(recovery=0.6)
    disruptor = disrupt.Disruptor(
        cluster, [(0.0, disrupt.GRAPH), (0.1, disrupt.GRAPH),
                  (0.2, disrupt.PERSISTOR), (0.9, disrupt.GRAPH)],
        skip_late_kills=0.3, recover_timeout=10)
    disruptor.start(time.monotonic())
    disruptor.wait(30)
    done = [(d.action, d.old_term, d.new_term) for d in disruptor.done]
    assert done == [(disrupt.GRAPH, 1, 2), (disrupt.PERSISTOR, None, None),
                    (disrupt.GRAPH, 2, 3)]
    assert disruptor.skipped == 1
    gaps = [d.gap for d in disruptor.done if d.action == disrupt.GRAPH]
    assert all(gap >= 0.6 for gap in gaps)
    assert cluster.calls == ['kill graph-1', 'start graph',
                             'kill persistor-1', 'start persistor',
                             'kill graph-2', 'start graph']
