"""bench/snapshot: take, store, read and restore graph snapshots.

For each size, the simulated cloud is built through the real processor
in a fresh process, which then times:

* ``dump``: :func:`vitrage.graph.snapshot.dump` of the whole graph, and
  for comparison the pickled ``MultiDiGraph`` and other zlib levels;
* the lock hold time of :func:`vitrage.graph.snapshot.capture` (``fork``
  and ``copy``) against pickling or ``graph.copy()`` under the lock, and
  the longest pause a ticking thread sees meanwhile (the GIL: what event
  processing would feel);
* ``save`` into a new MariaDB database (:class:`SnapshotStore`, 4 MiB
  chunks).

A second fresh process reads the snapshot back and loads it, and
reports the RSS per vertex of the restored graph next to that of the
built one.

    python bench/snapshot.py                   # 10k and 100k vertices
    python bench/snapshot.py --sizes 1000000
    python bench/snapshot.py --no-compare      # skip the alternatives

Prints one block per size; nothing here asserts a time.
"""
import argparse
import gc
import json
import os
import pickle
import sys
import threading
import time
import uuid
import zlib

import psutil

from vitrage.tests.integration import services

import child  # bench/child.py, beside this script

DEFAULT_SIZES = (10000, 100000)


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def longest_pause(fn) -> tuple[object, float]:
    """Run ``fn`` while a thread ticks every millisecond; returns its
    result and the longest gap between two ticks (seconds).
    """
    stop = threading.Event()
    worst = [0.0]

    def tick():
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            worst[0] = max(worst[0], now - last)
            last = now
    thread = threading.Thread(target=tick)
    thread.start()
    time.sleep(0.05)
    try:
        result = fn()
    finally:
        stop.set()
        thread.join()
    return result, worst[0]


def write_side(target: int, db_url: str, compare: bool) -> dict:
    from vitrage.graph import snapshot
    from vitrage.storage import connection
    from vitrage.storage import migrations
    from vitrage.storage import snapshots
    from vitrage.tests import simulated_graph

    r = {'target': target}
    rss0 = rss()
    graph, r['build_s'] = timed(lambda: simulated_graph.build(target))
    r['vertices'] = graph.num_vertices()
    r['edges'] = graph.num_edges()
    r['built_bytes_per_vertex'] = round((rss() - rss0) / r['vertices'])

    data, r['dump_s'] = timed(lambda: snapshot.dump(graph))
    r['size'] = len(data)
    raw = snapshot.dump(graph, snapshot.COMPRESSION_NONE)
    r['raw_size'] = len(raw)
    if compare:
        g = graph.networkx
        nx_raw, r['nx_pickle_s'] = timed(
            lambda: pickle.dumps(g, protocol=5))
        nx_z, r['nx_zlib1_s'] = timed(lambda: zlib.compress(nx_raw, 1))
        r['nx_raw_size'] = len(nx_raw)
        r['nx_zlib1_size'] = len(nx_z)
        _, r['nx_unpickle_s'] = timed(lambda: pickle.loads(nx_raw))
        body = raw[snapshot.HEADER.size:]
        for level in (1, 6):
            z, r['zlib%d_s' % level] = timed(
                lambda: zlib.compress(body, level))
            r['zlib%d_size' % level] = len(z)
        del nx_raw, nx_z

    lock = threading.RLock()
    for method in ('fork', 'copy'):
        timings = {}
        _, pause = longest_pause(
            lambda: snapshot.capture(graph, lock, method, timings))
        r['%s_lock_s' % method] = timings['lock_seconds']
        r['%s_total_s' % method] = timings['total_seconds']
        r['%s_pause_s' % method] = pause
    _, r['pickle_under_lock_s'] = timed(
        lambda: pickle.dumps(graph.networkx, protocol=5))
    _, r['pickle_pause_s'] = longest_pause(
        lambda: pickle.dumps(graph.networkx, protocol=5))
    _, r['nx_copy_under_lock_s'] = timed(graph.copy)

    db = connection.Database(db_url)
    migrations.upgrade(db.engine)
    store = snapshots.SnapshotStore(db)
    r['snapshot_id'], r['save_s'] = timed(
        lambda: store.save(1, r['vertices'], data))
    r['chunks'] = store.latest().chunks
    db.dispose()
    return r


