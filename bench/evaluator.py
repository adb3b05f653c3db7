"""bench/evaluator: the scenario evaluator inside the graph service.

For each size, a child process builds the simulated cloud's graph
through ``GraphService.apply_events`` (20 instances per host), stores 50
templates (the 4 samples of etc/vitrage/templates and 46 generated ones
shaped like host_down: an alarm on a host raises a deduced alarm, caused
by it, on each of its instances) and measures:

* first evaluation: ``enable_evaluator`` on the loaded graph (templates
  loaded, the whole graph evaluated, HA contract 4c);
* host down: a doctor ``compute.host.down`` event for one host, from
  ``apply_events`` until it returns, which is when the host's ERROR
  state, its mark-down, the 20 deduced ``instance_down`` alarms, their
  ERROR states and the 20 causal edges are all in the graph (checked),
  p50 and p99 over ``--hosts`` hosts; then the same for the ``up`` event
  that undoes it all;
* non-matching alarms: doctor alarms that no scenario matches (other
  event types on random hosts), in batches of 100: events per second.

The graph is the active one without persistency (no hand-off): the
figures are the graph's own cost, with no broker and no database.

    python bench/evaluator.py [--sizes 1000 10000 100000] [--hosts 100]
"""
import argparse
import json
import os
import random
import statistics
import tempfile
import time

import child  # bench/child.py, beside this script

