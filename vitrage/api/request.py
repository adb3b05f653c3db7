"""What every controller reads from a request: identity, parameters, body.

Identity (rest-api-v1.md 1.5) comes from the headers an auth middleware
(or, in ``noauth`` mode, the client) sets: ``X-User-Id`` (or
``X-User``), ``X-Project-Id`` (or ``X-Tenant-Id``), ``X-Roles``
(comma-separated) and ``X-User-Name``. The caller is an admin when
``admin`` is one of its roles: roles come from ``X-Roles`` alone, a user
named ``admin`` without the role is not one. In ``noauth`` mode a
request with none of these headers is an admin of no project, which
sees everything.
"""
from collections.abc import Callable
import functools
import json
import logging
from typing import Any

import flask
from oslo_db import exception as db_exc

from vitrage.api.errors import ApiError
from vitrage.api.errors import AUTHORIZATION_FAILED
from vitrage.api.errors import BadRequest
from vitrage.common import exceptions
from vitrage.graph.rpcapi import GraphError

LOG = logging.getLogger(__name__)

_TRUE = frozenset(('true', '1', 'yes', 'on', 't', 'y'))
_FALSE = frozenset(('false', '0', 'no', 'off', 'f', 'n', ''))

ADMIN = 'admin'


def state() -> Any:
    """The application's :class:`vitrage.api.app.ApiState`."""
    return flask.current_app.extensions['vitrage']


def graph_client() -> Any:
    return state().graph_client


def database() -> Any:
    """The API's :class:`vitrage.storage.connection.Database`."""
    return state().database


def identity() -> dict:
    """The caller's request context.

    Keys: user_id, project_id, roles, is_admin, user_name.
    """
    headers = flask.request.headers
    user_id = headers.get('X-User-Id') or headers.get('X-User') or None
    project_id = (headers.get('X-Project-Id') or
                  headers.get('X-Tenant-Id') or None)
    user_name = headers.get('X-User-Name') or None
    raw_roles = headers.get('X-Roles')
    roles = [r.strip() for r in (raw_roles or '').split(',') if r.strip()]
    if (state().conf.api.auth_mode == 'noauth' and raw_roles is None and
            user_id is None and project_id is None and user_name is None):
        return {'user_id': None, 'project_id': None, 'roles': [],
                'is_admin': True, 'user_name': None}
    is_admin = ADMIN in (r.lower() for r in roles)
    return {'user_id': user_id, 'project_id': project_id, 'roles': roles,
            'is_admin': is_admin, 'user_name': user_name}


def policy_creds(ctx: dict | None = None) -> dict:
    """The caller as oslo.policy credentials.

    The identity (:func:`identity`) plus ``noauth_admin``: true for the
    identity-less caller of ``noauth`` mode.

    :param ctx: an identity already read (read again when None).
    """
    if ctx is None:
        ctx = identity()
    creds = dict(ctx)
    creds['noauth_admin'] = bool(
        ctx['is_admin'] and not ctx['roles'] and ctx['user_id'] is None
        and ctx['project_id'] is None and ctx['user_name'] is None)
    return creds


def enforce(rule: str, ctx: dict | None = None) -> None:
    """Enforce a policy rule for the caller.

    :param rule: the rule name (see :mod:`vitrage.api.policy`).
    :param ctx: the caller's identity (read when None).
    :raises ApiError: 403 ``Authorization Failed``, the policy denies it.
    """
    from vitrage.api import policy
    try:
        state().policy.check(rule, policy_creds(ctx))
    except policy.Forbidden as exc:
        raise ApiError(403, AUTHORIZATION_FAILED, str(exc))


def context(all_tenants: bool = False) -> dict:
    """The caller's context for a graph call.

    With ``all_tenants`` the policy rule ``<rule>:all_tenants`` of the
    request's endpoint decides (default: admins only).

    :param all_tenants: the request asks for every project's data.
    :raises ApiError: 403 ``Authorization Failed``, ``all_tenants``
        and the policy denies it.
    """
    from vitrage.api import policy
    ctx = identity()
    if all_tenants:
        rule = policy.rule_of(flask.request.endpoint)
        if rule in policy.ALL_TENANTS_RULES:
            enforce(rule + policy.ALL_TENANTS_SUFFIX, ctx)
        else:
            enforce(policy.ADMIN_RULE, ctx)
    return ctx


def parse_bool(value: Any, name: str, default: bool = False) -> bool:
    """A boolean sent as JSON or as text (``True``, ``false``, ``1``...).

    :raises BadRequest: the value is not a boolean.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise BadRequest("Invalid value %r for '%s': expected a boolean"
                     % (value, name))


def parse_int(value: Any, name: str, minimum: int | None = None
              ) -> int | None:
    """An optional integer sent as JSON or as text.

    :raises BadRequest: not an integer, or below ``minimum``.
    """
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise BadRequest("Invalid value %r for '%s': expected an integer"
                         % (value, name))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if not isinstance(value, int):
        raise BadRequest("Invalid value %r for '%s': expected an integer"
                         % (value, name))
    if minimum is not None and value < minimum:
        raise BadRequest("Invalid value %d for '%s': must be at least %d"
                         % (value, name, minimum))
    return value


def parse_str(value: Any, name: str) -> str | None:
    """An optional string parameter.

    :raises BadRequest: present but not a string.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest("Invalid value %r for '%s': expected a string"
                         % (value, name))
    return value


def parse_query(value: Any) -> str | None:
    """The ``query`` filter as a JSON string (section 6).

    A JSON object is accepted too and re-encoded. The graph checks the
    content.

    :raises BadRequest: neither a string nor an object.
    """
    if value is None or value == '':
        return None
    if isinstance(value, dict):
        return json.dumps(value)
    if not isinstance(value, str):
        raise BadRequest("Invalid value for 'query': expected a JSON "
                         "document as a string")
    return value


def json_body() -> dict:
    """The request's JSON object body (``{}`` when there is none).

    :raises BadRequest: the body is not a JSON object.
    """
    data = flask.request.get_data(cache=True)
    if not data or not data.strip():
        return {}
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BadRequest('The request body is not valid JSON: %s' % exc)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest('The request body must be a JSON object')
    return body


def graph_backed(view: Callable) -> Callable:
    """Mark a view whose graph call carries the readiness check.

    The application's readiness gate does not ask the graph again for
    such views.
    """
    view.graph_backed = True
    return view


def call_graph(method: str, ctx: dict, *args: Any, **kwargs: Any) -> Any:
    """Call the graph client and note that vitrage-graph answered.

    An answer (even an error other than 503) proves that vitrage-graph is
    ready, which the readiness gate caches.

    :raises vitrage.graph.rpcapi.GraphError: the graph's error answer.
    """
    gate = state().gate
    try:
        result = getattr(graph_client(), method)(ctx, *args, **kwargs)
    except GraphError as exc:
        if exc.code != 503:
            gate.mark_ready()
        raise
    gate.mark_ready()
    return result


def storage_failures(description: str,
                     *also: type[Exception]) -> Callable:
    """Mark a view that reads or writes the database.

    A database failure (or one of ``also``) answers 404 ``description``,
    as the stock client expects (rest-api-v1.md 1.4); a bad argument the
    storage layer finds (:class:`vitrage.common.exceptions.BadRequest`)
    answers 400 with its message.
    """
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except ApiError:
                raise
            except exceptions.BadRequest as exc:
                raise BadRequest(str(exc))
            except (db_exc.DBError,) + also as exc:
                LOG.error('%s: %s', description, exc)
                raise ApiError(404, description, '%s: %s' % (
                    type(exc).__name__, exc))
        return guarded
    return wrap
