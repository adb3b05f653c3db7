"""The soak's final checks, once the load stopped.

**Settled** (:func:`settle`): the API serves, every accepted event is in
the ``events`` table (or the table stopped growing), and two readings of
the topology and of ``alarm list`` agree.

**Hosts** (:func:`wrong_hosts`): the doctor alarm of a host is in the
graph (topology) and in ``alarm list`` (the history tables) iff the last
event accepted for the host was ``down``, and the template's
``instance_down`` alarm on each of its instances likewise.

**The graph** (:func:`reference_topology`): the final graph (vertex ids,
types, states, edges) must equal a fresh graph fed the same final
inputs: the simulated cloud's get_all, the ``down`` events that are the
last of their host, and the template. The fresh graph is built from the
inputs, not from the events log
(:func:`~vitrage.tests.integration.chaos.log_topology`): a graph equal to
its own log could still have lost what never reached the log.

**Two actives** (:func:`two_actives`): a graph is active while it holds
a term; two actives are seen when either

* two different holders claimed the same term (``graph <holder> is
  active in term <n>`` in the graph logs), or
* the events table has a row of term ``t`` inserted after the first row
  of a later term (its auto-increment id is higher): something of the
  old term was written while, or after, its successor wrote; the
  contract allows neither (the successor restores everything its
  predecessor handed off before it hands off anything itself).
"""
import collections
import re
import time
import typing

from oslo_config import cfg

from vitrage.tests import deployment as deploy
from vitrage.tests.integration import chaos

#: The alarm the template deduces on the instances of a host that is down.
DEDUCED_ALARM = 'instance_down'
CLAIM = re.compile(r'graph (\S+) is active in term (\d+)')

if typing.TYPE_CHECKING:
    from vitrage.tests.integration.soak import SoakCluster
    from vitrage.tests.integration.soak_load import LoadGenerator


def two_actives(db_url: str, graph_logs: str) -> list[str]:
    """Signs of two active graphs at once (see the module docstring).

    :param db_url: the run's database.
    :param graph_logs: every graph process's log, concatenated.
    :returns: one line per sign; empty when none was seen.
    """
    signs = []
    claims: dict[int, set[str]] = collections.defaultdict(set)
    for holder, term in CLAIM.findall(graph_logs):
        claims[int(term)].add(holder)
    for term, holders in sorted(claims.items()):
        if len(holders) > 1:
            signs.append('term %d claimed by %s' % (term, sorted(holders)))
    rows = chaos.query(db_url, 'SELECT term, MIN(id), MAX(id), COUNT(*) '
                       'FROM events GROUP BY term ORDER BY term')
    for index, (term, _first, last, _count) in enumerate(rows):
        later = [first for (t, first, _l, _c) in rows[index + 1:]
                 if t > term]
        if later and last > min(later):
            late = chaos.query(db_url, 'SELECT COUNT(*) FROM events WHERE '
                               'term = :term AND id > :bound', term=term,
                               bound=min(later))[0][0]
            signs.append('%d events of term %d written after the first '
                         'event of a later term' % (late, term))
    return signs


def reference_topology(conf: cfg.ConfigOpts,
                       final: dict[str, dict]) -> dict:
    """The topology of a fresh graph fed the final inputs, in the API's
    format: the simulated cloud's get_all, the given doctor events (the
    bodies posted last for the hosts that are down) through the doctor
    driver, then the templates of ``[evaluator] templates_dir``.

    In this process, with persistency off (nothing is written).

    :param conf: the run's configuration, parsed
        (:func:`~vitrage.tests.integration.chaos.parse_config`).
    :param final: ``{host: posted body}``.
    """
    from vitrage.collector.manager import DatasourceRunner
    from vitrage.common.constants import DatasourceAction
    from vitrage.datasources import loader
    from vitrage.graph.service import GraphService
    from vitrage.graph import views

    conf.set_override('enable_persistency', False, 'persistency')
    graph = GraphService(conf)
    classes = loader.enabled_classes(conf)
    simulated = DatasourceRunner(conf, 'simulated', classes['simulated'],
                                 'reference')
    events, _sample = simulated.full(DatasourceAction.INIT_SNAPSHOT)
    assert graph.processor.process_events(events) == 0
    doctor = DatasourceRunner(conf, 'doctor', classes['doctor'], 'reference')
    from vitrage.common import timeutils
    sample = timeutils.sample_now()
    pushed = []
    for _host, body in sorted(final.items()):
        event_type = 'vitrage.custom.event.' + body['details']['status']
        pushed.extend(doctor.stamp(
            iter(doctor.driver.enrich_event(event_type, body)),
            DatasourceAction.UPDATE, sample))
    assert graph.processor.process_events(pushed) == 0
    graph.coordinator.start()
    try:
        graph.enable_evaluator()
    finally:
        graph.coordinator.stop()
    return views.topology(graph.graph, chaos.ADMIN, graph_type='graph',
                          all_tenants=True)


