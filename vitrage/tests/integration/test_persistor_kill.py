"""Acceptance: no event lost or doubled across persistor SIGKILLs.

Real ``vitrage-persistor`` processes, RabbitMQ (durable queues) and
MariaDB. 100,000 events are published in messages of 100 while the
persistor's whole process group is killed with SIGKILL and restarted
twice; the ``events`` table must end with exactly the 100,000 positions.
The same runs with two persistors consuming the queue at once.
"""
import threading

import pytest

from vitrage.tests import helpers
from vitrage.tests.integration import persistor_procs

TOTAL = 100000
PER_MESSAGE = 100
TERM = 1
DRAIN_TIMEOUT = 240


@pytest.fixture
def setup(tmp_path, rabbit_transport_url, mysql_database, conf):
    topic = helpers.unique_name('vitrage_persistor')
    config = persistor_procs.write_config(
        str(tmp_path), rabbit_transport_url, mysql_database, topic,
        batch_size=500, batch_timeout_ms=50)
    persistor_procs.dbsync(config)
    persistor_procs.hold_term(mysql_database, TERM)
    procs: list[persistor_procs.Persistor] = []
    try:
        yield config, topic, mysql_database, procs, tmp_path
    finally:
        for proc in procs:
            proc.stop()
        persistor_procs.delete_queues(rabbit_transport_url, topic)


def _wait_rows(db_url: str, at_least: int) -> None:
    counts = persistor_procs.wait_for_events(db_url, at_least, 120)
    assert counts[0] >= at_least, (
        'the persistor stalled at %d rows before a kill' % counts[0])


def _run(setup, persistors: int) -> None:
    config, topic, db_url, procs, tmp_path = setup
    for i in range(persistors):
        proc = persistor_procs.Persistor(config,
                                         str(tmp_path / ('p%d.log' % i)))
        proc.start()
        procs.append(proc)
    notify = persistor_procs.notifier(config, topic)
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            persistor_procs.publish(notify, TERM, TOTAL, PER_MESSAGE)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        # Two crashes while events flow: at about a fifth and at about
        # half of the events, each time of the first persistor (with two,
        # the other one keeps consuming meanwhile).
        for threshold in (TOTAL // 5, TOTAL // 2):
            _wait_rows(db_url, threshold)
            victim = procs[0] if threshold == TOTAL // 5 else procs[-1]
            victim.kill()
            rows_at_kill = persistor_procs.count_events(db_url)[0]
            assert rows_at_kill < TOTAL, 'killed too late to prove anything'
            victim.start()
    finally:
        publisher.join()
    assert errors == []
    rows, distinct = persistor_procs.wait_for_events(db_url, TOTAL,
                                                     DRAIN_TIMEOUT)
    assert (rows, distinct) == (TOTAL, TOTAL)
    import sqlalchemy as sa
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            lo, hi, terms = connection.execute(sa.text(
                'SELECT MIN(seq), MAX(seq), COUNT(DISTINCT term) '
                'FROM events')).one()
    finally:
        engine.dispose()
    assert (lo, hi, terms) == (0, TOTAL - 1, 1)
    for proc in procs:
        assert proc.alive()


@pytest.mark.slow
def test_one_persistor_killed_twice(setup):
    _run(setup, persistors=1)


@pytest.mark.slow
def test_two_persistors_killed_twice(setup):
    _run(setup, persistors=2)
