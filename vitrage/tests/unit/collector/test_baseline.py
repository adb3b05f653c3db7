"""The collector's baseline (the synchronizer seed)."""
from vitrage.collector.baseline import Baseline


def key(e):
    return e['id']


def deleted(e):
    return dict(e, vitrage_event_type='delete_entity')


def test_reseed_reports_everything_and_issues_a_token():
    b = Baseline('c1')
    events = [{'id': 1, 's': 'a'}, {'id': 2, 's': 'b'}]
    assert list(b.reseed(events, key)) == events
    assert len(b) == 2 and b.token.startswith('c1:')


def test_changes_only_and_deletions():
    b = Baseline('c1')
    list(b.reseed([{'id': 1, 's': 'a'}, {'id': 2, 's': 'b'},
                   {'id': 3, 's': 'c'}], key))
    first = b.token
    out = list(b.changes([{'id': 1, 's': 'a'}, {'id': 2, 's': 'B'},
                          {'id': 4, 's': 'd'}], key, deleted))
    assert out == [{'id': 2, 's': 'B'}, {'id': 4, 's': 'd'},
                   {'id': 3, 's': 'c', 'vitrage_event_type': 'delete_entity'}]
    assert b.token != first
    assert list(b.changes([{'id': 1, 's': 'a'}, {'id': 2, 's': 'B'},
                           {'id': 4, 's': 'd'}], key, deleted)) == []


def test_envelope_and_sample_date_do_not_count_as_change():
    b = Baseline()
    list(b.reseed([{'id': 1, 'vitrage_sample_date': 't1',
                    'vitrage_datasource_action': 'snapshot'}], key))
    assert list(b.changes([{'id': 1, 'vitrage_sample_date': 't2',
                            'vitrage_datasource_action': 'update'}],
                          key, deleted)) == []
