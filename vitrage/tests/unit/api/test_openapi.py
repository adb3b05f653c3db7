"""doc/source/api/openapi.yaml and the application agree, and no request
generated from the document gets a 5xx.

The fuzz test is a small hypothesis generator over the document (the
JSON-schema subset it uses), run against the in-process application with
a fake graph, a migrated SQLite database and a fake event publisher.
Schemathesis would do the same with far more dependencies.
"""
import functools
import json
import re
from urllib import parse as urlparse

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
import pytest
import yaml

from vitrage.api import app as api_app
from vitrage.graph.rpcapi import GraphError
from vitrage.tests import helpers
from vitrage.tests.unit.api.test_app import FakeGraphClient

DOCUMENT = helpers.repo_path('doc', 'source', 'api', 'openapi.yaml')
METHODS = ('get', 'post', 'put', 'delete', 'patch')

EXPECTED_MISSING: set[tuple[str, str]] = set()
"""Documented operations not routed yet (their controllers are being
written); remove an entry when its route lands."""


@functools.lru_cache(maxsize=1)
def document() -> dict:
    with open(DOCUMENT) as f:
        return yaml.safe_load(f)


def _normalize(path: str) -> str:
    path = re.sub(r'\{[^}]*\}|<[^>]*>', '{}', path)
    return path.rstrip('/') or '/'


def documented() -> set[tuple[str, str]]:
    return {(method.upper(), _normalize(path))
            for path, item in document()['paths'].items()
            for method in item if method in METHODS}


def routed(app) -> set[tuple[str, str]]:
    return {(method, _normalize(rule.rule))
            for rule in app.url_map.iter_rules()
            for method in rule.methods - {'HEAD', 'OPTIONS'}}


@pytest.fixture
def app(conf):
    conf.set_override('auth_mode', 'noauth', 'api')
    return api_app.build_app(conf, FakeGraphClient())


def test_document_is_openapi_3_with_all_spec_endpoints():
    doc = document()
    assert doc['openapi'].startswith('3.')
    # rest-api-v1.md section 3: 24 endpoints (+ 2 aliases).
    assert len(documented()) == 26
    ids = [op['operationId'] for item in doc['paths'].values()
           for method, op in item.items() if method in METHODS]
    assert len(ids) == len(set(ids))


def test_every_route_is_documented(app):
    undocumented = routed(app) - documented()
    assert not undocumented, 'routes missing from openapi.yaml: %s' % sorted(
        undocumented)


def test_every_documented_operation_is_routed(app):
    missing = documented() - routed(app)
    assert missing <= EXPECTED_MISSING, (
        'documented but not routed: %s' % sorted(missing - EXPECTED_MISSING))


def test_expected_missing_list_is_current(app):
    landed = EXPECTED_MISSING & routed(app)
    assert not landed, ('routed now, remove from EXPECTED_MISSING: %s'
                        % sorted(landed))


def test_every_documented_ref_resolves():
    doc = document()

    def walk(node):
        if isinstance(node, dict):
            if '$ref' in node:
                _resolve(node['$ref'])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc)


def _resolve(ref: str) -> dict:
    assert ref.startswith('#/'), ref
    node = document()
    for part in ref[2:].split('/'):
        node = node[part]
    return node


# -- strategies from the document ------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) |
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) |
    st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8)


def _merge_all_of(schema: dict) -> dict:
    merged: dict = {'type': 'object', 'properties': {}, 'required': []}
    for part in schema['allOf']:
        part = _deref(part)
        if 'allOf' in part:
            part = _merge_all_of(part)
        merged['properties'].update(part.get('properties', {}))
        merged['required'].extend(part.get('required', []))
    return merged


def _deref(schema: dict) -> dict:
    while '$ref' in schema:
        schema = _resolve(schema['$ref'])
    return schema


