"""Read-only views of the entity graph served to vitrage-api.

These functions run inside vitrage-graph, under the graph's lock, and
return plain JSON-able structures (fresh dicts, never the graph's live
property dicts, so the caller may serialise them after the lock is
released). The large answers (topology, resource list) also come as
JSON text in pieces written straight from the graph (``*_json``), which
the caller reads while it still holds the lock. Semantics:
rest-api-v1.md sections 1.5 (tenancy), 4.3-4.6 (topology and resources)
and 5 (output formats).

Every function takes the caller's request context, a dict::

    {"user_id": str | None, "project_id": str | None,
     "roles": [str, ...], "is_admin": bool}

Tenancy: a caller sees the vertices of its own project; an admin also
sees vertices without a ``project_id`` (cluster, zones, hosts, most
alarms). Alarms are visible when their own project or their resource's
project is the caller's (for an admin, also when both are unset). An
admin of no project (a no-auth request without identity headers) is not
scoped at all.

Walks (tree output, or graph output with root and depth) and the paths
added from the cluster to a scoped caller's vertices may also keep or
cross the resources of no project (cluster, zones, hosts), as upstream
did, so that a member's tree still starts at the cluster; alarms of other
projects are never crossed.
"""
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections import deque
import json
from typing import Any

import orjson

from vitrage.common.constants import Category
from vitrage.common.constants import CLUSTER_TYPE
from vitrage.common.constants import Prop
from vitrage.common.exceptions import BadRequest
from vitrage.common.exceptions import NotFound
from vitrage.common.exceptions import VitrageError
from vitrage.graph.driver import EntityGraph
from vitrage.graph.query import compile_query

GRAPH = 'graph'
TREE = 'tree'
GRAPH_TYPES = (GRAPH, TREE)

GRAPH_NEEDS_ROOT = "Graph-type 'graph' requires a 'root' with 'depth'"

Predicate = Callable[[dict], bool]

#: JSON text in pieces, written straight from the graph (see
#: :func:`topology_json`); read it while holding the graph's lock.
JSONParts = Iterator[bytes]

#: Vertices (or links) per piece of :data:`JSONParts`.
PART_SIZE = 4096

_NODE_LINK_HEAD = (b'{"directed":true,"multigraph":true,"graph":{},'
                   b'"raw":true,"nodes":[')


class Forbidden(VitrageError):
    """The caller may not do this (HTTP 403)."""


# -- request context and tenancy ------------------------------------------

def _project(ctx: dict) -> str | None:
    return ctx.get('project_id') or None


def _unscoped(ctx: dict, all_tenants: bool) -> bool:
    """True when the caller sees every vertex."""
    if all_tenants:
        return True
    return bool(ctx.get('is_admin')) and _project(ctx) is None


def visibility(ctx: dict) -> Predicate:
    """The predicate "the caller may see this vertex" (section 1.5).

    ``all_tenants`` is not considered here.
    """
    project = _project(ctx)
    admin = bool(ctx.get('is_admin'))
    if admin and project is None:
        return _everything

    def visible(v: dict) -> bool:
        if v.get(Prop.CATEGORY) == Category.ALARM:
            own = v.get(Prop.PROJECT_ID)
            resource = v.get(Prop.RESOURCE_PROJECT_ID)
            if project is not None and (own == project or
                                        resource == project):
                return True
            return admin and own is None and resource is None
        owner = v.get(Prop.PROJECT_ID)
        if owner is None:
            return admin
        return owner == project
    return visible


def _passable(ctx: dict) -> Predicate:
    """Vertices a scoped walk may keep or cross.

    The visible ones plus the resources that belong to no project
    (cluster, zones, hosts), which connect a project's vertices to the
    cluster.
    """
    visible = visibility(ctx)
    if visible is _everything:
        return _everything

    def passable(v: dict) -> bool:
        if visible(v):
            return True
        return (v.get(Prop.CATEGORY) == Category.RESOURCE and
                v.get(Prop.PROJECT_ID) is None)
    return passable


def _everything(_vertex: dict) -> bool:
    return True


def _both(a: Predicate | None, b: Predicate | None) -> Predicate | None:
    if a is None or a is _everything:
        return b
    if b is None or b is _everything:
        return a
    return lambda v: a(v) and b(v)


