"""The RPC API between vitrage-api and vitrage-graph.

:class:`GraphClient` (used by vitrage-api) and :class:`GraphEndpoint`
(served by vitrage-graph on ``[entity_graph] topic``) share
:data:`API_VERSION` and one method per call, with the same names and
arguments; a unit test holds them together.

Errors travel back as data, not as remote exceptions: the endpoint
answers ``{"result": ...}`` or ``{"error": {"code": int, "description":
str, "detail": str}}`` with an HTTP status code, and the client turns an
error back into :class:`GraphError`. The request context is a dict
``{"user_id", "project_id", "roles", "is_admin", "require_ready"}``; with
``require_ready`` (the client sets it from ``[api] check_graph_ready``)
the endpoint answers 503 while the graph is initialising, so the API's
readiness gate costs no extra round trip.

A large answer (gzipped JSON longer than ``[entity_graph]
answer_part_size``) travels in parts, so that no message exceeds the
broker's ``max_message_size``: the first answer carries the first part
and ``{"more": {"token", "parts"}}``; the client asks for the others with
``get_answer_part``. The endpoint splits an answer only for a client
that says it can join them (``answer_parts`` in the context).

History: 1.0 - topology, resources (list, show, count), status.
1.1 - show_alarm, list_alarms, get_rca (live alarms, for deployments
      without alarm history).
1.2 - get_answer_part (large answers in parts).

Rolling upgrades: the client sends each call with the lowest version that
carries it (:data:`METHOD_VERSIONS`), so an API of this release works
with a vitrage-graph of an earlier one for every call that graph knows.
``[api] graph_rpc_version_cap`` holds the API to an older graph's version
during an upgrade (``can_send_version``); a call the graph cannot answer
fails with :class:`GraphTooOld` (503, naming both versions) instead of an
opaque remote error. Asking for answers in parts (``answer_parts``, 1.2)
is a context flag an older graph ignores: it answers whole.
"""
import base64
import collections
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
import json
import logging
import threading
import time
from typing import Any
from typing import Protocol
import uuid
import zlib

from isal import isal_zlib
from oslo_config import cfg
import oslo_messaging

from vitrage.common.constants import Category
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.common.exceptions import BadRequest
from vitrage.common.exceptions import ConfigError
from vitrage.common.exceptions import NotFound
from vitrage.common.exceptions import VitrageError
from vitrage.graph import driver
from vitrage.graph.driver import EntityGraph
from vitrage.graph import views

LOG = logging.getLogger(__name__)

API_VERSION = '1.2'

METHOD_VERSIONS: dict[str, str] = {
    'get_topology': '1.0',
    'list_resources': '1.0',
    'show_resource': '1.0',
    'count_resources': '1.0',
    'get_status': '1.0',
    'show_alarm': '1.1',
    'list_alarms': '1.1',
    'get_rca': '1.1',
    'get_answer_part': '1.2',
}
"""Each client method and the lowest version that carries it with its
arguments: the version it is sent with. No method has gained an argument
since it came. One that does must send the new version only when it sends
that argument (``can_send_version``), leave the argument out for an older
graph where the answer stays right without it, and otherwise raise
:class:`GraphTooOld`."""

ANSWER_PARTS_VERSION = '1.2'
"""The version from which a graph may answer in parts."""

NOT_READY = 'vitrage-graph is not ready'
NOT_AVAILABLE = 'vitrage-graph is not available'
STATUS_TIMEOUT = 5
"""Seconds ``get_status`` waits for an answer (rest-api-v1.md 4.24)."""