def from_schema(schema: dict) -> st.SearchStrategy:
    """Values valid for ``schema`` (the subset openapi.yaml uses)."""
    schema = _deref(schema)
    if 'allOf' in schema:
        schema = _merge_all_of(schema)
    if 'oneOf' in schema or 'anyOf' in schema:
        strategy = st.one_of([from_schema(s) for s in
                              schema.get('oneOf', schema.get('anyOf'))])
    elif 'enum' in schema:
        strategy = st.sampled_from(schema['enum'])
    else:
        kind = schema.get('type')
        if kind == 'string' and schema.get('format') == 'uri':
            strategy = st.text(max_size=40) | st.builds(
                lambda scheme, rest: '%s://%s' % (scheme, rest),
                st.sampled_from(['http', 'https', 'ftp']),
                st.text(max_size=30))
        elif kind == 'string':
            strategy = st.text(max_size=40)
        elif kind == 'integer':
            strategy = st.integers(min_value=schema.get('minimum', -1000),
                                   max_value=10 ** 6)
        elif kind == 'number':
            strategy = st.floats(allow_nan=False, allow_infinity=False)
        elif kind == 'boolean':
            strategy = st.booleans()
        elif kind == 'array':
            strategy = st.lists(from_schema(schema.get('items', {})),
                                min_size=schema.get('minItems', 0),
                                max_size=schema.get('maxItems', 3))
        elif kind == 'object' or 'properties' in schema:
            properties = schema.get('properties', {})
            if not properties:
                strategy = st.dictionaries(st.text(max_size=10), JSON_VALUES,
                                           max_size=3)
            else:
                required = set(schema.get('required', ()))
                strategy = st.fixed_dictionaries(
                    {k: from_schema(v) for k, v in properties.items()
                     if k in required},
                    optional={k: from_schema(v)
                              for k, v in properties.items()
                              if k not in required})
        else:
            strategy = JSON_VALUES
    if schema.get('nullable'):
        strategy = st.none() | strategy
    return strategy


def _query_text(value) -> str:
    if isinstance(value, bool):
        return str(value)     # as python-vitrageclient sends it
    return str(value)


@st.composite
def requests_for(draw, path: str, method: str, operation: dict):
    """(url, headers, body bytes or None) for one operation."""
    params = operation.get('parameters', [])
    url = path
    query: list[tuple[str, str]] = []
    for param in params:
        param = _deref(param)
        if param['in'] == 'path':
            value = draw(st.text(min_size=1, max_size=30))
            url = url.replace('{%s}' % param['name'],
                              urlparse.quote(value, safe=''))
        elif param['in'] == 'query' and (param.get('required') or
                                         draw(st.booleans())):
            value = draw(from_schema(param['schema']) |
                         st.text(max_size=10))
            values = value if isinstance(value, list) else [value]
            query.extend((param['name'], _query_text(v)) for v in values)
    if query:
        url += '?' + urlparse.urlencode(query)
    headers = draw(st.sampled_from([
        {}, {'X-User-Id': 'u', 'X-Project-Id': 'p1', 'X-Roles': 'member'},
        {'X-User-Id': 'a', 'X-Project-Id': 'p1', 'X-Roles': 'admin'}]))
    body = None
    content = operation.get('requestBody', {}).get('content', {})
    if 'application/json' in content:
        schema = content['application/json']['schema']
        value = draw(from_schema(schema) | JSON_VALUES)
        body = json.dumps(value).encode()
        if draw(st.integers(0, 9)) == 0:
            body = draw(st.binary(max_size=20))
    return url, headers, body


def _operations() -> list:
    return [pytest.param(path, method, op,
                         id='%s %s' % (method.upper(), path))
            for path, item in document()['paths'].items()
            for method, op in item.items() if method in METHODS]


class FuzzGraph(FakeGraphClient):
    def __init__(self) -> None:
        super().__init__()
        self.answers.update({
            'get_topology': {'nodes': [], 'links': []},
            'list_resources': [],
            'count_resources': {},
            'show_resource': GraphError(404, 'Failed to show resource.'),
        })


class Publisher:
    def publish(self, event_type, payload) -> None:
        json.dumps(payload)


@pytest.fixture
def fuzz_http(conf, db_url):
    conf.set_override('auth_mode', 'noauth', 'api')
    conf.set_override('connection', db_url, 'database')
    app = api_app.build_app(conf, FuzzGraph())
    app.extensions['vitrage.event_publisher'] = Publisher()
    yield app.test_client()
    state = app.extensions['vitrage']
    if state._database is not None:
        state.database.dispose()


@pytest.mark.parametrize('path, method, operation', _operations())
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_generated_request_gets_a_5xx(fuzz_http, path, method,
                                         operation, data):
    url, headers, body = data.draw(requests_for(path, method, operation))
    if body is not None:
        headers = dict(headers, **{'Content-Type': 'application/json'})
    response = fuzz_http.open(url, method=method.upper(), headers=headers,
                              data=body)
    assert response.status_code < 500, (method, url, body, response.data)
    assert response.mimetype == 'application/json'
    answer = json.loads(response.data)
    if response.status_code >= 400:
        assert answer['code'] == response.status_code
        assert answer['description']