def _default_topology_vertex(v: dict, _deleted: str = Prop.IS_DELETED,
                             _placeholder: str = Prop.IS_PLACEHOLDER,
                             _category: str = Prop.CATEGORY,
                             _categories: tuple = (Category.RESOURCE,
                                                   Category.ALARM)) -> bool:
    """Non-deleted, non-placeholder RESOURCE or ALARM vertices."""
    return (not v.get(_deleted) and not v.get(_placeholder) and
            v.get(_category) in _categories)


def _query(query: Any) -> Predicate | None:
    if query is None or query == '':
        return None
    return compile_query(query)


def cluster_vertex(graph: EntityGraph) -> dict | None:
    """The ``openstack.cluster`` vertex (a non-deleted one if possible)."""
    found = None
    for v in graph.vertices():
        if v.get(Prop.TYPE) == CLUSTER_TYPE:
            if not v.get(Prop.IS_DELETED):
                return v
            found = found or v
    return found


# -- adjacency -------------------------------------------------------------

def _adjacency(graph: EntityGraph) -> tuple[dict, dict, dict]:
    """The graph's vertex, successor and predecessor dicts.

    These are the plain dicts networkx keeps (``_node``, ``_succ``,
    ``_pred``: the data structure networkx documents for subclasses).
    The walks below read them directly: networkx's public views cost
    several times more at 100k vertices. Read-only use.
    """
    nxg = graph.networkx
    return nxg._node, nxg._succ, nxg._pred


# -- topology ---------------------------------------------------------------

def topology(graph: EntityGraph, ctx: dict, graph_type: str | None = GRAPH,
             depth: int | None = None, query: Any = None,
             root: str | None = None, all_tenants: bool = False) -> dict:
    """The entity graph, or part of it, as ``POST /v1/topology`` answers.

    The parsed form of :func:`topology_json` (same arguments, same
    errors), for callers in this process.

    :returns: section 5.1 or 5.2 output.
    """
    return json.loads(b''.join(topology_json(
        graph, ctx, graph_type=graph_type, depth=depth, query=query,
        root=root, all_tenants=all_tenants)))


def topology_json(graph: EntityGraph, ctx: dict,
                  graph_type: str | None = GRAPH, depth: int | None = None,
                  query: Any = None, root: str | None = None,
                  all_tenants: bool = False) -> JSONParts:
    """The answer of ``POST /v1/topology`` as JSON text, in pieces.

    The request is checked at once; the pieces are then written from
    the live graph as they are read, so read them all while holding the
    graph's lock. A whole-graph answer is never built as dicts first:
    at 100k vertices that took most of the time of the call.

    :param graph: the entity graph (the caller holds its lock).
    :param ctx: the caller's request context.
    :param graph_type: ``graph`` (node-link) or ``tree``.
    :param depth: hop limit of the walk from ``root``.
    :param query: vertex filter (section 6), JSON string or dict.
    :param root: vitrage_id of the walk's start (default: the cluster).
    :param all_tenants: show every project's vertices.
    :returns: section 5.1 or 5.2 output, as JSON text in pieces.
    :raises Forbidden: ``graph`` with ``depth`` but without ``root``.
    :raises BadRequest: bad graph_type, depth or query.
    :raises NotFound: unknown root, or a tree requested where the walk is
        not a tree.
    """
    graph_type = graph_type or GRAPH
    if graph_type not in GRAPH_TYPES:
        raise BadRequest("Invalid graph_type '%s': expected 'graph' or "
                         "'tree'" % graph_type)
    if depth is not None and (isinstance(depth, bool) or
                              not isinstance(depth, int) or depth < 0):
        raise BadRequest('Invalid depth %r: expected a non-negative '
                         'integer' % (depth,))
    if graph_type == GRAPH and depth is not None and root is None:
        raise Forbidden(GRAPH_NEEDS_ROOT)
    matches = _query(query)
    if root is not None:
        root_vertex = graph.get_vertex(root)
        if root_vertex is None:
            raise NotFound("Unknown root vertex '%s'" % root)
    else:
        root_vertex = cluster_vertex(graph)

    if graph_type == TREE or depth is not None:
        if root_vertex is None:
            return (iter([b'{}']) if graph_type == TREE
                    else _node_link_json(graph, [], ()))
        scope = None if all_tenants else _passable(ctx)
        order, parents, edges = _walk(graph, root_vertex[Prop.VITRAGE_ID],
                                      depth, _both(matches, scope))
        if graph_type == TREE:
            return iter([encode_json(_tree(graph, order, parents, edges))])
        return _node_link_json(graph, order, _walk_links_json(order, edges))

    if matches is None:
        matches = _default_topology_vertex
    if _unscoped(ctx, all_tenants):
        selected = [vid for vid, v in graph.networkx._node.items()
                    if matches(v)]
    else:
        visible = visibility(ctx)
        selected = [vid for vid, v in graph.networkx._node.items()
                    if matches(v) and visible(v)]
        if root_vertex is not None and _passable(ctx)(root_vertex):
            selected = _with_paths(graph, ctx, root_vertex[Prop.VITRAGE_ID],
                                   selected)
    return _node_link_json(graph, selected,
                           _induced_links_json(graph, selected))


