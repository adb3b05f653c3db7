"""bench/soak: the HA contract under a steady load for half an hour.

The long run of the soak tier (``vitrage/tests/integration/test_soak.py``
is the short one; both use :mod:`vitrage.tests.integration.soak`). Real
processes on a private RabbitMQ (durable queues) and a private MariaDB
started for the run: two ``vitrage-graph`` (hot standby), two
collectors (``simulated,doctor``; a static simulated cloud of about
``--hosts`` hosts with ``--instances`` instances and ports each: 100
hosts make about 2,100 vertices), one persistor, the API and the sample
``host_down`` template. For each ``--rate``, a child process
(``bench/child.py``) runs:

* the load: ``--rate`` doctor events per second through
  ``POST /v1/event`` for ``--minutes``, each host alternating down and
  up, then one last event per host;
* the disruptions, at seeded random moments: kill -9 of the active
  graph's process group every 30 to 60 s (``--graph-every``), restarted
  at once as systemd's ``Restart=always`` does; kill -9 of the persistor
  and of a collector, each restarted; a restart of RabbitMQ and of
  MariaDB; one at a time;
* the checks: events sent, accepted (2xx), refused (by status; apart,
  those refused while RabbitMQ was down), lost (accepted and not in the
  events table), duplicates; the alarm state of every host against the
  last event accepted for it; the final graph against a fresh graph fed
  the same final inputs; the API gap after each graph kill (median,
  max); two active graphs seen or not.

    python bench/soak.py --minutes 30 --rate 25 100 --hosts 100
    python bench/soak.py --minutes 3 --rate 25 --hosts 30 --seed 7

Prints one table per rate and exits 0; nothing here asserts a figure.
Every process, private server and directory it made is removed at the
end (``--keep`` keeps the logs).
"""
import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

import child  # bench/child.py, beside this script

#: What the run does not cover, printed with its figures.
LEFT_OUT = (
    'Left out: the stalled graph (SIGSTOP), the stale snapshot and the '
    'forged term, which have tests of their own '
    '(vitrage/tests/integration/test_ha_cases.py); datasource churn (the '
    'simulated cloud is static, the load is doctor events); Keystone '
    '(the API runs noauth); RabbitMQ and MariaDB are restarted cleanly '
    '(SIGTERM), not killed, and run on this machine with every service.')


def run(minutes: float, rate: float, hosts: int, instances: int,
        seed: int, graph_every: tuple[float, float], keep: bool) -> dict:
    """One soak at one rate (runs in a child process)."""
    from oslo_config import cfg

    from vitrage.tests import deployment as deploy
    from vitrage.tests import helpers
    from vitrage.tests.integration import private_servers
    from vitrage.tests.integration import services
    from vitrage.tests.integration import soak

    work = pathlib.Path(tempfile.mkdtemp(prefix='vitrage-soak-'))
    deployment = deploy.Deployment(work)
    ok = False
    with private_servers.private_rabbit() as rabbit, \
            private_servers.private_mariadb() as mariadb:
        db_url = services.create_database(
            mariadb.url, helpers.unique_name('vitrage_soak'))
        cluster = soak.SoakCluster(deployment, work, rabbit.url, db_url,
                                   hosts=hosts,
                                   instances_per_host=instances)
        try:
            cluster.start(timeout=600)
            result = soak.run_soak(
                cluster, soak.SoakParams(
                    seed=seed, rate=rate, load_seconds=minutes * 60,
                    graph_every=graph_every, settle_timeout=600),
                cfg.CONF, rabbit=rabbit, mariadb=mariadb,
                log=lambda line: print(line, file=sys.stderr, flush=True))
            ok = True
        finally:
            cluster.cleanup()
            if keep or not ok:
                print('logs kept in %s' % work, file=sys.stderr)
            else:
                shutil.rmtree(work, ignore_errors=True)
    figures = result.figures()
    figures['table'] = result.table()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=30,
                        help='minutes of load per rate')
    parser.add_argument('--rate', type=float, nargs='+', default=[25],
                        help='doctor events per second (one run each)')
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--instances', type=int, default=10,
                        help='instances (each with a port) per host')
    parser.add_argument('--seed', type=int, default=None,
                        help='the disruption moments (default: the clock)')
    parser.add_argument('--graph-every', type=float, nargs=2,
                        default=[30, 60], metavar=('MIN', 'MAX'),
                        help='seconds between two kills of the active '
                        'graph')
    parser.add_argument('--keep', action='store_true',
                        help='keep the logs directory')
    parser.add_argument('--child', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minutes <= 0 or args.hosts < 1 or args.instances < 1 or \
            min(args.rate) <= 0:
        parser.error('--minutes and --rate must be > 0, --hosts and '
                     '--instances >= 1')
    seed = args.seed if args.seed is not None else time.time_ns()
    if args.child:
        print(json.dumps(run(args.minutes, args.child, args.hosts,
                             args.instances, seed,
                             tuple(args.graph_every), args.keep)))
        return
    print('machine: %d cores, python %s; %s minutes per rate, seed %d' % (
        os.cpu_count(), sys.version.split()[0], args.minutes, seed),
        flush=True)
    print(LEFT_OUT, flush=True)
    for rate in args.rate:
        argv = ['--child', str(rate), '--minutes', str(args.minutes),
                '--hosts', str(args.hosts), '--instances',
                str(args.instances), '--seed', str(seed), '--graph-every',
                *[str(s) for s in args.graph_every]]
        if args.keep:
            argv.append('--keep')
        try:
            figures = child.run(__file__, *argv)
        except child.ChildFailed as exc:
            print('rate %s failed:\n%s' % (rate, exc), flush=True)
            continue
        print('\n== %s events/s ==\n%s' % (rate, figures['table']),
              flush=True)


if __name__ == '__main__':
    main()