class GraphError(VitrageError):
    """vitrage-graph refused or failed a request.

    :ivar code: the HTTP status the API should answer with.
    :ivar description: the message for the caller.
    :ivar detail: what exactly went wrong, when it adds to description.
    """

    def __init__(self, code: int, description: str,
                 detail: str | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.detail = detail


class GraphUnavailable(GraphError):
    """vitrage-graph did not answer (timeout, unreachable)."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(503, NOT_AVAILABLE, detail)


class GraphTooOld(GraphError):
    """vitrage-graph (or ``[api] graph_rpc_version_cap``) is older than
    the version a call needs: a rolling upgrade is not finished.

    :param method: the call.
    :param needed: the version it needs (:data:`METHOD_VERSIONS`).
    :param cap: the cap that stopped it, or None when the graph refused.
    """

    def __init__(self, method: str, needed: str,
                 cap: str | None) -> None:
        spoken = ('%s ([api] graph_rpc_version_cap)' % cap if cap
                  else 'an older version')
        super().__init__(
            503, 'vitrage-graph is too old for %s: it needs graph RPC '
            'version %s, the graph speaks %s; upgrade vitrage-graph'
            % (method, needed, spoken))
        self.method = method
        self.needed = needed
        self.cap = cap


class AnswerLost(GraphError):
    """The graph no longer has the rest of a large answer."""

    def __init__(self, description: str) -> None:
        super().__init__(410, description)


class GraphHolder(Protocol):
    """What :class:`GraphEndpoint` needs from the graph service."""

    graph: EntityGraph
    lock: Any  # threading.Lock or RLock, held while reading the graph

    def is_ready(self) -> bool:
        ...


class GraphClient:
    """Client side of the graph RPC API (one call per API request).

    Each call is sent with its own version (:data:`METHOD_VERSIONS`), not
    :data:`API_VERSION`, so that a graph of an earlier release answers it.

    :param conf: the configuration (``[entity_graph] topic``, ``[api]
        graph_rpc_timeout``, ``check_graph_ready`` and
        ``graph_rpc_version_cap``).
    :param transport: an oslo.messaging RPC transport.
    :raises vitrage.common.exceptions.ConfigError: the version cap is
        newer than this release's :data:`API_VERSION`.
    """

    def __init__(self, conf: cfg.ConfigOpts,
                 transport: oslo_messaging.Transport) -> None:
        self._require_ready = conf.api.check_graph_ready
        self._cap = conf.api.graph_rpc_version_cap or None
        if self._cap is not None and not _version_le(self._cap,
                                                     API_VERSION):
            raise ConfigError(
                '[api] graph_rpc_version_cap: %s is newer than this '
                "release's graph RPC version %s" % (self._cap, API_VERSION))
        target = oslo_messaging.Target(topic=conf.entity_graph.topic,
                                       version=API_VERSION)
        self._client = oslo_messaging.get_rpc_client(
            transport, target, timeout=conf.api.graph_rpc_timeout,
            version_cap=self._cap)
        self._status_timeout = min(STATUS_TIMEOUT,
                                   conf.api.graph_rpc_timeout)

    def _prepare(self, method: str, timeout: float | None = None) -> Any:
        """The call context of ``method``: its version, if the cap allows.

        :raises GraphTooOld: the cap is below the method's version.
        """
        version = METHOD_VERSIONS[method]
        if not self._client.can_send_version(version):
            raise GraphTooOld(method, version, self._cap)
        if timeout is None:
            return self._client.prepare(version=version)
        return self._client.prepare(version=version, timeout=timeout)

    def _call(self, ctx: dict, method: str, timeout: float | None = None,
              **kwargs: Any) -> Any:
        context = dict(ctx)
        context['require_ready'] = self._require_ready
        # A graph of 1.2 or newer splits large answers only when asked; an
        # older one ignores the flag and answers whole. Under a lower cap
        # get_answer_part cannot be sent: do not ask.
        context['answer_parts'] = self._client.can_send_version(
            ANSWER_PARTS_VERSION)
        for attempt in (1, 2):
            answer = self._ask(context, method, timeout, **kwargs)
            if 'result_json' in answer:
                return PreEncoded(answer['result_json'])
            if 'result_gzip' not in answer:
                return answer.get('result')
            data = base64.b64decode(answer['result_gzip'])
            if not answer.get('more'):
                return GzipEncoded(data)
            try:
                return GzipEncoded(data + self._rest(context,
                                                     answer['more']))
            except AnswerLost as exc:
                if attempt == 2:
                    raise GraphUnavailable(str(exc))
                # The graph that had it is gone (a takeover) or let it
                # go: ask the new one once more.
                LOG.warning('%s; asking again', exc)

    def _ask(self, context: dict, method: str,
             timeout: float | None = None, **kwargs: Any) -> dict:
        """One RPC call; its answer, or the error it carries raised.

        :raises GraphTooOld: the graph does not know the call's version.
        """
        client = self._prepare(method, timeout)
        try:
            answer = client.call(context, method, **kwargs)
        except oslo_messaging.MessagingTimeout as exc:
            raise GraphUnavailable('no answer to %s: %s' % (method, exc))
        except oslo_messaging.RemoteError as exc:
            if exc.exc_type in ('UnsupportedVersion', 'NoSuchMethod'):
                # No cap set, and the graph is older than the method.
                LOG.error('vitrage-graph cannot answer %s of graph RPC '
                          '%s: %s', method, METHOD_VERSIONS[method], exc)
                raise GraphTooOld(method, METHOD_VERSIONS[method], None)
            LOG.error('vitrage-graph failed %s: %s', method, exc)
            raise GraphError(500, 'vitrage-graph failed to answer %s'
                             % method, str(exc.value))
        except oslo_messaging.MessagingException as exc:
            raise GraphUnavailable('%s: %s' % (method, exc))
        if not isinstance(answer, dict):
            raise GraphError(500, 'Unexpected answer from vitrage-graph to '
                             '%s' % method)
        if 'error' in answer:
            error = answer['error']
            raise GraphError(error.get('code', 500),
                             error.get('description', 'Unknown error'),
                             error.get('detail'))
        return answer

    def _rest(self, context: dict, more: dict) -> bytes:
        """The parts after the first of a large answer, joined.

        :raises AnswerLost: when the graph no longer has them.
        """
        token = more['token']
        data = []
        for index in range(1, int(more['parts'])):
            data.append(self.get_answer_part(context, token, index))
        return b''.join(data)

    def get_answer_part(self, ctx: dict, token: str, index: int) -> bytes:
        """One part of a large answer (see the module's docstring).

        :param ctx: the caller's request context.
        :param token: the ``more.token`` of the first answer.
        :param index: which part, from 1.
        :returns: the part's gzip bytes.
        :raises AnswerLost: the graph does not have that answer (any more).
        :raises GraphUnavailable: vitrage-graph did not answer.
        :raises GraphTooOld: the graph speaks a version older than 1.2.
        """
        try:
            answer = self._ask(ctx, 'get_answer_part', token=token,
                               index=index)
        except GraphError as exc:
            if exc.code == 410:
                raise AnswerLost(exc.description)
            raise
        return base64.b64decode(answer['result_gzip'])

    def get_topology(self, ctx: dict, graph_type: str | None,
                     depth: int | None, query: str | None,
                     root: str | None, all_tenants: bool) -> dict:
        """The entity graph or a walk of it (rest-api-v1.md 4.3).

        :param ctx: the caller's request context.
        :param graph_type: ``graph`` or ``tree``.
        :param depth: hop limit from ``root``, or None.
        :param query: vertex filter (JSON string), or None.
        :param root: vitrage_id to start from, or None for the cluster.
        :param all_tenants: every project's vertices (admin only).
        :returns: node-link (5.1) or tree (5.2) dict.
        :raises GraphError: 400 bad parameter or query, 403 graph with
            depth but no root, 404 unknown root or not a tree, 503 not
            ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        """
        return self._call(ctx, 'get_topology', graph_type=graph_type,
                          depth=depth, query=query, root=root,
                          all_tenants=all_tenants)

    def list_resources(self, ctx: dict, resource_type: str | None,
                       all_tenants: bool, query: str | None) -> list:
        """Resource vertices visible to the caller (rest-api-v1.md 4.4).

        :param ctx: the caller's request context.
        :param resource_type: only this ``vitrage_type``, or None.
        :param all_tenants: every project's resources (admin only).
        :param query: vertex filter (JSON string), or None.
        :returns: a list of property dicts.
        :raises GraphError: 400 bad query, 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        """
        return self._call(ctx, 'list_resources',
                          resource_type=resource_type,
                          all_tenants=all_tenants, query=query)

    def show_resource(self, ctx: dict, vitrage_id: str) -> dict:
        """One resource vertex (rest-api-v1.md 4.5).

        :param ctx: the caller's request context.
        :param vitrage_id: the resource's vitrage_id.
        :returns: its property dict.
        :raises GraphError: 404 unknown or not visible, 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        """
        return self._call(ctx, 'show_resource', vitrage_id=vitrage_id)

    def count_resources(self, ctx: dict, resource_type: str | None,
                        all_tenants: bool, query: str | None,
                        group_by: str | None) -> dict:
        """Resource counts per value of a property (rest-api-v1.md 4.6).

        :param ctx: the caller's request context.
        :param resource_type: only this ``vitrage_type``, or None.
        :param all_tenants: every project's resources (admin only).
        :param query: vertex filter (JSON string), or None.
        :param group_by: property to group by (None: ``vitrage_type``).
        :returns: ``{value: count}``.
        :raises GraphError: 400 bad query, 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        """
        return self._call(ctx, 'count_resources',
                          resource_type=resource_type,
                          all_tenants=all_tenants, query=query,
                          group_by=group_by)

    def show_alarm(self, ctx: dict, vitrage_id: str) -> dict:
        """One live alarm vertex (rest-api-v1.md 4.8).

        :param ctx: the caller's request context.
        :param vitrage_id: the alarm's vitrage_id.
        :returns: its property dict.
        :raises GraphError: 404 unknown, deleted, not an alarm or (for a
            non-admin caller) not of the caller's project, 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        :raises GraphTooOld: the graph speaks a version older than 1.1.
        """
        return self._call(ctx, 'show_alarm', vitrage_id=vitrage_id)

    def list_alarms(self, ctx: dict, vitrage_id: str | None,
                    all_tenants: bool) -> list:
        """Live alarm vertices visible to the caller (4.7 without alarm
        history: the API pages, sorts and filters them).

        :param ctx: the caller's request context.
        :param vitrage_id: only the alarms on this resource; None or
            ``all`` for every alarm.
        :param all_tenants: every project's alarms (admin only).
        :returns: a list of property dicts.
        :raises GraphError: 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        :raises GraphTooOld: the graph speaks a version older than 1.1.
        """
        return self._call(ctx, 'list_alarms', vitrage_id=vitrage_id,
                          all_tenants=all_tenants)

    def get_rca(self, ctx: dict, alarm_id: str, all_tenants: bool) -> dict:
        """The live causal graph around an alarm (4.11 without alarm
        history).

        :param ctx: the caller's request context.
        :param alarm_id: the alarm's vitrage_id.
        :param all_tenants: cross every project's alarms (admin only).
        :returns: node-link dict (5.1) with ``inspected_index``; empty
            for an unknown or invisible alarm.
        :raises GraphError: 503 not ready.
        :raises GraphUnavailable: vitrage-graph did not answer.
        :raises GraphTooOld: the graph speaks a version older than 1.1.
        """
        return self._call(ctx, 'get_rca', alarm_id=alarm_id,
                          all_tenants=all_tenants)

    def get_status(self, ctx: dict) -> dict:
        """Whether vitrage-graph is up and initialised (4.24).

        Waits at most :data:`STATUS_TIMEOUT` seconds.

        :param ctx: the caller's request context.
        :returns: ``{"reason": "OK"}``.
        :raises GraphError: 503 ``vitrage-graph is not ready``.
        :raises GraphUnavailable: vitrage-graph did not answer.
        """
        return self._call(ctx, 'get_status', timeout=self._status_timeout)


def _version_le(first: str, second: str) -> bool:
    """Whether version ``first`` is at most ``second`` (``X.Y`` each)."""
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split('.'))
    return key(first) <= key(second)


class PreEncoded(str):
    """A result that is JSON text already: the API sends it unchanged."""

    def decode(self) -> Any:
        """The result as Python objects (for callers that need them)."""
        return json.loads(self)


class GzipEncoded(bytes):
    """A result that is gzipped JSON already (large answers)."""

    def text(self) -> str:
        return zlib.decompress(self, GZIP_WBITS).decode('utf-8')

    def decode_result(self) -> Any:
        """The result as Python objects (for callers that need them)."""
        return json.loads(self.text())


#: Answers longer than this many bytes of JSON travel gzipped.
COMPRESS_ABOVE = 256 * 1024

#: zlib's window bits for the gzip format.
GZIP_WBITS = 16 + zlib.MAX_WBITS


def pack_json(parts: Iterable[bytes]) -> str | bytes:
    """A JSON answer given in pieces, ready to travel: the text up to
    :data:`COMPRESS_ABOVE` bytes, else the gzip bytes.

    A large answer is gzipped as it is read (ISA-L's deflate, five times
    zlib's speed at level 1 and smaller: a 100k-vertex topology, 80 MB of
    JSON, in 0.05 s, to 9 MB); the API sends the gzip bytes on to clients
    that accept them. The whole JSON text is never held at once.
    """
    pending: list[bytes] = []
    size = 0
    compressor = None
    out: list[bytes] = []
    for part in parts:
        if compressor is not None:
            out.append(compressor.compress(part))
            continue
        pending.append(part)
        size += len(part)
        if size > COMPRESS_ABOVE:
            compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED,
                                               GZIP_WBITS)
            out = [compressor.compress(p) for p in pending]
            pending = []
    if compressor is None:
        return b''.join(pending).decode('utf-8')
    out.append(compressor.flush())
    return b''.join(out)


class AnswerParts:
    """The large answers whose later parts a client has yet to fetch.

    At most ``keep`` answers are kept, each for ``ttl`` seconds at most,
    and an answer goes once its last part is taken.

    :param part_size: bytes per part.
    :param keep: how many answers to keep at once.
    :param ttl: seconds an answer is kept.
    """

    def __init__(self, part_size: int, keep: int = 8,
                 ttl: float = 120.0) -> None:
        self.part_size = part_size
        self._keep = keep
        self._ttl = ttl
        self._lock = threading.Lock()
        #: token -> (expiry, data)
        self._answers: collections.OrderedDict[str, tuple[float, bytes]] = \
            collections.OrderedDict()

    def message(self, data: bytes) -> dict:
        """The first message of ``data``, keeping the rest if it has more
        than one part.
        """
        size = self.part_size
        if len(data) <= size:
            return {'result_gzip': base64.b64encode(data).decode('ascii')}
        parts = -(-len(data) // size)
        token = uuid.uuid4().hex
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            self._answers[token] = (now + self._ttl, data)
            while len(self._answers) > self._keep:
                self._answers.popitem(last=False)
        first = base64.b64encode(memoryview(data)[:size]).decode('ascii')
        return {'result_gzip': first,
                'more': {'token': token, 'parts': parts}}

    def part(self, token: str, index: int) -> dict | None:
        """The message of part ``index`` (from 1), or None when that
        answer or part is not kept.
        """
        size = self.part_size
        with self._lock:
            self._expire(time.monotonic())
            kept = self._answers.get(token)
            if kept is None or not isinstance(index, int) or index < 1:
                return None
            data = kept[1]
            start = index * size
            if start >= len(data):
                return None
            if start + size >= len(data):
                del self._answers[token]          # the last part
        return {'result_gzip': base64.b64encode(
            memoryview(data)[start:start + size]).decode('ascii')}

    def _expire(self, now: float) -> None:
        for token in [t for t, (expiry, _) in self._answers.items()
                      if expiry < now]:
            del self._answers[token]


class GraphEndpoint:
    """Server side of the graph RPC API, run by vitrage-graph.

    :param holder: the graph service's state: ``graph`` (the
        :class:`EntityGraph`), ``lock`` (held while reading it) and
        ``is_ready()``.
    """

    target = oslo_messaging.Target(version=API_VERSION)

    def __init__(self, holder: GraphHolder,
                 part_size: int = 10 * 1024 * 1024) -> None:
        self._holder = holder
        self._parts = AnswerParts(part_size)

    def _answer(self, ctx: dict, failure: str,
                view: Callable[..., Any], **kwargs: Any) -> dict:
        """Run a view under the graph lock.

        A view that gives JSON pieces (:data:`views.JSONParts`: the large
        answers) is read and packed under the lock (:func:`pack_json`),
        and the API sends the text on as it is: a 100k-vertex topology is
        encoded once, straight from the graph, instead of being copied
        into dicts, turned into message structures, decoded and encoded
        again. Other results travel as ``{"result": ...}``.
        """
        if ctx.get('require_ready', True) and not self._holder.is_ready():
            return _error(503, NOT_READY)
        caller = _caller(ctx)
        try:
            with self._holder.lock:
                result = view(self._holder.graph, caller, **kwargs)
                if not isinstance(result, Iterator):
                    return {'result': result}
                packed = pack_json(result)
            if isinstance(packed, str):
                return {'result_json': packed}
            if not ctx.get('answer_parts'):
                # A client older than 1.2 takes the answer whole.
                return {'result_gzip': base64.b64encode(packed).decode(
                    'ascii')}
            return self._parts.message(packed)
        except NotFound as exc:
            LOG.debug('%s %s', failure, exc)
            return _error(404, failure, str(exc))
        except BadRequest as exc:
            return _error(400, str(exc))
        except views.Forbidden as exc:
            return _error(403, str(exc))
        except Exception as exc:
            # One bad request must not take the graph service down: log
            # it and answer it; the next request is served as usual.
            LOG.exception('%s (request %s)', failure, kwargs)
            return _error(500, failure, '%s: %s' % (type(exc).__name__,
                                                    exc))

    def get_topology(self, ctx: dict, graph_type: str | None,
                     depth: int | None, query: str | None,
                     root: str | None, all_tenants: bool) -> dict:
        """See :meth:`GraphClient.get_topology`.

        :param ctx: the caller's request context.
        :param graph_type: ``graph`` or ``tree``.
        :param depth: hop limit from ``root``, or None.
        :param query: vertex filter (JSON string), or None.
        :param root: vitrage_id to start from, or None for the cluster.
        :param all_tenants: every project's vertices.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to get topology.',
                            views.topology_json,
                            graph_type=graph_type, depth=depth, query=query,
                            root=root, all_tenants=all_tenants)

    def list_resources(self, ctx: dict, resource_type: str | None,
                       all_tenants: bool, query: str | None) -> dict:
        """See :meth:`GraphClient.list_resources`.

        :param ctx: the caller's request context.
        :param resource_type: only this ``vitrage_type``, or None.
        :param all_tenants: every project's resources.
        :param query: vertex filter (JSON string), or None.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to list resources.',
                            views.list_resources_json,
                            resource_type=resource_type,
                            all_tenants=all_tenants, query=query)

    def show_resource(self, ctx: dict, vitrage_id: str) -> dict:
        """See :meth:`GraphClient.show_resource`.

        :param ctx: the caller's request context.
        :param vitrage_id: the resource's vitrage_id.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to show resource.',
                            views.show_resource, vitrage_id=vitrage_id)

    def count_resources(self, ctx: dict, resource_type: str | None,
                        all_tenants: bool, query: str | None,
                        group_by: str | None) -> dict:
        """See :meth:`GraphClient.count_resources`.

        :param ctx: the caller's request context.
        :param resource_type: only this ``vitrage_type``, or None.
        :param all_tenants: every project's resources.
        :param query: vertex filter (JSON string), or None.
        :param group_by: property to group by.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to get resource count.',
                            views.count_resources,
                            resource_type=resource_type,
                            all_tenants=all_tenants, query=query,
                            group_by=group_by)

    def show_alarm(self, ctx: dict, vitrage_id: str) -> dict:
        """See :meth:`GraphClient.show_alarm`.

        :param ctx: the caller's request context.
        :param vitrage_id: the alarm's vitrage_id.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to show alarm.', show_alarm_view,
                            vitrage_id=vitrage_id)

    def list_alarms(self, ctx: dict, vitrage_id: str | None,
                    all_tenants: bool) -> dict:
        """See :meth:`GraphClient.list_alarms`.

        :param ctx: the caller's request context.
        :param vitrage_id: only the alarms on this resource, or None.
        :param all_tenants: every project's alarms.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to get alarms', list_alarms_view,
                            vitrage_id=vitrage_id, all_tenants=all_tenants)

    def get_rca(self, ctx: dict, alarm_id: str, all_tenants: bool) -> dict:
        """See :meth:`GraphClient.get_rca`.

        :param ctx: the caller's request context.
        :param alarm_id: the alarm's vitrage_id.
        :param all_tenants: cross every project's alarms.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        return self._answer(ctx, 'Failed to get RCA', rca_view,
                            alarm_id=alarm_id, all_tenants=all_tenants)

    def get_answer_part(self, ctx: dict, token: str, index: int) -> dict:
        """See :meth:`GraphClient.get_answer_part`.

        :param ctx: the caller's request context.
        :param token: the ``more.token`` of the first answer.
        :param index: which part, from 1.
        :raises: nothing; an answer not (or no longer) kept is a 410
            error.
        """
        message = self._parts.part(token, index)
        if message is None:
            return _error(410, 'Part %s of answer %s is not kept by this '
                          'vitrage-graph' % (index, token))
        return message

    def get_status(self, ctx: dict) -> dict:
        """See :meth:`GraphClient.get_status`.

        :param ctx: the caller's request context.
        :raises: nothing; errors are returned as ``{"error": ...}``.
        """
        if not self._holder.is_ready():
            return _error(503, NOT_READY)
        return {'result': {'reason': 'OK'}}