def _walk(graph: EntityGraph, root_id: str, depth: int | None,
          keep: Predicate | None
          ) -> tuple[list[str], list[int], list[tuple]]:
    """Breadth-first walk from ``root_id``.

    The walk follows live edges in both directions, through vertices
    passing ``keep``, expanding a vertex while its distance is below
    ``depth``.

    :returns: (vertex ids in visiting order, the index in that order of
        each vertex's discoverer (-1 for the root), the walked edges as
        (source, target, label, properties), each once).
    """
    nodes, succ, pred = _adjacency(graph)
    if keep is not None and not keep(nodes[root_id]):
        return [], [], []
    deleted = Prop.IS_DELETED
    order = [root_id]
    parents = [-1]
    dist = [0]
    index = {root_id: 0}
    rejected: set[str] = set()
    edges: list[tuple] = []
    append_edge = edges.append
    limit = len(nodes) if depth is None else depth
    i = 0
    while i < len(order):
        vid = order[i]
        if dist[i] >= limit:
            i += 1
            continue
        for adjacency, outgoing in ((succ[vid], True), (pred[vid], False)):
            for other, keyed in adjacency.items():
                if other == vid and not outgoing:
                    continue  # a self loop, seen as outgoing
                j = index.get(other)
                if j is None:
                    if other in rejected:
                        continue
                elif j < i:
                    continue  # the edges of expanded vertices are known
                for label, data in keyed.items():
                    if data.get(deleted):
                        continue
                    if j is None:
                        if keep is not None and not keep(nodes[other]):
                            rejected.add(other)
                            break
                        j = index[other] = len(order)
                        order.append(other)
                        parents.append(i)
                        dist.append(dist[i] + 1)
                    if outgoing:
                        append_edge((vid, other, label, data))
                    else:
                        append_edge((other, vid, label, data))
        i += 1
    return order, parents, edges


def _with_paths(graph: EntityGraph, ctx: dict, root_id: str,
                selected: list[str]) -> list[str]:
    """``selected`` plus a shortest path from ``root_id`` to each.

    One BFS over live edges gives every vertex's parent; it crosses only
    live vertices the caller may see (or project-less resources).
    """
    nodes, succ, pred = _adjacency(graph)
    passable = _passable(ctx)
    parent: dict[str, str | None] = {root_id: None}
    queue = deque([root_id])
    while queue:
        vid = queue.popleft()
        for adjacency in (succ[vid], pred[vid]):
            for other, keyed in adjacency.items():
                if other in parent:
                    continue
                v = nodes[other]
                if v.get(Prop.IS_DELETED) or not passable(v):
                    continue
                if all(data.get(Prop.IS_DELETED)
                       for data in keyed.values()):
                    continue
                parent[other] = vid
                queue.append(other)
    included = set(selected)
    result = list(selected)
    for vid in selected:
        up = parent.get(vid)
        while up is not None and up not in included:
            included.add(up)
            result.append(up)
            up = parent[up]
    return result


def _induced_links_json(graph: EntityGraph, vertex_ids: list[str]
                        ) -> Iterator[list[bytes]]:
    """The JSON of the live edges among ``vertex_ids``, a list of links
    at a time, in one pass over the adjacency (no tuples in between: at
    100k vertices the per-edge cost is most of a whole-graph answer).
    """
    _nodes_dict, succ, _pred = _adjacency(graph)
    deleted = Prop.IS_DELETED
    position = {vid: i for i, vid in enumerate(vertex_ids)}.get
    tails: dict[tuple[str, int], bytes] = {}
    part: list[bytes] = []
    append = part.append
    for i, vid in enumerate(vertex_ids):
        out = succ[vid]
        if not out:
            continue
        for dst, keyed in out.items():
            j = position(dst)
            if j is None:
                continue
            for label, data in keyed.items():
                if data.get(deleted):
                    continue
                key = (label, id(data))
                tail = tails.get(key)
                if tail is None:
                    tail = tails[key] = _link_tail(label, data)
                append(b'{"source":%d,"target":%d,%b' % (i, j, tail)
                       if tail else _link_json(i, j, label, data))
        if len(part) >= PART_SIZE:
            yield part
            part = []
            append = part.append
    if part:
        yield part


