"""HTTP errors of the REST API and their JSON bodies (rest-api-v1.md 1.4).

Every error answer is ``{"code": int, "title": str, "description": str}``
(plus ``detail`` when there is more to say), whatever the ``Accept``
header; the stock client shows only ``description``.
"""
import http
import json
import logging

import flask
from werkzeug import exceptions as http_exceptions

from vitrage.common.exceptions import VitrageError
from vitrage.graph.rpcapi import GraphError

LOG = logging.getLogger(__name__)

AUTHORIZATION_FAILED = 'Authorization Failed'


class ApiError(VitrageError):
    """An error answer: HTTP status, description and optional detail."""

    def __init__(self, code: int, description: str,
                 detail: str | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.detail = detail


class BadRequest(ApiError):
    def __init__(self, description: str) -> None:
        super().__init__(400, description)


class Forbidden(ApiError):
    def __init__(self, description: str = AUTHORIZATION_FAILED) -> None:
        super().__init__(403, description)


def title(code: int) -> str:
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return 'Error'


def json_response(body: object, status: int = 200) -> flask.Response:
    """A JSON response of ``body``.

    A result the graph encoded already is sent as it is (see
    :class:`vitrage.graph.rpcapi.PreEncoded`).
    """
    from vitrage.graph.rpcapi import GzipEncoded
    from vitrage.graph.rpcapi import PreEncoded
    if isinstance(body, GzipEncoded):
        if 'gzip' in flask.request.headers.get('Accept-Encoding', ''):
            response = flask.Response(bytes(body), status=status,
                                      mimetype='application/json')
            response.headers['Content-Encoding'] = 'gzip'
            response.headers['Vary'] = 'Accept-Encoding'
            return response
        text = body.text()
    elif isinstance(body, PreEncoded):
        text = str(body)
    else:
        text = json.dumps(body)
    return flask.Response(text, status=status,
                          mimetype='application/json')


def json_body(code: int, description: str,
              detail: str | None = None) -> bytes:
    """The encoded error body."""
    body = {'code': code, 'title': title(code), 'description': description}
    if detail:
        body['detail'] = detail
    return json.dumps(body).encode('utf-8')


def error_response(code: int, description: str,
                   detail: str | None = None) -> flask.Response:
    return flask.Response(json_body(code, description, detail),
                          status=code, mimetype='application/json')


def _api_error(exc: ApiError) -> flask.Response:
    return error_response(exc.code, exc.description, exc.detail)


def _graph_error(exc: GraphError) -> flask.Response:
    if exc.code >= 500:
        LOG.warning('%s %s: %s (%s)', flask.request.method,
                    flask.request.path, exc.description, exc.detail)
    return error_response(exc.code, exc.description, exc.detail)


def _http_exception(exc: http_exceptions.HTTPException) -> flask.Response:
    code = exc.code or 500
    response = error_response(code, exc.description or title(code))
    if isinstance(exc, http_exceptions.MethodNotAllowed) and \
            exc.valid_methods:
        response.headers['Allow'] = ', '.join(sorted(exc.valid_methods))
    return response


def _unexpected(exc: Exception) -> flask.Response:
    if isinstance(exc, http_exceptions.HTTPException):
        return _http_exception(exc)
    LOG.exception('%s %s failed', flask.request.method, flask.request.path)
    return error_response(500, 'Internal error',
                          '%s: %s' % (type(exc).__name__, exc))


def register(app: flask.Flask) -> None:
    """Answer every error of ``app`` with a JSON body."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(GraphError, _graph_error)
    app.register_error_handler(http_exceptions.HTTPException,
                               _http_exception)
    app.register_error_handler(Exception, _unexpected)