TEMPLATES = 50
GENERATED = """
metadata: {version: 3, type: standard, name: bench_%(i)d}
entities:
  alarm: {category: ALARM, type: zabbix, name: check_%(i)d}
  host: {category: RESOURCE, type: nova.host}
  instance: {category: RESOURCE, type: nova.instance}
scenarios:
  - condition: alarm [on] host AND host [contains] instance
    actions:
      - raise_alarm:
          target: instance
          alarm_name: check_%(i)d_on_host
          severity: WARNING
          causing_alarm: alarm
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(size: int, hosts: int, noise: int) -> dict:
    from oslo_config import cfg

    from vitrage.collector.manager import CollectorManager
    from vitrage.common.constants import DatasourceAction
    from vitrage.common.constants import Prop
    from vitrage.datasources import loader
    from vitrage.datasources.simulated.cloud import sizes_for_vertices
    from vitrage.graph import service as graph_service
    from vitrage import service

    samples = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           '..', 'etc', 'vitrage', 'templates')
    templates = tempfile.mkdtemp(prefix='vitrage-bench-templates-')
    for name in os.listdir(samples):
        with open(os.path.join(samples, name)) as src, \
                open(os.path.join(templates, name), 'w') as dst:
            dst.write(src.read())
    generated = TEMPLATES - len(os.listdir(templates))
    for i in range(generated):
        with open(os.path.join(templates, 'bench_%d.yaml' % i), 'w') as f:
            f.write(GENERATED % {'i': i})

    conf = service.prepare_service(['--config-file', os.devnull],
                                   conf=cfg.CONF, setup_logging=False)
    conf.set_override('types', ['simulated', 'doctor'], 'datasources')
    conf.set_override('enable_persistency', False, 'persistency')
    conf.set_override('templates_dir', templates, 'evaluator')
    loader.register_datasource_opts(conf)
    for name, value in sizes_for_vertices(size).as_options().items():
        conf.set_override(name, value, 'simulated')
    manager = CollectorManager(conf, 'bench')
    simulated = manager.runner('simulated')
    doctor = manager.runner('doctor')
    events, _sampled = simulated.full(DatasourceAction.INIT_SNAPSHOT)
    decoded = json.loads(json.dumps(list(events)))
    graph = graph_service.GraphService(conf)
    graph.coordinator.start()
    graph_service.tune_gc()
    for i in range(0, len(decoded), 1000):
        graph.apply_events(decoded[i:i + 1000])
    vertices = graph.graph.num_vertices()
    host_names = sorted(v[Prop.ID] for v in graph.graph.vertices()
                        if v.get(Prop.TYPE) == 'nova.host')

    started = time.perf_counter()
    graph.enable_evaluator()
    first = time.perf_counter() - started
    assert len(graph.evaluator.template_names) == TEMPLATES, \
        graph.evaluator.template_names
    graph_service.freeze_graph_memory()

    def doctor_event(hostname: str, status: str,
                     alarm_type: str = 'compute.host.down') -> dict:
        now = time.strftime('%Y-%m-%dT%H:%M:%S.000000', time.gmtime())
        payload = {'type': alarm_type, 'time': now,
                   'details': {'hostname': hostname, 'status': status}}
        enriched = doctor.driver.enrich_event(
            'vitrage.custom.event.' + status, payload)
        stamped = doctor.stamp(iter(enriched), DatasourceAction.UPDATE,
                               payload['time'][:19] + 'Z')
        return json.loads(json.dumps(list(stamped)))

    rng = random.Random(7)
    chosen = rng.sample(host_names, min(hosts, len(host_names)))
    down, up = [], []
    deduced_per_host = None
    for hostname in chosen:
        batch = doctor_event(hostname, 'down')
        actions = graph.stats['actions']
        t0 = time.perf_counter()
        graph.apply_events(batch)
        down.append(time.perf_counter() - t0)
        count = graph.stats['actions'] - actions
        if deduced_per_host is None:
            deduced_per_host = count
        assert count == deduced_per_host and count > 0, (count, hostname)
        batch = doctor_event(hostname, 'up')
        t0 = time.perf_counter()
        graph.apply_events(batch)
        up.append(time.perf_counter() - t0)
    live = [v for v in graph.graph.vertices()
            if v.get(Prop.TYPE) == 'vitrage' and
            not v.get(Prop.IS_DELETED)]
    assert not live, '%d deduced alarms left after the up events' % len(
        live)

    noise_events = []
    for i in range(noise):
        noise_events.extend(doctor_event(
            rng.choice(host_names), 'down', 'compute.disk.slow.%d' % i))
    actions = graph.stats['actions']
    t0 = time.perf_counter()
    for i in range(0, len(noise_events), 100):
        graph.apply_events(noise_events[i:i + 100])
    noise_elapsed = time.perf_counter() - t0
    assert graph.stats['actions'] == actions, 'noise matched a scenario'
    graph.coordinator.stop()
    return {
        'size': size, 'vertices': vertices,
        'templates': TEMPLATES,
        'scenarios': len(graph.evaluator.scenarios),
        'first_evaluation_s': round(first, 3),
        'hosts': len(chosen),
        'actions_per_host_down': deduced_per_host,
        'down_p50_ms': round(statistics.median(down) * 1000, 2),
        'down_p99_ms': round(_percentile(down, 0.99) * 1000, 2),
        'up_p50_ms': round(statistics.median(up) * 1000, 2),
        'up_p99_ms': round(_percentile(up, 0.99) * 1000, 2),
        'non_matching_per_s': round(noise / noise_elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=[1000, 10000, 100000])
    parser.add_argument('--hosts', type=int, default=100,
                        help='host-down events measured per size')
    parser.add_argument('--noise', type=int, default=20000,
                        help='non-matching alarm events per size')
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.hosts, args.noise)))
        return
    print('%8s %8s %6s %9s %12s %10s %10s %10s %10s %12s' % (
        'target', 'vertices', 'scen.', 'first(s)', 'actions/host',
        'down p50', 'down p99', 'up p50', 'up p99', 'non-match/s'))
    for size in args.sizes:
        try:
            r = child.run(__file__, '--child', str(size), '--hosts',
                          str(args.hosts), '--noise', str(args.noise))
        except child.ChildFailed as exc:
            print('size %d failed:\n%s' % (size, exc))
            continue
        print('{size:>8} {vertices:>8} {scenarios:>6} '
              '{first_evaluation_s:>9} {actions_per_host_down:>12} '
              '{down_p50_ms:>8}ms {down_p99_ms:>8}ms {up_p50_ms:>8}ms '
              '{up_p99_ms:>8}ms {non_matching_per_s:>12}'.format(**r),
              flush=True)


if __name__ == '__main__':
    main()