def _walk_links_json(vertex_ids: list[str], edges: list[tuple]
                     ) -> Iterator[list[bytes]]:
    """The JSON of the edges of a walk (see :func:`_walk`)."""
    index = {vid: i for i, vid in enumerate(vertex_ids)}
    tails: dict[tuple[str, int], bytes] = {}
    for start in range(0, len(edges), PART_SIZE):
        part = []
        for src, dst, label, data in edges[start:start + PART_SIZE]:
            key = (label, id(data))
            tail = tails.get(key)
            if tail is None:
                tail = tails[key] = _link_tail(label, data)
            i, j = index[src], index[dst]
            part.append(b'{"source":%d,"target":%d,%b' % (i, j, tail)
                        if tail else _link_json(i, j, label, data))
        yield part


def encode_json(value: Any) -> bytes:
    """JSON of a (large) answer, with orjson: a 100k-vertex topology in
    0.1 s instead of 1-2 s with the standard library. Values orjson does
    not take (non-string keys, sets...) fall back to :func:`json.dumps`.
    """
    try:
        return orjson.dumps(value)
    except TypeError:        # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, default=str).encode('utf-8')


def _node(vertex: dict, vid: str, position: int) -> dict:
    """A copy of a vertex's properties for output: ``graph_index`` is its
    position, and ``id`` defaults to the vitrage_id.
    """
    node = vertex.copy()
    if node.get(Prop.ID) is None:
        node[Prop.ID] = vid
    node[Prop.GRAPH_INDEX] = position
    return node


def _nodes(graph: EntityGraph, vertex_ids: list[str]) -> list[dict]:
    """The output copies (:func:`_node`) of these vertices."""
    nodes = graph.networkx._node
    return [_node(nodes[vid], vid, i) for i, vid in enumerate(vertex_ids)]


def _node_json(vertex: dict, vid: str, position: int) -> bytes:
    """JSON of :func:`_node`, without copying the vertex when it can."""
    if vertex.get(Prop.ID) is not None and Prop.GRAPH_INDEX not in vertex:
        try:
            return (orjson.dumps(vertex)[:-1] +
                    b',"graph_index":%d}' % position)
        except TypeError:
            pass
    return encode_json(_node(vertex, vid, position))


_OWN_LINK_KEYS = frozenset(('source', 'target', 'key'))


def _link_json(source: int, target: int, label: str, data: dict) -> bytes:
    """JSON of one node-link ``links`` entry: source, target, key and
    relationship_type, then the edge's properties (which do not override
    the first three).
    """
    return encode_json({'source': source, 'target': target, 'key': label,
                        Prop.RELATIONSHIP_TYPE: label,
                        **{k: v for k, v in data.items()
                           if k not in _OWN_LINK_KEYS}})


def _link_tail(label: str, data: dict) -> bytes:
    """What follows ``"source":N,"target":M,`` in the JSON of the links
    of an edge with this label and property dict; empty when the
    properties hold one of those names (then :func:`_link_json` writes
    the link whole).

    Edges share their property dicts (see :meth:`EntityGraph.add_edge`):
    a tail is made once per dict and label, keyed by ``id(data)``, which
    is stable while the graph's lock is held.
    """
    if not _OWN_LINK_KEYS.isdisjoint(data):
        return b''
    return encode_json({'key': label, Prop.RELATIONSHIP_TYPE: label,
                        **data})[1:]


def _node_link_json(graph: EntityGraph, vertex_ids: list[str],
                    links: Iterable[list[bytes]]) -> JSONParts:
    """Section 5.1 (node-link) output as JSON pieces: the vertices (each
    one ``orjson.dumps`` of its live property dict), then ``links``.
    """
    nodes = graph.networkx._node
    yield _NODE_LINK_HEAD
    for start in range(0, len(vertex_ids), PART_SIZE):
        part = b','.join([
            _node_json(nodes[vid], vid, i) for i, vid in enumerate(
                vertex_ids[start:start + PART_SIZE], start)])
        yield part if start == 0 else b',' + part
    yield b'],"links":['
    separator = b''
    for part in links:
        if part:
            yield separator + b','.join(part)
            separator = b','
    yield b']}'


