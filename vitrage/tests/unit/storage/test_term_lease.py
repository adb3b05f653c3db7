"""One active graph: the term lease (TermStore.acquire) on SQLite."""
import datetime

import sqlalchemy as sa

from vitrage.storage import terms


def _age_heartbeat(database, seconds):
    with database.begin() as connection:
        connection.execute(terms.TERM.update().values(
            heartbeat_at=terms._now() - datetime.timedelta(seconds=seconds)))


def test_first_graph_takes_the_term_and_a_second_waits(database):
    store = terms.TermStore(database)
    first = store.acquire('host-a:1', lease=10)
    assert first == store.current_term() and first >= 1
    assert store.acquire('host-b:2', lease=10) is None
    assert store.holder()[1] == 'host-a:1'


def test_standby_takes_over_once_the_lease_expires(database):
    store = terms.TermStore(database)
    first = store.acquire('host-a:1', lease=10)
    _age_heartbeat(database, 11)
    second = store.acquire('host-b:2', lease=10)
    assert second == first + 1
    # The old holder is fenced: its heartbeat says it lost the term.
    assert store.heartbeat(first, 'host-a:1') is False
    assert store.heartbeat(second, 'host-b:2') is True


def test_heartbeat_keeps_the_lease(database):
    store = terms.TermStore(database)
    term = store.acquire('host-a:1', lease=10)
    _age_heartbeat(database, 11)
    assert store.heartbeat(term, 'host-a:1') is True
    assert store.acquire('host-b:2', lease=10) is None


def test_same_holder_may_take_a_new_term_at_once(database):
    store = terms.TermStore(database)
    first = store.acquire('host-a:1', lease=10)
    assert store.acquire('host-a:1', lease=10) == first + 1


def test_only_one_of_two_racers_wins(database):
    store = terms.TermStore(database)
    won = [store.acquire('h%d:1' % i, lease=10) for i in range(5)]
    assert sum(1 for term in won if term is not None) == 1
    with database.connect() as connection:
        rows = connection.execute(sa.select(terms.TERM)).all()
    assert len(rows) == 1
