"""The stock ``vitrage`` CLI against a running vitrage-api: webhooks,
service list, status, healthcheck, and the tenant-isolation matrix of
topology, resources and webhooks.

The API runs on a free port over real RPC (in-memory transport) to a
graph endpoint serving the hand-built sample graph, with a migrated
SQLite database for webhooks and the service registry.
"""
from collections.abc import Iterator
import os

import pytest

from vitrage.storage import services
from vitrage.tests.functional.test_api_rpc import run_stack
from vitrage.tests.functional.test_api_rpc import Stack
from vitrage.tests import helpers

P1_ONLY = {'inst1', 'inst3'}
P2_ONLY = {'inst2'}


@pytest.fixture
def stack(conf, unique_topic, tmp_path) -> Iterator[Stack]:
    conf.set_override('connection',
                      helpers.sqlite_database(tmp_path / 'cli.sqlite'),
                      'database')
    conf.set_override('host', 'cli-node')
    registration = services.register(conf, 'ApiWorker')
    try:
        yield from run_stack(conf, unique_topic)
    finally:
        registration.stop()


def test_webhook_commands(stack):
    added = stack.cli_json('webhook', 'add', '--url',
                           'https://example.test/hook', '--regex_filter',
                           '{"name": "e2e.*"}', '--headers',
                           '{"X-Foo": "bar"}', '-f', 'json',
                           roles='member', project='p1')
    assert added['url'] == 'https://example.test/hook'
    assert added['regex_filter'] == '{"name": "e2e.*"}'
    assert added['headers'] == '{"X-Foo": "bar"}'
    assert added['project_id'] == 'p1'
    hook_id = added['id']

    listed = stack.cli_json('webhook', 'list', '-f', 'json',
                            roles='member', project='p1')
    assert [w['ID'] for w in listed] == [hook_id]
    assert listed[0]['Filter'] == '{"name": "e2e.*"}'
    assert listed[0]['Project ID'] == 'p1'

    shown = stack.cli_json('webhook', 'show', hook_id, '-f', 'json',
                           roles='member', project='p1')
    assert shown['id'] == hook_id
    assert shown['regex_filter'] == '{"name": "e2e.*"}'

    bad = stack.cli('webhook', 'add', '--url', 'not-a-url', check=False)
    assert bad.returncode != 0
    assert 'Failed to add webhooks.' in bad.stderr
    assert '(HTTP 400)' in bad.stderr

    deleted = stack.cli('webhook', 'delete', hook_id, roles='member',
                        project='p1')
    assert 'Webhook %s deleted' % hook_id in deleted.stdout
    gone = stack.cli('webhook', 'show', hook_id, check=False)
    assert 'Failed to get webhook. (HTTP 404)' in gone.stderr
    again = stack.cli('webhook', 'delete', 'non existent', check=False)
    assert 'Failed to delete webhook. (HTTP 404)' in again.stderr


def test_service_list_status_and_healthcheck(stack):
    listed = stack.cli_json('service', 'list', '-f', 'json')
    assert len(listed) == 1
    [entry] = listed
    assert entry['Name'] == 'ApiWorker_worker_0'
    assert entry['Hostname'] == 'cli-node'
    assert entry['Process Id'] == os.getpid()
    assert entry['Created At'].endswith('+00:00')

    status = stack.cli('status')
    assert 'OK' in status.stdout

    health = stack.cli('healthcheck')
    assert health.returncode == 0
    assert 'OK' in health.stdout


def _topology_ids(stack, **kwargs) -> set[str]:
    topology = stack.cli_json('topology', 'show', **kwargs)
    return {n['vitrage_id'] for n in topology['nodes']}


def _resource_ids(stack, *args, **kwargs) -> set[str]:
    return {r['ID'] for r in stack.cli_json('resource', 'list', '-f',
                                            'json', *args, **kwargs)}


@pytest.mark.parametrize('mine, theirs, own, other', [
    ('p1', 'p2', P1_ONLY, P2_ONLY),
    ('p2', 'p1', P2_ONLY, P1_ONLY),
])
def test_tenant_isolation_of_topology_and_resources(stack, mine, theirs,
                                                    own, other):
    member = {'roles': 'member', 'project': mine}
    topology = _topology_ids(stack, **member)
    assert own <= topology and not topology & other
    resources = _resource_ids(stack, **member)
    assert own <= resources and not resources & other
    for vitrage_id in other:
        missing = stack.cli('resource', 'show', vitrage_id, check=False,
                            **member)
        assert 'Failed to show resource. (HTTP 404)' in missing.stderr
    for args in (('topology', 'show', '--all-tenants'),
                 ('resource', 'list', '--all-tenants')):
        denied = stack.cli(*args, check=False, **member)
        assert denied.returncode != 0
        assert 'Authorization Failed (HTTP 403)' in denied.stderr
    # An admin of a third project sees everything with all_tenants.
    admin = {'roles': 'admin', 'project': 'p3'}
    all_topology = stack.cli_json('topology', 'show', '--all-tenants',
                                  **admin)
    assert own | other <= {n['vitrage_id'] for n in all_topology['nodes']}
    assert own | other <= _resource_ids(stack, '--all-tenants', **admin)


def test_tenant_isolation_of_webhooks(stack):
    def add(project):
        return stack.cli_json('webhook', 'add', '--url',
                              'http://%s.test/' % project, '-f', 'json',
                              roles='member', project=project)['id']

    def ids(*args, **kwargs):
        rows = stack.cli_json('webhook', 'list', '-f', 'json', *args,
                              **kwargs)
        return [r['ID'] for r in rows]

    a, b = add('p1'), add('p2')
    assert ids(roles='member', project='p1') == [a]
    assert ids(roles='member', project='p2') == [b]
    for project, theirs in (('p1', b), ('p2', a)):
        member = {'roles': 'member', 'project': project}
        denied = stack.cli('webhook', 'list', '--all-tenants', check=False,
                           **member)
        assert 'Authorization Failed (HTTP 403)' in denied.stderr
        hidden = stack.cli('webhook', 'show', theirs, check=False, **member)
        assert 'Failed to get webhook. (HTTP 404)' in hidden.stderr
        kept = stack.cli('webhook', 'delete', theirs, check=False,
                         **member)
        assert 'Failed to delete webhook. (HTTP 404)' in kept.stderr
    admin = {'roles': 'admin', 'project': 'p3'}
    assert ids(**admin) == []
    assert ids('--all-tenants', **admin) == [a, b]
