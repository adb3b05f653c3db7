"""Webhooks and the service registry on MariaDB (the API's stores)."""
import datetime

import pytest

from vitrage.storage import services
from vitrage.storage import webhooks


def test_webhooks_keep_strings_verbatim_and_creation_order(database):
    store = webhooks.WebhookStore(database)
    regex = "{'name': 'e2e.*', 'vitrage_type': '\u00e9t\u00e9'}"
    added = [store.add('p1', False, 'https://example.test/%d' % i,
                       regex if i == 0 else None, '{"X-Foo": "bar"}')
             for i in range(5)]
    listed = store.list_webhooks('p1')
    assert listed == added
    assert listed[0].regex_filter == regex
    assert listed[1].regex_filter == ''
    assert store.get(added[0].id, 'p2', is_admin=True) == added[0]
    with pytest.raises(webhooks.WebhookNotFound):
        store.delete(added[0].id, 'p2', is_admin=False)
    store.delete(added[0].id, 'p1', is_admin=False)
    assert store.list_webhooks(all_tenants=True) == added[1:]


def test_service_registry_keeps_microseconds(database):
    now = datetime.datetime(2024, 5, 1, 10, 0, 0, 500000)
    clock = [now]
    registry = services.ServiceRegistry(database, 10, lambda: clock[0])
    registry.beat('a', 'GraphWorker_worker_0', 'h', 1, now)
    clock[0] = now + datetime.timedelta(microseconds=600000)
    registry.beat('b', 'ApiWorker_worker_0', 'h', 2, now)
    # Both beats fall in the same second; only their fractions tell
    # that 'a' beat 30.3 s ago (not live) and 'b' 29.7 s ago (live).
    clock[0] = now + datetime.timedelta(seconds=30, microseconds=300000)
    assert [s.name for s in registry.list_live()] == ['ApiWorker_worker_0']
    clock[0] = now + datetime.timedelta(seconds=29, microseconds=900000)
    assert [s.name for s in registry.list_live()] == [
        'ApiWorker_worker_0', 'GraphWorker_worker_0']
