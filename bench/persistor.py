"""Benchmark: sustained ingest rate of vitrage-persistor into MariaDB.

Starts a real ``vitrage-persistor`` (subprocess) on a new MariaDB database
and a new RabbitMQ exchange, publishes N events in messages of M events as
vitrage-graph does, and prints:

* the sustained rate: events committed per second, from the first
  committed row to the last;
* the publisher's cost per event: p50 / p99 of the time to publish one
  message divided by the events it carries.

Usage::

    python bench/persistor.py [--events 200000] [--per-message 100]
        [--batch-size 1000] [--batch-timeout-ms 100]
        [--transport-url rabbit://guest:guest@127.0.0.1:5672/]
        [--db-url mysql+pymysql://root@127.0.0.1:3306]

Not a test: it asserts nothing and is not run by CI.
"""
import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid

from vitrage.tests.integration import persistor_procs
from vitrage.tests.integration import services


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--events', type=int, default=200000)
    parser.add_argument('--per-message', type=int, default=100)
    parser.add_argument('--batch-size', type=int, default=1000)
    parser.add_argument('--batch-timeout-ms', type=int, default=100)
    parser.add_argument('--workers', type=int, default=1,
                        help='persistor worker processes')
    parser.add_argument('--mode', choices=('backlog', 'concurrent'),
                        default='backlog',
                        help='backlog: publish everything, then start the '
                             'persistor (its rate alone); concurrent: '
                             'publish while it runs (publisher and '
                             'persistor share the 2 cores)')
    parser.add_argument('--transport-url',
                        default='rabbit://guest:guest@127.0.0.1:5672/')
    parser.add_argument('--db-url',
                        default='mysql+pymysql://root@127.0.0.1:3306')
    args = parser.parse_args()

    name = 'vitrage_bench_%s' % uuid.uuid4().hex[:10]
    db_url = services.create_database(args.db_url, name)
    folder = tempfile.mkdtemp(prefix='vitrage-bench-')
    config = persistor_procs.write_config(
        folder, args.transport_url, db_url, name,
        batch_size=args.batch_size, batch_timeout_ms=args.batch_timeout_ms,
        workers=args.workers)
    persistor = persistor_procs.Persistor(
        config, os.path.join(folder, 'persistor.log'))
    try:
        persistor_procs.dbsync(config)
        # The persistor writes only the current term: as a graph would,
        # take term 1 first.
        persistor_procs.hold_term(db_url, 1)
        notify = persistor_procs.notifier(config, name)
        # One warm-up event after the measured ones (seq args.events).
        if args.mode == 'concurrent':
            persistor.start()
            # Warm up: the consumer is up once one event is committed.
            persistor_procs.publish(notify, 1, 1, 1, start=args.events)
            persistor_procs.wait_for_events(db_url, 1, 60)
        else:
            persistor_procs.publish(notify, 1, 1, 1, start=args.events)

        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                samples.append((time.monotonic(),
                                persistor_procs.count_events(db_url)[0] - 1))
                time.sleep(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        if args.mode == 'concurrent':
            watcher.start()
        began = time.monotonic()
        costs = persistor_procs.publish(notify, 1, args.events,
                                        args.per_message)
        published = time.monotonic() - began
        if args.mode == 'backlog':
            persistor.start()
            watcher.start()
        count = persistor_procs.wait_for_events(db_url, args.events + 1,
                                                600)[0] - 1
        done.set()
        watcher.join()
        samples.append((time.monotonic(), count))
        first = next(t for t, n in samples if n > 0)
        last = next(t for t, n in samples if n >= count)
        per_event = [c / args.per_message * 1e6 for c in costs]
        print('events committed: %d of %d' % (count, args.events))
        print('publish: %.0f events/s (%d messages of %d events)'
              % (args.events / published, len(costs), args.per_message))
        print('persistor sustained (%s, %d worker(s)): %.0f events/s '
              '(batch_size %d, batch_timeout_ms %d)'
              % (args.mode, args.workers, count / max(last - first, 1e-9),
                 args.batch_size, args.batch_timeout_ms))
        print('publisher cost per event: p50 %.1f us, p99 %.1f us, '
              'mean %.1f us'
              % (_percentile(per_event, 0.5), _percentile(per_event, 0.99),
                 statistics.mean(per_event)))
    finally:
        persistor.stop()
        persistor_procs.delete_queues(args.transport_url, name)
        services.drop_database(args.db_url, name)


if __name__ == '__main__':
    main()
