"""bench/processor: the processor alone, on pre-decoded entity events.

Generates the simulated cloud's get_all events for each size, decodes
them from JSON as the graph would receive them, and times
``GraphService.apply_events`` in batches of 1,000 (transform, graph
changes, state normalisation), with no broker and no other thread
competing for the interpreter. ``bench/ingest.py`` gives the figures of
the whole path.

    python bench/processor.py [--sizes 10000 100000]
"""
import argparse
import json
import os
import time

import child  # bench/child.py, beside this script


def run(size: int) -> dict:
    from oslo_config import cfg

    from vitrage.collector.manager import CollectorManager
    from vitrage.common.constants import DatasourceAction
    from vitrage.datasources import loader
    from vitrage.datasources.simulated.cloud import sizes_for_vertices
    from vitrage.graph import service as graph_service
    from vitrage import service

    conf = service.prepare_service(['--config-file', os.devnull],
                                   conf=cfg.CONF, setup_logging=False)
    conf.set_override('types', ['simulated'], 'datasources')
    conf.set_override('enable_persistency', False, 'persistency')
    loader.register_datasource_opts(conf)
    for name, value in sizes_for_vertices(size).as_options().items():
        conf.set_override(name, value, 'simulated')
    runner = CollectorManager(conf, 'bench').runner('simulated')
    events, _sampled = runner.full(DatasourceAction.INIT_SNAPSHOT)
    decoded = json.loads(json.dumps(list(events)))
    graph = graph_service.GraphService(conf)
    graph_service.tune_gc()
    started = time.perf_counter()
    for i in range(0, len(decoded), 1000):
        graph.apply_events(decoded[i:i + 1000])
    elapsed = time.perf_counter() - started
    return {'size': size, 'events': len(decoded),
            'vertices': graph.graph.num_vertices(),
            'events_per_s': round(len(decoded) / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=[10000, 100000])
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child)))
        return
    for size in args.sizes:
        try:
            r = child.run(__file__, '--child', str(size))
        except child.ChildFailed as exc:
            print('size %d failed:\n%s' % (size, exc))
            continue
        print('{size:>8} target: {events} events, {vertices} vertices, '
              '{events_per_s} events/s through the processor alone'.format(
                  **r), flush=True)


if __name__ == '__main__':
    main()