def _tree(graph: EntityGraph, order: list[str], parents: list[int],
          edges: list[tuple]) -> dict:
    """Section 5.2 output of a walk.

    Each vertex's children are the vertices the walk discovered from it.
    """
    if not order:
        return {}
    if len(edges) != len(order) - 1:
        raise NotFound('The topology is not a tree: %d vertices are joined '
                       'by %d edges' % (len(order), len(edges)))
    nodes = _nodes(graph, order)
    for i in range(1, len(nodes)):
        parent = nodes[parents[i]]
        children = parent.get('children')
        if children is None:
            parent['children'] = [nodes[i]]
        else:
            children.append(nodes[i])
    return nodes[0]


# -- resources --------------------------------------------------------------

def _resource_filter(ctx: dict, resource_type: str | None, query: Any,
                     all_tenants: bool) -> Predicate:
    matches = _query(query)
    visible = None if _unscoped(ctx, all_tenants) else visibility(ctx)

    def select(v: dict) -> bool:
        if (v.get(Prop.CATEGORY) != Category.RESOURCE or
                v.get(Prop.IS_DELETED) or v.get(Prop.IS_PLACEHOLDER)):
            return False
        if resource_type is not None and v.get(Prop.TYPE) != resource_type:
            return False
        if matches is not None and not matches(v):
            return False
        return visible is None or visible(v)
    return select


def list_resources(graph: EntityGraph, ctx: dict,
                   resource_type: str | None = None, all_tenants: bool = False,
                   query: Any = None) -> list[dict]:
    """Live RESOURCE vertices visible to the caller (section 4.4).

    :param resource_type: only vertices of this ``vitrage_type``.
    :param all_tenants: every project's resources.
    :param query: vertex filter (section 6).
    :raises BadRequest: invalid query.
    """
    return json.loads(b''.join(list_resources_json(
        graph, ctx, resource_type=resource_type, all_tenants=all_tenants,
        query=query)))


def list_resources_json(graph: EntityGraph, ctx: dict,
                        resource_type: str | None = None,
                        all_tenants: bool = False,
                        query: Any = None) -> JSONParts:
    """:func:`list_resources` as JSON text in pieces, each vertex written
    with one ``orjson.dumps`` of its live property dict: read them all
    while holding the graph's lock.

    :raises BadRequest: invalid query (at once).
    """
    select = _resource_filter(ctx, resource_type, query, all_tenants)
    return _list_json(graph.vertices(select))


def _list_json(vertices: Iterable[dict]) -> JSONParts:
    yield b'['
    separator = b''
    part = []
    for vertex in vertices:
        part.append(encode_json(vertex))
        if len(part) == PART_SIZE:
            yield separator + b','.join(part)
            separator = b','
            part = []
    if part:
        yield separator + b','.join(part)
    yield b']'


def show_resource(graph: EntityGraph, ctx: dict, vitrage_id: str) -> dict:
    """One RESOURCE vertex's properties (section 4.5).

    :raises NotFound: unknown id, not a resource, or another project's
        resource and the caller is not an admin.
    """
    v = graph.get_vertex(vitrage_id)
    if v is None or v.get(Prop.CATEGORY) != Category.RESOURCE:
        raise NotFound("No resource with vitrage_id '%s'" % vitrage_id)
    if not ctx.get('is_admin'):
        project = _project(ctx)
        if project is None or v.get(Prop.PROJECT_ID) != project:
            raise NotFound("No resource with vitrage_id '%s'" % vitrage_id)
    return dict(v)


def count_resources(graph: EntityGraph, ctx: dict,
                    resource_type: str | None = None,
                    all_tenants: bool = False, query: Any = None,
                    group_by: str | None = None) -> dict[str, int]:
    """Resource counts grouped by a property (section 4.6).

    :param group_by: property to group by (default ``vitrage_type``);
        vertices without it count under ``""``.
    :raises BadRequest: invalid query or group_by.
    """
    group_by = group_by or Prop.TYPE
    if not isinstance(group_by, str):
        raise BadRequest('Invalid group_by %r: expected a property name'
                         % (group_by,))
    select = _resource_filter(ctx, resource_type, query, all_tenants)
    counts: dict[str, int] = {}
    for v in graph.vertices(select):
        key = _group_key(v.get(group_by))
        counts[key] = counts.get(key, 0) + 1
    return counts


def _group_key(value: Any) -> str:
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)