def show_alarm_view(graph: EntityGraph, ctx: dict, vitrage_id: str) -> dict:
    """One live ALARM vertex's properties (section 4.8).

    :raises NotFound: unknown id, not an alarm, deleted or a placeholder,
        or (non-admin caller) an alarm of neither the caller's project nor
        a resource of it.
    """
    v = graph.get_vertex(vitrage_id)
    if v is None or v.get(Prop.CATEGORY) != Category.ALARM or \
            v.get(Prop.IS_DELETED) or v.get(Prop.IS_PLACEHOLDER):
        raise NotFound("No alarm with vitrage_id '%s'" % vitrage_id)
    if not ctx.get('is_admin') and not views.visibility(ctx)(v):
        raise NotFound("No alarm with vitrage_id '%s'" % vitrage_id)
    return dict(v)


def _live_alarm(v: dict) -> bool:
    return (v.get(Prop.CATEGORY) == Category.ALARM and
            not v.get(Prop.IS_DELETED) and not v.get(Prop.IS_PLACEHOLDER))


def _alarm_scope(ctx: dict, all_tenants: bool) -> Callable[[dict], bool]:
    if all_tenants:
        return lambda v: True
    return views.visibility(ctx)


def list_alarms_view(graph: EntityGraph, ctx: dict,
                     vitrage_id: str | None = None,
                     all_tenants: bool = False) -> list[dict]:
    """Live ALARM vertices the caller may see, of one resource or all."""
    visible = _alarm_scope(ctx, all_tenants)
    resource = None if vitrage_id in (None, 'all') else vitrage_id
    return [dict(v) for v in graph.vertices(
        lambda v: _live_alarm(v) and visible(v) and
        (resource is None or v.get(Prop.RESOURCE_ID) == resource))]