def read_side(db_url: str, snapshot_id: str) -> dict:
    from vitrage.graph import snapshot
    from vitrage.storage import connection
    from vitrage.storage import snapshots

    db = connection.Database(db_url)
    store = snapshots.SnapshotStore(db)
    store.latest()      # connect before measuring
    rss0 = rss()
    data, read_s = timed(lambda: store.read(snapshot_id))
    graph, load_s = timed(lambda: snapshot.load(data))
    data = None
    vertices = graph.num_vertices()
    r = {'read_s': read_s, 'load_s': load_s, 'loaded_vertices': vertices,
         'loaded_bytes_per_vertex': round((rss() - rss0) / vertices)}
    db.dispose()
    return r


def child_side(args) -> None:
    if args.child == 'write':
        print(json.dumps(write_side(args.size, args.db_url, args.compare)))
    else:
        print(json.dumps(read_side(args.db_url, args.snapshot_id)))


def run_child(*argv: str) -> dict:
    return child.run(__file__, *argv)


def report(r: dict, compare: bool) -> None:
    mib = 1 << 20
    print('%(vertices)d vertices, %(edges)d edges (built in %(build_s).1f '
          's, %(built_bytes_per_vertex)d B/vertex)' % r)
    print('  dump (builtins + zlib 1)   %.3f s   %.2f MiB (raw %.2f MiB)'
          % (r['dump_s'], r['size'] / mib, r['raw_size'] / mib))
    if compare:
        print('  pickled MultiDiGraph       %.3f s + zlib1 %.3f s   %.2f '
              'MiB (raw %.2f MiB), unpickle alone %.3f s'
              % (r['nx_pickle_s'], r['nx_zlib1_s'],
                 r['nx_zlib1_size'] / mib, r['nx_raw_size'] / mib,
                 r['nx_unpickle_s']))
        print('  zlib level 1 / 6 of body   %.3f s %.2f MiB / %.3f s %.2f MiB'
              % (r['zlib1_s'], r['zlib1_size'] / mib, r['zlib6_s'],
                 r['zlib6_size'] / mib))
    print('  lock held: capture fork %.4f s (total %.3f s, longest pause '
          '%.3f s)' % (r['fork_lock_s'], r['fork_total_s'],
                       r['fork_pause_s']))
    print('             capture copy %.3f s (total %.3f s, longest pause '
          '%.3f s)' % (r['copy_lock_s'], r['copy_total_s'],
                       r['copy_pause_s']))
    print('             pickle.dumps(nx) under lock %.3f s (pause %.3f s),'
          ' graph.copy() under lock %.3f s'
          % (r['pickle_under_lock_s'], r['pickle_pause_s'],
             r['nx_copy_under_lock_s']))
    print('  save to MariaDB %.3f s (%d chunks); read %.3f s + load %.3f s; '
          'restored %d B/vertex' % (r['save_s'], r['chunks'], r['read_s'],
                                    r['load_s'],
                                    r['loaded_bytes_per_vertex']),
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='*',
                        default=list(DEFAULT_SIZES))
    parser.add_argument('--db-url',
                        default='mysql+pymysql://root@127.0.0.1:3306')
    parser.add_argument('--no-compare', dest='compare',
                        action='store_false')
    parser.add_argument('--child', choices=('write', 'read'),
                        help=argparse.SUPPRESS)
    parser.add_argument('--size', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--snapshot-id', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_side(args)
        return
    print('machine: %d cores, %.1f GiB, python %s' % (
        os.cpu_count(), psutil.virtual_memory().total / 2 ** 30,
        sys.version.split()[0]))
    name = 'vitrage_bench_snap_%s' % uuid.uuid4().hex[:10]
    db_url = services.create_database(args.db_url, name)
    try:
        for size in args.sizes:
            argv = ['--child', 'write', '--size', str(size),
                    '--db-url', db_url]
            if not args.compare:
                argv.append('--no-compare')
            try:
                r = run_child(*argv)
                r.update(run_child('--child', 'read', '--db-url', db_url,
                                   '--snapshot-id', r['snapshot_id']))
            except RuntimeError as exc:
                print('size %d failed:\n%s' % (size, exc))
                continue
            report(r, args.compare)
    finally:
        services.drop_database(args.db_url, name)


if __name__ == '__main__':
    main()