def _instances_by_host(topology: dict) -> dict[str, list[str]]:
    """Instance vitrage ids of each host name (``contains`` edges)."""
    nodes = topology['nodes']
    result: dict[str, list[str]] = collections.defaultdict(list)
    for link in topology['links']:
        source, target = nodes[link['source']], nodes[link['target']]
        if (link.get('relationship_type') == 'contains' and
                source.get('vitrage_type') == 'nova.host' and
                target.get('vitrage_type') == 'nova.instance'):
            result[source.get('id')].append(target['vitrage_id'])
    return result


def wrong_hosts(expected_down: dict[str, bool], topology: dict,
                alarms: list[dict] | None) -> dict[str, str]:
    """Hosts whose alarms disagree with their last accepted event.

    :param expected_down: host -> whether it must have a doctor alarm.
    :param topology: the final topology.
    :param alarms: ``alarm list`` (active alarms), None if it failed.
    :returns: host -> what is wrong.
    """
    instances = _instances_by_host(topology)
    host_ids = {n.get('id'): n['vitrage_id'] for n in topology['nodes']
                if n.get('vitrage_type') == 'nova.host'}
    graph_doctor = {n.get('vitrage_resource_id') for n in topology['nodes']
                    if n.get('vitrage_type') == 'doctor'}
    graph_deduced = {n.get('vitrage_resource_id') for n in topology['nodes']
                     if n.get('name') == DEDUCED_ALARM}
    listed_doctor = {a.get('vitrage_resource_id') for a in alarms or []
                     if a.get('vitrage_type') == 'doctor'}
    listed_deduced = {a.get('vitrage_resource_id') for a in alarms or []
                      if a.get('name') == DEDUCED_ALARM}
    wrong = {}
    for host, down in sorted(expected_down.items()):
        host_id = host_ids.get(host)
        problems = []
        if host_id is None:
            problems.append('not in the topology')
        else:
            if (host_id in graph_doctor) != down:
                problems.append('graph: doctor alarm %s' % (
                    'missing' if down else 'still raised'))
            if alarms is None:
                problems.append('alarm list failed')
            elif (host_id in listed_doctor) != down:
                problems.append('alarm list: doctor alarm %s' % (
                    'missing' if down else 'still active'))
            for instance in instances.get(host, []):
                if (instance in graph_deduced) != down:
                    problems.append('graph: %s on %s %s' % (
                        DEDUCED_ALARM, instance,
                        'missing' if down else 'still raised'))
                if alarms is not None and \
                        (instance in listed_deduced) != down:
                    problems.append('alarm list: %s on %s %s' % (
                        DEDUCED_ALARM, instance,
                        'missing' if down else 'still active'))
        if problems:
            wrong[host] = '; '.join(problems)
    return wrong


def settle(cluster: 'SoakCluster', load: 'LoadGenerator',
           timeout: float) -> tuple[collections.Counter, dict]:
    """Wait until the API serves, every accepted event is logged (or the
    log stops growing for 20 s) and two readings of the topology and of
    ``alarm list``, 2 s apart, agree.

    :returns: ``(logged ids, settled topology)``.
    :raises AssertionError: when the API does not serve in time.
    """
    deadline = time.monotonic() + timeout
    deploy.wait_until(lambda: cluster.status() == 200, timeout,
                      'the API to serve after the load')
    accepted = {e.event_id for e in load.sent if e.accepted}
    logged: collections.Counter = collections.Counter()
    still = time.monotonic()
    while time.monotonic() < deadline:
        try:
            now = cluster.logged_ids(load.run_id)
        except Exception:  # the database may be back only now
            time.sleep(1)
            continue
        if len(now) != len(logged):
            still = time.monotonic()
        logged = now
        if accepted <= set(logged) or time.monotonic() - still > 20:
            break
        time.sleep(1)
    previous = None
    while True:
        current = cluster.topology()
        alarms = cluster.alarm_list()
        if current is not None and alarms is not None:
            summary = (deploy.topology_summary(current),
                       sorted(a.get('vitrage_id') or '' for a in alarms))
            if previous is not None and summary == previous[0]:
                return logged, current
            previous = (summary, current)
        if time.monotonic() > deadline:
            assert previous is not None, 'no topology after the load'
            return logged, previous[1]
        time.sleep(2)