def rca_view(graph: EntityGraph, ctx: dict, alarm_id: str,
             all_tenants: bool = False) -> dict:
    """The root cause analysis of ``alarm_id`` on the live graph
    (rest-api-v1.md 4.11: format 5.1 plus ``inspected_index``, the
    requested alarm first).

    The alarm, what causes it (live ``causes`` edges followed upstream
    only, towards causes, at any depth) and what it causes (followed
    downstream only). An alarm that only shares an effect or a cause
    with the requested one is not related. Links are the edges followed.
    Alarms the caller may not see are not crossed.

    :param graph: the entity graph.
    :param ctx: the caller's request context.
    :param alarm_id: the vitrage_id of the alarm.
    :param all_tenants: see every project's alarms.
    """
    visible = _alarm_scope(ctx, all_tenants)
    answer = {'directed': True, 'multigraph': True, 'graph': {},
              'inspected_index': 0, 'nodes': [], 'links': []}
    root = graph.get_vertex(alarm_id)
    if root is None or not _live_alarm(root) or not visible(root):
        return answer

    def usable(vid: str) -> bool:
        v = graph.get_vertex(vid)
        return v is not None and _live_alarm(v) and visible(v)

    order = [alarm_id]
    edges: dict[tuple[str, str], tuple[str, str, str, dict]] = {}
    for direction in (driver.IN, driver.OUT):
        for edge in causal_walk(graph, alarm_id, direction, usable):
            # In a causal cycle both walks follow the same edges.
            edges.setdefault(edge[:2], edge)
            for vid in edge[:2]:
                if vid not in order:
                    order.append(vid)
    index = {vid: position for position, vid in enumerate(order)}
    for position, vid in enumerate(order):
        node = dict(graph.get_vertex(vid))
        if node.get(Prop.ID) is None:
            node[Prop.ID] = vid
        node[Prop.GRAPH_INDEX] = position
        answer['nodes'].append(node)
    for src, dst, label, data in edges.values():
        link = {'source': index[src], 'target': index[dst],
                'key': label, Prop.RELATIONSHIP_TYPE: label}
        link.update(data)
        answer['links'].append(link)
    return answer


