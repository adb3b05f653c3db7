"""A database failure answers 404 with the endpoint's "Failed to ..."
text (rest-api-v1.md 1.4), on every endpoint that reads the database."""
import pytest

from vitrage.api import app as api_app
from vitrage.tests.unit.api.test_app import body
from vitrage.tests.unit.api.test_app import FakeGraphClient


@pytest.fixture
def broken(conf, tmp_path):
    conf.set_override('auth_mode', 'noauth', 'api')
    # A database without the schema: every query fails.
    conf.set_override('connection', 'sqlite:///%s' % (tmp_path / 'e.db'),
                      'database')
    return api_app.build_app(conf, FakeGraphClient()).test_client()


@pytest.mark.parametrize('method,path,description', [
    ('GET', '/v1/template/', 'Failed to get templates.'),
    ('GET', '/v1/webhook/', 'Failed to get webhooks.'),
    ('GET', '/v1/webhook/w1', 'Failed to get webhook.'),
    ('DELETE', '/v1/webhook/w1', 'Failed to delete webhook.'),
    ('GET', '/v1/alarm/', 'Failed to get alarms'),
    ('GET', '/v1/alarm/count/', 'Failed to get alarm count.'),
    ('GET', '/v1/alarm/history/?start=2024-01-01T00:00:00',
     'Failed to get alarm history'),
    ('GET', '/v1/rca/?alarm_id=a1', 'Failed to get RCA'),
])
def test_database_failure_is_404_with_the_endpoint_text(
        broken, method, path, description):
    response = broken.open(path, method=method)
    assert response.status_code == 404
    assert body(response)['description'] == description


def test_bad_storage_arguments_are_400(broken):
    response = broken.get('/v1/alarm/?sort_dirs=up')
    assert response.status_code == 400
