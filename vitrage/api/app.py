"""The vitrage-api WSGI application (rest-api-v1.md).

:func:`build_app` returns a Flask application whose ``wsgi_app`` is the
whole pipeline: the optional ``[api] url_prefix`` mount, Keystone token
validation (``[api] auth_mode = keystone``; ``/`` and ``/healthcheck``
stay public; ``POST /v1/event`` also takes HTTP Basic credentials, see
:mod:`vitrage.api.auth`), the policy check of :mod:`vitrage.api.policy`,
then the routes. Every path works with and without a
trailing slash. Graph data comes from one RPC call per request through
the :class:`vitrage.graph.rpcapi.GraphClient` passed in.

Readiness (``[api] check_graph_ready``): graph-backed routes let the
graph answer 503 itself (the RPC context asks it to), so they cost no
extra round trip; any other ``/v1`` route asks ``get_status`` first, and
the answer is cached for :data:`READY_TTL` seconds (every successful
graph answer refreshes it). Routes that never need the graph (``POST
/v1/event``, which only publishes on the bus: intake never waits for a
graph) are marked ``graph_free`` and skip it.
"""
from collections.abc import Callable
import threading
import time
from typing import Any

import flask
from oslo_config import cfg
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from vitrage.api import auth
from vitrage.api import controllers
from vitrage.api.controllers import root
from vitrage.api import errors
from vitrage.api import policy
from vitrage.api import request
from vitrage.graph.rpcapi import GraphError

READY_TTL = 1.0
"""Seconds a readiness answer of vitrage-graph is trusted."""

_PUBLIC_PATHS = frozenset(('', '/healthcheck'))


class ReadinessGate:
    """Cached answer to "is vitrage-graph ready?".

    :param graph_client: has ``get_status(ctx)``.
    :param ttl: seconds an answer is reused.
    :param clock: monotonic time source (tests pass their own).
    """

    def __init__(self, graph_client: Any, ttl: float = READY_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = graph_client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._until = float('-inf')
        self._error: GraphError | None = None

    def mark_ready(self) -> None:
        with self._lock:
            self._until = self._clock() + self._ttl
            self._error = None

    def check(self) -> None:
        """Return when the graph is (recently known to be) ready.

        :raises GraphError: 503 not ready, or not available.
        """
        with self._lock:
            fresh = self._clock() < self._until
            error = self._error
        if fresh:
            if error is not None:
                raise error
            return
        try:
            self._client.get_status({'user_id': None, 'project_id': None,
                                     'roles': [], 'is_admin': False})
        except GraphError as exc:
            with self._lock:
                self._until = self._clock() + self._ttl
                self._error = exc
            raise
        self.mark_ready()


class ApiState:
    """What the controllers share (``app.extensions['vitrage']``)."""

    def __init__(self, conf: cfg.ConfigOpts, graph_client: Any,
                 gate: ReadinessGate) -> None:
        self.conf = conf
        self.graph_client = graph_client
        self.gate = gate
        self.policy: Any = None
        self._database = None
        self._database_lock = threading.Lock()

    @property
    def database(self) -> Any:
        """The :class:`vitrage.storage.connection.Database` of
        ``[database] connection``, opened on first use (templates,
        alarm history, webhooks live there).
        """
        with self._database_lock:
            if self._database is None:
                from vitrage.storage import connection as db_connection
                self._database = db_connection.from_conf(self.conf)
            return self._database


def build_app(conf: cfg.ConfigOpts, graph_client: Any) -> flask.Flask:
    """Assemble the API application.

    :param conf: the configuration (``[api]``, ``[keystone_authtoken]``).
    :param graph_client: a :class:`vitrage.graph.rpcapi.GraphClient` (or
        any object with the same methods).
    :returns: a Flask application (a WSGI callable).
    """
    app = flask.Flask('vitrage.api', static_folder=None)
    app.url_map.strict_slashes = False
    state = ApiState(conf, graph_client, ReadinessGate(graph_client))
    app.extensions['vitrage'] = state
    errors.register(app)
    app.register_blueprint(root.blueprint)
    v1_names = set()
    for blueprint in controllers.V1:
        app.register_blueprint(blueprint, url_prefix='/v1')
        v1_names.add(blueprint.name)

    state.policy = policy.Policy(conf)

    @app.before_request
    def enforce_policy() -> None:
        rule = policy.rule_of(flask.request.endpoint)
        if rule is not None:
            request.enforce(rule)

    @app.before_request
    def readiness_gate() -> None:
        if not conf.api.check_graph_ready:
            return
        if flask.request.blueprint not in v1_names:
            return
        view = app.view_functions.get(flask.request.endpoint)
        if view is None or getattr(view, 'graph_backed', False) or \
                getattr(view, 'graph_free', False):
            return
        state.gate.check()

    wsgi = app.wsgi_app
    if conf.api.auth_mode == 'keystone':
        from keystonemiddleware import auth_token
        protected = auth_token.AuthProtocol(wsgi,
                                            {'oslo_config_config': conf})
        protected = auth.BasicAuth(conf, wsgi, protected)
        wsgi = _public_paths(wsgi, protected)
    prefix = '/' + conf.api.url_prefix.strip('/')
    if prefix != '/':
        wsgi = DispatcherMiddleware(_not_found, {prefix: wsgi})
    app.wsgi_app = wsgi
    return app


def _public_paths(public: Callable, protected: Callable) -> Callable:
    """Route ``/`` and ``/healthcheck`` around the auth middleware."""
    def dispatch(environ: dict, start_response: Callable) -> Any:
        path = environ.get('PATH_INFO', '').rstrip('/')
        if path in _PUBLIC_PATHS:
            return public(environ, start_response)
        return protected(environ, start_response)
    return dispatch


def _not_found(environ: dict, start_response: Callable) -> list[bytes]:
    body = errors.json_body(404, 'The path is outside the API URL prefix')
    start_response('404 Not Found',
                   [('Content-Type', 'application/json'),
                    ('Content-Length', str(len(body)))])
    return [body]
