"""bench/ingest: build the simulated cloud through the real path.

A ``vitrage-collector`` process (separate, over RabbitMQ by default)
answers the graph's first get_all; this process runs the real
``GraphService`` and times how long the complete graph takes, how fast
the processor applies entity events, and how much memory each vertex
costs, edges included: the graph's own objects (sizes of every dict and
string it holds, each counted once) and the process's RSS growth (which
adds allocator fragmentation left by the decoded messages).

    python bench/ingest.py                      # 1k, 10k, 100k
    python bench/ingest.py --sizes 1000000      # one size per process
    python bench/ingest.py --in-process         # kombu+memory, no broker

Each size runs in a fresh process so memory figures do not mix. Prints
one line per size and exits 0; nothing here asserts a time.
"""
import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import psutil

import child  # bench/child.py, beside this script

DEFAULT_SIZES = (1000, 10000, 100000)
RABBIT = os.environ.get('VITRAGE_TEST_TRANSPORT_URL',
                        'rabbit://guest:guest@127.0.0.1:5672/')


def write_config(path: str, transport: str, sizes, suffix: str) -> None:
    with open(path, 'w') as f:
        f.write(textwrap.dedent('''\
            [DEFAULT]
            transport_url = {transport}
            [datasources]
            types = simulated
            snapshots_interval = 3600
            rpc_timeout = 600
            [persistency]
            # Ingest only: bench/persistor measures the hand-off.
            enable_persistency = false
            [collector]
            topic = bench_collector_{suffix}
            [entity_graph]
            events_topic = bench_events_{suffix}
            topic = bench_graph_{suffix}
            [simulated]
            zones = {s.zones}
            hosts_per_zone = {s.hosts_per_zone}
            instances_per_host = {s.instances_per_host}
            networks = {s.networks}
            volume_ratio = {s.volume_ratio}
            changes_interval = 3600
            ''').format(transport=transport, s=sizes, suffix=suffix))


def graph_bytes(graph) -> int:
    """Bytes the graph's objects take, each object counted once.

    The networkx dicts, vertex and edge property dicts and their keys and
    values. Unlike RSS growth it leaves out allocator fragmentation and
    message buffers.
    """
    g = graph.networkx
    seen = set()
    total = 0

    def add(obj) -> None:
        nonlocal total
        if id(obj) not in seen:
            seen.add(id(obj))
            total += sys.getsizeof(obj)

    for top in (g._node, g._succ, g._pred):
        add(top)
    for vid, props in g._node.items():
        add(vid)
        add(props)
        for k, v in props.items():
            add(k)
            add(v)
    for adj in (g._succ, g._pred):
        for inner in adj.values():
            add(inner)
            for other, keydict in inner.items():
                add(keydict)
                for label, attrs in keydict.items():
                    add(label)
                    add(attrs)
                    for k, v in attrs.items():
                        add(k)
                        add(v)
    return total


def run_one(target: int, in_process: bool) -> dict:
    """Build one cloud; returns the figures (runs in a child process)."""
    from oslo_config import cfg
    import oslo_messaging as messaging

    from vitrage.collector.rpcapi import CollectorClient
    from vitrage.datasources.simulated.cloud import sizes_for_vertices
    from vitrage.graph import service as graph_service
    from vitrage import service

    sizes = sizes_for_vertices(target)
    suffix = uuid.uuid4().hex[:8]
    tmp = tempfile.mkdtemp(prefix='vitrage-bench-')
    conf_file = os.path.join(tmp, 'vitrage.conf')
    transport = 'kombu+memory:////' if in_process else RABBIT
    write_config(conf_file, transport, sizes, suffix)
    conf = service.prepare_service(['--config-file', conf_file],
                                   conf=cfg.CONF,
                                   setup_logging=bool(
                                       os.environ.get('BENCH_DEBUG')))
    collector_proc = None
    collector = None
    if in_process:
        from vitrage.collector.service import Collector
        collector = Collector(conf)
        collector.start()
    else:
        collector_proc = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable),
                          'vitrage-collector'), '--config-file', conf_file],
            stdout=open(os.path.join(tmp, 'collector.log'), 'w'),
            stderr=subprocess.STDOUT)
    pinger = CollectorClient(conf, messaging.get_rpc_transport(conf))
    deadline = time.time() + 60
    while True:     # the collector process is up before the clock starts
        try:
            pinger.ping({}, timeout=2)
            break
        except messaging.MessagingTimeout:
            if time.time() > deadline:
                raise
    proc_time = [0.0]
    original = graph_service.GraphService.apply_events

    def timed(self, events):
        t = time.perf_counter()
        try:
            return original(self, events)
        finally:
            proc_time[0] += time.perf_counter() - t
    graph_service.GraphService.apply_events = timed
    gc.collect()
    rss0 = psutil.Process().memory_info().rss
    graph = graph_service.GraphService(conf)
    t0 = time.perf_counter()
    graph.start()
    if not graph.wait_ready(600):
        raise RuntimeError('graph not ready; see %s' % tmp)
    elapsed = time.perf_counter() - t0
    vertices = graph.graph.num_vertices()
    edges = graph.graph.num_edges()
    events = graph.processor.stats['events']
    gc.collect()
    rss1 = psutil.Process().memory_info().rss
    object_bytes = graph_bytes(graph.graph)
    graph.terminate()
    if collector is not None:
        collector.stop()
    if collector_proc is not None:
        collector_proc.terminate()
        collector_proc.wait(30)
    return {
        'target': target, 'vertices': vertices, 'edges': edges,
        'events': events, 'seconds_to_complete_graph': round(elapsed, 2),
        'end_to_end_events_per_s': round(events / elapsed),
        'processor_events_per_s': round(events / proc_time[0]),
        'peak_rss_mib': round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024),
        'bytes_per_vertex': round(object_bytes / max(vertices, 1)),
        'rss_bytes_per_vertex': round((rss1 - rss0) / max(vertices, 1)),
        'transport': 'kombu+memory' if in_process else 'rabbit',
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=list(DEFAULT_SIZES))
    parser.add_argument('--in-process', action='store_true')
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.in_process)))
        return
    print('machine: %d cores, %.1f GiB, python %s' % (
        os.cpu_count(), psutil.virtual_memory().total / 2 ** 30,
        sys.version.split()[0]))
    for size in args.sizes:
        argv = ['--child', str(size)]
        if args.in_process:
            argv.append('--in-process')
        try:
            r = child.run(__file__, *argv)
        except child.ChildFailed as exc:
            print('size %d failed:\n%s' % (size, exc))
            continue
        print('{target:>8} target: {vertices} vertices, {edges} edges, '
              '{seconds_to_complete_graph} s to complete graph, '
              '{end_to_end_events_per_s} events/s end to end, '
              '{processor_events_per_s} events/s in the processor, '
              'peak RSS {peak_rss_mib} MiB, {bytes_per_vertex} B/vertex '
              'in graph objects, {rss_bytes_per_vertex} B/vertex of RSS '
              'growth ({transport})'.format(**r), flush=True)


if __name__ == '__main__':
    main()