def causal_walk(graph: EntityGraph, start: str, direction: str,
                usable: Callable[[str], bool]
                ) -> Iterator[tuple[str, str, str, dict]]:
    """The live ``causes`` edges reached from ``start`` going one way
    only, breadth first, each once.

    :param graph: the entity graph.
    :param start: the vitrage_id to start from (not checked).
    :param direction: ``IN`` (towards causes) or ``OUT`` (towards
        effects).
    :param usable: whether an alarm may be reached and crossed.
    """
    reached = {start}
    frontier = [start]
    seen_edges = set()
    while frontier:
        following = []
        for vid in frontier:
            for src, dst, label, data in graph.edges(
                    vid, direction, EdgeLabel.CAUSES):
                if data.get(Prop.IS_DELETED) or (src, dst) in seen_edges:
                    continue
                other = src if direction == driver.IN else dst
                if other not in reached:
                    if not usable(other):
                        continue
                    reached.add(other)
                    following.append(other)
                seen_edges.add((src, dst))
                yield src, dst, label, data
        frontier = following


def _caller(ctx: dict) -> dict:
    roles = ctx.get('roles') or []
    return {'user_id': ctx.get('user_id'),
            'project_id': ctx.get('project_id'),
            'roles': list(roles),
            'is_admin': bool(ctx.get('is_admin'))}


def _error(code: int, description: str, detail: str | None = None) -> dict:
    error: dict[str, Any] = {'code': code, 'description': description}
    if detail:
        error['detail'] = detail
    return {'error': error}


def get_server(conf: cfg.ConfigOpts, transport: oslo_messaging.Transport,
               holder: GraphHolder, server: str) -> Any:
    """An RPC server answering the graph API (not started).

    :param conf: the configuration (``[entity_graph] topic``).
    :param transport: an oslo.messaging RPC transport.
    :param holder: the graph service state (see :class:`GraphEndpoint`).
    :param server: this server's name (e.g. the host name).
    """
    target = oslo_messaging.Target(topic=conf.entity_graph.topic,
                                   server=server)
    endpoint = GraphEndpoint(holder, conf.entity_graph.answer_part_size)
    return oslo_messaging.get_rpc_server(
        transport, target, [endpoint], executor='threading')
