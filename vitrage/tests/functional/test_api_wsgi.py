"""The WSGI entry point :mod:`vitrage.api.wsgi`: imported in a fresh
process with a configuration file named by ``VITRAGE_CONFIG_FILES``, it
serves requests over HTTP (wsgiref) and registers itself as a service."""
import json
import os
import subprocess
import sys
import textwrap

from vitrage.tests import helpers

SCRIPT = textwrap.dedent('''
    import json, sys, threading, urllib.request
    from wsgiref import simple_server
    from vitrage.api import wsgi

    class Quiet(simple_server.WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = simple_server.make_server('127.0.0.1', 0, wsgi.application,
                                       handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = 'http://127.0.0.1:%d' % server.server_port
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {'X-User-Id': 'u', 'X-Project-Id': 'p1', 'X-Roles': 'member',
               'Content-Type': 'application/json'}

    def call(method, path, body=None):
        request = urllib.request.Request(
            base + path, method=method, headers=headers,
            data=None if body is None else json.dumps(body).encode())
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    out = {
        'versions': call('GET', '/'),
        'added': call('POST', '/v1/webhook/', {'url': 'http://h/x'}),
        'listed': call('GET', '/v1/webhook/'),
        'services': call('GET', '/v1/service/'),
    }
    server.shutdown()
    print(json.dumps(out))
''')


def test_wsgi_entry_point_serves_with_the_named_config(tmp_path):
    db_url = helpers.sqlite_database(tmp_path / 'wsgi.sqlite')
    config = tmp_path / 'vitrage.conf'
    config.write_text(
        '[DEFAULT]\ntransport_url = kombu+vitrage-memory:////\n'
        'host = wsgi-node\n'
        '[api]\nauth_mode = noauth\ncheck_graph_ready = false\n'
        '[database]\nconnection = %s\n' % db_url)
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ('http_proxy', 'https_proxy')}
    env['VITRAGE_CONFIG_FILES'] = str(config)
    result = subprocess.run([sys.executable, '-c', SCRIPT], env=env,
                            capture_output=True, text=True, timeout=120,
                            cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    status, versions = out['versions']
    assert status == 200
    assert versions['versions'][0]['links'][0]['href'].endswith('/v1/')
    status, added = out['added']
    assert status == 200 and added['project_id'] == 'p1'
    assert out['listed'] == [200, [added]]
    status, listed = out['services']
    assert status == 200
    assert [(s['name'], s['hostname']) for s in listed] == [
        ('vitrageuWSGI_worker_0', 'wsgi-node')]
    assert listed[0]['process'] != os.getpid()
