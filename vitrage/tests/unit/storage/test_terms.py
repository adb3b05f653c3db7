"""The graph term: atomic increments, heartbeats, fencing reads."""
import threading

import sqlalchemy as sa

from vitrage.storage import connection
from vitrage.storage import terms


def test_terms_increase_from_one(database):
    store = terms.TermStore(database)
    assert store.current_term() == 0
    assert store.begin_term('graph-a') == 1
    assert store.begin_term('graph-b') == 2
    assert store.current_term() == 2
    term, holder, heartbeat = store.holder()
    assert (term, holder) == (2, 'graph-b') and heartbeat is not None


def test_missing_row_is_created(database):
    with database.begin() as c:
        c.execute(sa.text('DELETE FROM graph_term'))
    store = terms.TermStore(database)
    assert store.current_term() == 0
    assert store.begin_term('graph-a') == 1


def test_heartbeat_only_for_the_holder_of_the_current_term(database):
    store = terms.TermStore(database)
    first = store.begin_term('graph-a')
    assert store.heartbeat(first, 'graph-a')
    assert not store.heartbeat(first, 'graph-b')
    second = store.begin_term('graph-b')
    assert not store.heartbeat(first, 'graph-a')
    assert store.heartbeat(second, 'graph-b')


def test_concurrent_begins_get_distinct_terms(tmp_path, database):
    url = database.url
    got = []
    lock = threading.Lock()

    def worker(name):
        db = connection.Database(url)
        store = terms.TermStore(db)
        for _ in range(10):
            term = store.begin_term(name)
            with lock:
                got.append(term)
        db.dispose()

    threads = [threading.Thread(target=worker, args=('g%d' % i,))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 41))
    assert terms.TermStore(database).current_term() == 40


def test_take_over_only_from_the_holder_seen_and_only_once(database):
    store = terms.TermStore(database)
    first = store.begin_term('a:1')
    # Another standby saw the same dead holder: one of them wins.
    assert store.take_over('b:2', first, 'a:1') == first + 1
    assert store.take_over('c:3', first, 'a:1') is None
    assert store.holder()[:2] == (first + 1, 'b:2')
    # A stale view (wrong holder for the term) changes nothing.
    assert store.take_over('c:3', first + 1, 'a:1') is None
    assert store.holder()[:2] == (first + 1, 'b:2')
