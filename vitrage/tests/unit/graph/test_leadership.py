"""One active graph: taking the term, the local lease and the watchdog
(vitrage.graph.leadership), on SQLite without a broker.
"""
import subprocess
import sys
import threading
import time

import pytest

from vitrage.graph import leadership
from vitrage.storage import terms


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    return child.pid


@pytest.fixture
def options(conf):
    conf.set_override('host', 'node-1')
    conf.set_override('broker_lock', False, 'entity_graph')
    conf.set_override('lease_time', 60, 'entity_graph')
    conf.set_override('heartbeat_interval', 0.1, 'entity_graph')
    conf.set_override('stall_timeout', 0.5, 'entity_graph')
    return conf


def _leadership(conf, database, lost=None):
    stopping = threading.Event()
    return leadership.Leadership(
        conf, database, stopping,
        (lost.append if lost is not None else lambda term: None))


def test_local_holder_gone():
    dead = _dead_pid()
    assert leadership.local_holder_gone('node-1:%d' % dead, 'node-1')
    # Alive (this process), another host, or not a holder name at all.
    assert not leadership.local_holder_gone(
        leadership.holder_name('node-1'), 'node-1')
    assert not leadership.local_holder_gone('node-2:%d' % dead, 'node-1')
    assert not leadership.local_holder_gone('node-1', 'node-1')
    assert not leadership.local_holder_gone(None, 'node-1')


def test_a_graph_restarted_alone_takes_over_without_the_lease(options,
                                                              database):
    # The previous graph of this host held term 1 with a fresh heartbeat
    # and was killed: a lease of 60 s is not waited out.
    store = terms.TermStore(database)
    store.acquire('node-1:%d' % _dead_pid(), lease=60)
    lead = _leadership(options, database)
    began = time.monotonic()
    calls = []
    term = lead.acquire(lambda: calls.append(1))
    assert term == 2 and store.holder()[1] == lead.holder
    assert time.monotonic() - began < 30
    assert lead.holds()


def test_a_live_holder_of_another_host_is_waited_for(options, database):
    store = terms.TermStore(database)
    store.acquire('node-2:%d' % _dead_pid(), lease=60)
    lead = _leadership(options, database)
    waits = []

    def while_waiting():
        waits.append(1)
        if len(waits) == 3:
            lead._stopping.set()

    assert lead.acquire(while_waiting) is None
    assert store.current_term() == 1 and len(waits) == 3


def test_holds_only_while_the_lease_runs_by_its_own_clock(options,
                                                          database):
    lead = _leadership(options, database)
    lead.acquire(lambda: None)
    assert lead.holds()
    # It slept (a stall, SIGSTOP) past its lease: it must not handle or
    # hand off anything more, whatever the database says yet.
    lead.renewed_at -= options.entity_graph.lease_time + 1
    assert not lead.holds()


def test_the_watchdog_gives_the_term_up_when_processing_is_stuck(
        options, database):
    lost = []
    lead = _leadership(options, database, lost)
    term = lead.acquire(lambda: None)
    busy = {'for': 0.0}
    beat = threading.Thread(target=lead.heartbeat_loop,
                            args=(lambda: busy['for'],))
    beat.start()
    try:
        time.sleep(0.3)
        assert not lost, 'an idle graph gave its term up'
        busy['for'] = 5.0   # stuck in one piece of work for 5 s
        beat.join(10)
        assert not beat.is_alive()
        assert lost == [term] and lead.lost.is_set()
        assert not lead.holds()
    finally:
        lead._stopping.set()
        beat.join(10)


def test_a_graph_whose_term_was_taken_loses_it(options, database):
    lost = []
    lead = _leadership(options, database, lost)
    term = lead.acquire(lambda: None)
    beat = threading.Thread(target=lead.heartbeat_loop,
                            args=(lambda: 0.0,))
    beat.start()
    try:
        terms.TermStore(database).begin_term('node-2:1')
        beat.join(10)
        assert lost == [term]
    finally:
        lead._stopping.set()
        beat.join(10)


def _stalled_worker(watchdog):
    watchdog.beat()
    # Stalled: no more beats (the interpreter is held, or stopped).
    time.sleep(60)


def test_the_master_kills_a_worker_whose_beats_stopped():
    import multiprocessing
    watchdog = leadership.StallWatchdog(timeout=0.5)
    # Fresh beats, or a standby that rests: nothing to do.
    watchdog.beat()
    assert watchdog.check() is None
    watchdog.rest()
    time.sleep(0.6)
    assert watchdog.check() is None
    worker = multiprocessing.get_context('fork').Process(
        target=_stalled_worker, args=(watchdog,))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        killed = None
        while killed is None and time.monotonic() < deadline:
            time.sleep(0.2)
            killed = watchdog.check()
        assert killed == worker.pid
        worker.join(10)
        assert worker.exitcode == -9
        # Once killed, it is not killed again.
        assert watchdog.check() is None
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join()
