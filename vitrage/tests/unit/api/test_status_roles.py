"""``GET /v1/status`` names the active graph and its standbys."""
import datetime

from vitrage.storage import services
from vitrage.storage import terms
from vitrage.tests.unit.api.test_app import body


def register(database, name, hostname, pid):
    services.ServiceRegistry(database).beat(
        name + str(pid), name, hostname, pid,
        datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None))


def test_status_lists_the_active_graph_and_standbys(db_app, db_http):
    database = db_app.extensions['vitrage'].database
    register(database, 'GraphWorker_worker_0', 'node-a', 101)
    register(database, 'GraphWorker_worker_0', 'node-b', 202)
    register(database, 'ApiWorker_worker_0', 'node-a', 303)
    assert terms.TermStore(database).acquire('node-b:202', 10) == 1
    answer = body(db_http.get('/v1/status/'))
    assert answer['reason'] == 'OK'
    assert answer['term'] == 1
    assert sorted((g['hostname'], g['role']) for g in answer['graphs']) == [
        ('node-a', 'standby'), ('node-b', 'active')]


def test_status_without_a_reachable_database_still_answers(conf, tmp_path):
    from vitrage.api import app as api_app
    from vitrage.tests.unit.api.test_app import FakeGraphClient
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('connection', 'sqlite:///%s/missing/x.db' % tmp_path,
                      'database')
    http = api_app.build_app(conf, FakeGraphClient()).test_client()
    assert body(http.get('/v1/status')) == {'reason': 'OK'}
