"""The service registry and ``GET /v1/service`` (rest-api-v1.md 4.23)."""
import datetime
import json
import os

import pytest

from vitrage.api import app as api_app
from vitrage.storage import connection
from vitrage.storage import services
from vitrage.tests.unit.api.test_app import FakeGraphClient

T0 = datetime.datetime(2024, 5, 1, 10, 0, 0, 123456)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def registry(database, clock):
    return services.ServiceRegistry(database, interval=10, clock=clock)


def _names(registry):
    return [s.name for s in registry.list_live()]


def test_service_name():
    assert services.service_name('GraphWorker', 0) == 'GraphWorker_worker_0'
    assert services.service_name('My_Role', 3) == 'MyRole_worker_3'


def test_live_rows_sorted_by_name_and_refreshed(registry, clock):
    registry.beat('b', 'PersistorService_worker_1', 'h1', 12, T0)
    registry.beat('a', 'ApiWorker_worker_0', 'h2', 11, T0)
    assert _names(registry) == ['ApiWorker_worker_0',
                                'PersistorService_worker_1']
    clock.advance(25)
    registry.beat('b', 'PersistorService_worker_1', 'h1', 12, T0)
    # 'a' beat 25 s ago: still within 3 intervals; at 31 s it is not.
    assert len(registry.list_live()) == 2
    clock.advance(6)
    assert _names(registry) == ['PersistorService_worker_1']
    entry = registry.list_live()[0].to_api_dict()
    assert entry == {'name': 'PersistorService_worker_1', 'hostname': 'h1',
                     'process': 12, 'created': '2024-05-01T10:00:00+00:00'}


def test_long_silent_rows_are_purged_and_removed_on_stop(registry, clock,
                                                         database):
    registry.beat('old', 'GraphWorker_worker_0', 'h', 1, T0)
    clock.advance(101)
    registry.beat('new', 'GraphWorker_worker_0', 'h', 2, clock.now)
    with database.connect() as conn:
        rows = conn.execute(services.SERVICES.select()).all()
    assert [r.id for r in rows] == ['new']
    registry.remove('new')
    assert registry.list_live() == []


def test_registration_beats_and_unregisters(conf, db_url, clock):
    conf.set_override('connection', db_url, 'database')
    conf.set_override('host', 'node-1')
    registration = services.register(conf, 'GraphWorker', 2)
    try:
        reader = services.registry_from_conf(conf)
        live = reader.list_live()
        assert [(s.name, s.hostname, s.process) for s in live] == [
            ('GraphWorker_worker_2', 'node-1', os.getpid())]
    finally:
        registration.stop()
    assert reader.list_live() == []
    reader.database.dispose()


def test_registration_survives_an_unusable_database(tmp_path, clock,
                                                    caplog):
    bare = connection.Database('sqlite:///%s' % (tmp_path / 'bare.sqlite'))
    registry = services.ServiceRegistry(bare, 10, clock)
    registration = services.Registration(registry, 'X_worker_0', 'h')
    assert registration.beat_once() is False
    assert registration.beat_once() is False
    warnings = [r for r in caplog.records if 'could not beat' in r.message]
    assert len(warnings) == 1
    bare.dispose()


def test_no_database_means_no_registration(conf):
    conf.set_override('connection', '', 'database')
    assert services.register(conf, 'ApiWorker') is None


def test_register_workers_hooks_the_worker_processes(conf, db_url):
    conf.set_override('connection', db_url, 'database')

    class Manager:
        hooks: list = []

        def register_hooks(self, on_new_worker=None):
            self.hooks.append(on_new_worker)

    class CollectorService:
        pass

    manager = Manager()
    services.register_workers(manager, conf)
    [hook] = manager.hooks
    hook('service-id', 3, CollectorService())
    reader = services.registry_from_conf(conf)
    try:
        assert [s.name for s in reader.list_live()] == [
            'CollectorService_worker_3']
    finally:
        with reader.database.begin() as conn:
            conn.execute(services.SERVICES.delete())
        reader.database.dispose()


# -- API -----------------------------------------------------------------

def test_api_lists_live_services(db_http, db_url):
    db = connection.Database(db_url)
    now = services._now()
    registry = services.ServiceRegistry(db, 10, lambda: now)
    registry.beat('1', 'VitrageNotifierService_worker_0', 'h', 30, now)
    registry.beat('2', 'ApiWorker_worker_0', 'h', 31, now)
    registry.beat('3', 'EvaluatorWorker_worker_0', 'h', 32,
                  now - datetime.timedelta(hours=1))
    db.dispose()
    response = db_http.get('/v1/service/')
    assert response.status_code == 200
    listed = json.loads(response.data)
    assert [s['name'] for s in listed] == [
        'ApiWorker_worker_0', 'EvaluatorWorker_worker_0',
        'VitrageNotifierService_worker_0']
    assert [s['process'] for s in listed] == [31, 32, 30]


def _error(http):
    response = http.get('/v1/service')
    assert response.status_code == 500
    return json.loads(response.data)['description']


def test_api_without_database_is_not_supported(conf):
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('connection', '', 'database')
    http = api_app.build_app(conf, FakeGraphClient()).test_client()
    assert _error(http) == 'Service API not supported'


def test_api_with_unusable_database_cannot_connect(conf, tmp_path):
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('max_retries', 0, 'database')
    conf.set_override('connection', 'sqlite:///%s' % (
        tmp_path / 'no-such-dir' / 'x.sqlite'), 'database')
    http = api_app.build_app(conf, FakeGraphClient()).test_client()
    assert _error(http) == 'Failed to connect to coordination backend'
    conf.set_override('connection', 'sqlite:///%s' % (
        tmp_path / 'unmigrated.sqlite'), 'database')
    http = api_app.build_app(conf, FakeGraphClient()).test_client()
    assert _error(http) == 'Failed to connect to coordination backend'
