"""The entity graph: a networkx ``MultiDiGraph`` of typed vertices and edges.

Vertices are keyed by ``vitrage_id`` and carry their properties as the
node attribute dict; edges are keyed by their label (at most one edge per
(source, target, label), entities.md section 1) and carry
``relationship_type``, ``vitrage_is_deleted`` and, when known,
``update_timestamp``.

The driver hands out the live property dicts for speed: callers outside
the processor must treat them as read-only (copy before changing them).
Memory matters at a million vertices: property names and the values that
repeat across vertices (types, states, timestamps) are interned.
"""
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections import deque
import sys

import networkx as nx

from vitrage.common.constants import Prop

VertexFilter = Callable[[dict], bool]
EdgeFilter = Callable[[str, str, str, dict], bool]

IN = 'in'
_EDGE_ATTRS_CACHE = 100000
OUT = 'out'
BOTH = 'both'

_intern = sys.intern

# Values of these properties are (nearly) unique per vertex: interning
# them would only grow the interpreter's interned-string table.
_UNIQUE_VALUES = frozenset((
    Prop.VITRAGE_ID, Prop.ID, Prop.NAME, Prop.CACHED_ID, Prop.RESOURCE_ID,
    'resource_id', 'instance_name', 'ip_addresses', 'rawtext',
    'description', 'info'))


def intern_properties(properties: dict) -> dict:
    """A copy of ``properties`` with names and repeated values interned."""
    unique = _UNIQUE_VALUES
    return {_intern(k): (_intern(v) if v.__class__ is str
                         and k not in unique and len(v) < 64 else v)
            for k, v in properties.items()}


class EntityGraph:
    """Vertices and labelled edges with the queries the services need."""

    def __init__(self, name: str = 'entity graph',
                 graph: nx.MultiDiGraph | None = None) -> None:
        self.name = name
        self._g = graph if graph is not None else nx.MultiDiGraph()
        self._edge_attrs: dict[tuple, dict] = {}

    # -- size ---------------------------------------------------------
    def num_vertices(self) -> int:
        return self._g.number_of_nodes()

    def num_edges(self) -> int:
        return self._g.number_of_edges()

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def __contains__(self, vertex_id: str) -> bool:
        return vertex_id in self._g._node

    # -- vertices -----------------------------------------------------
    def get_vertex(self, vertex_id: str) -> dict | None:
        """The live property dict of a vertex, or None."""
        return self._g._node.get(vertex_id)

    def add_vertex(self, vertex_id: str, properties: dict) -> dict:
        """Add (or replace the properties of) a vertex; returns its dict.

        None values are left out.
        """
        unique = _UNIQUE_VALUES
        props = {_intern(k): (_intern(v) if v.__class__ is str
                              and k not in unique and len(v) < 64 else v)
                 for k, v in properties.items() if v is not None}
        props[Prop.VITRAGE_ID] = vertex_id
        g = self._g
        node = g._node.get(vertex_id)
        if node is not None:
            node.clear()
            node.update(props)
            return node
        # What MultiDiGraph.add_node does, without its per-call overhead
        # (the processor adds a vertex per event).
        g._succ[vertex_id] = {}
        g._pred[vertex_id] = {}
        g._node[vertex_id] = props
        return props

    def update_vertex(self, vertex_id: str, properties: dict) -> dict:
        """Merge properties into a vertex: a None value removes one.

        :raises KeyError: when the vertex does not exist.
        """
        node = self._g._node[vertex_id]
        for key, value in intern_properties(properties).items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
        return node

    def remove_vertex(self, vertex_id: str) -> None:
        """Remove a vertex and all its edges (no error if absent)."""
        if vertex_id in self._g._node:
            self._g.remove_node(vertex_id)

    def vertices(self, vertex_filter: VertexFilter | None = None
                 ) -> Iterator[dict]:
        """Every vertex's property dict, optionally filtered."""
        if vertex_filter is None:
            return iter(self._g._node.values())
        return (v for v in self._g._node.values() if vertex_filter(v))

    def get_vertices(self, properties: dict | None = None,
                     vertex_filter: VertexFilter | None = None
                     ) -> list[dict]:
        """Vertices whose properties equal every item of ``properties``
        and that pass ``vertex_filter``.
        """
        items = tuple((properties or {}).items())

        def match(v: dict) -> bool:
            for key, value in items:
                if v.get(key) != value:
                    return False
            return vertex_filter is None or vertex_filter(v)
        return [v for v in self._g._node.values() if match(v)]

    # -- edges --------------------------------------------------------
    def get_edge(self, source_id: str, target_id: str,
                 label: str) -> dict | None:
        """The property dict of an edge, or None."""
        try:
            return self._g._succ[source_id][target_id][label]
        except KeyError:
            return None

    def _shared(self, attrs: dict) -> dict:
        """One dict object for all edges with equal properties.

        Edge property dicts are treated as values: they are replaced,
        never changed in place, so edges can share them. At a million
        vertices that saves a dict per edge.
        """
        try:
            key = tuple(attrs.items())
            shared = self._edge_attrs.get(key)
        except TypeError:          # an unhashable property value
            return attrs
        if shared is None:
            if len(self._edge_attrs) >= _EDGE_ATTRS_CACHE:
                self._edge_attrs.clear()
            shared = self._edge_attrs[key] = attrs
        return shared

    def add_edge(self, source_id: str, target_id: str, label: str,
                 properties: dict | None = None) -> dict:
        """Add or replace an edge; both vertices must exist.

        :returns: the edge's (shared, read-only) property dict.
        :raises KeyError: when either vertex is missing.
        """
        g = self._g
        succ = g._succ.get(source_id)
        pred = g._pred.get(target_id)
        if succ is None or pred is None:
            raise KeyError('edge %s -[%s]-> %s: missing vertex' % (
                source_id, label, target_id))
        # Key the adjacency dicts with the vertices' own id strings, not
        # the equal copies the caller computed (85 bytes per copy).
        source_id = g._node[source_id].get(Prop.VITRAGE_ID, source_id)
        target_id = g._node[target_id].get(Prop.VITRAGE_ID, target_id)
        label = _intern(label)
        attrs = {Prop.RELATIONSHIP_TYPE: label, Prop.IS_DELETED: False}
        if properties:
            attrs.update(intern_properties(properties))
        attrs = self._shared(attrs)
        keydict = succ.get(target_id)
        if keydict is None:
            # MultiDiGraph shares one key dict between _succ and _pred.
            keydict = {}
            succ[target_id] = keydict
            pred[source_id] = keydict
        keydict[label] = attrs
        return attrs

    def update_edge(self, source_id: str, target_id: str, label: str,
                    properties: dict) -> dict:
        """Merge properties into an edge (a None value removes one).

        :returns: the edge's new (shared, read-only) property dict.
        :raises KeyError: when the edge does not exist.
        """
        keydict = self._g._succ[source_id][target_id]
        attrs = dict(keydict[label])
        for key, value in intern_properties(properties).items():
            if value is None:
                attrs.pop(key, None)
            else:
                attrs[key] = value
        attrs = self._shared(attrs)
        keydict[label] = attrs
        return attrs

    def remove_edge(self, source_id: str, target_id: str,
                    label: str) -> None:
        """Remove an edge (no error if absent)."""
        if self.get_edge(source_id, target_id, label) is not None:
            self._g.remove_edge(source_id, target_id, key=label)

    def edges(self, vertex_id: str | None = None, direction: str = BOTH,
              label: str | None = None,
              edge_filter: EdgeFilter | None = None
              ) -> Iterator[tuple[str, str, str, dict]]:
        """Edges as (source, target, label, properties).

        :param vertex_id: only the edges of this vertex (all when None).
        :param direction: ``out``, ``in`` or ``both`` relative to
            ``vertex_id``.
        :param label: only edges with this label.
        """
        if vertex_id is None:
            it = self._g.edges(keys=True, data=True)
        else:
            it = self._vertex_edges(vertex_id, direction)
        for src, dst, key, data in it:
            if label is not None and key != label:
                continue
            if edge_filter is not None and not edge_filter(
                    src, dst, key, data):
                continue
            yield src, dst, key, data

    def _vertex_edges(self, vertex_id: str, direction: str
                      ) -> Iterator[tuple[str, str, str, dict]]:
        if vertex_id not in self._g._node:
            return
        if direction in (OUT, BOTH):
            for dst, keys in self._g._succ[vertex_id].items():
                for key, data in keys.items():
                    yield vertex_id, dst, key, data
        if direction in (IN, BOTH):
            for src, keys in self._g._pred[vertex_id].items():
                if direction == BOTH and src == vertex_id:
                    continue  # a self loop was yielded as outgoing
                for key, data in keys.items():
                    yield src, vertex_id, key, data

    def neighbors(self, vertex_id: str, direction: str = BOTH,
                  edge_label: str | None = None,
                  vertex_properties: dict | None = None,
                  vertex_filter: VertexFilter | None = None,
                  include_deleted_edges: bool = False) -> list[dict]:
        """Vertices linked to ``vertex_id``, each once.

        :param edge_label: only across edges with this label.
        :param vertex_properties: neighbours must have these values.
        :param vertex_filter: neighbours must pass this predicate.
        :param include_deleted_edges: also across edges marked deleted.
        """
        seen = set()
        result = []
        items = tuple((vertex_properties or {}).items())
        for src, dst, _key, data in self.edges(vertex_id, direction,
                                               edge_label):
            if not include_deleted_edges and data.get(Prop.IS_DELETED):
                continue
            other = dst if src == vertex_id else src
            if other in seen:
                continue
            seen.add(other)
            v = self._g._node[other]
            if any(v.get(k) != val for k, val in items):
                continue
            if vertex_filter is not None and not vertex_filter(v):
                continue
            result.append(v)
        return result

    # -- walks --------------------------------------------------------
    def bfs(self, root_id: str, depth: int | None = None,
            vertex_filter: VertexFilter | None = None,
            edge_filter: EdgeFilter | None = None,
            direction: str = BOTH) -> tuple[list[str], list[tuple]]:
        """Breadth-first walk from a root.

        A vertex is expanded only while its distance from the root is
        below ``depth`` (depth 1 = the root and its direct neighbours);
        vertices failing ``vertex_filter`` are neither kept nor expanded.

        :returns: (vertex ids in visiting order, the edges walked as
            (source, target, label, properties)); empty when the root is
            missing or fails the filter.
        """
        root = self._g._node.get(root_id)
        if root is None or (vertex_filter and not vertex_filter(root)):
            return [], []
        order = [root_id]
        dist = {root_id: 0}
        walked = []
        queue = deque([root_id])
        while queue:
            vid = queue.popleft()
            d = dist[vid]
            if depth is not None and d >= depth:
                continue
            for src, dst, key, data in self._vertex_edges(vid, direction):
                if edge_filter is not None and not edge_filter(
                        src, dst, key, data):
                    continue
                other = dst if src == vid else src
                if other not in dist:
                    v = self._g._node[other]
                    if vertex_filter is not None and not vertex_filter(v):
                        continue
                    dist[other] = d + 1
                    order.append(other)
                    queue.append(other)
                walked.append((src, dst, key, data))
        return order, _unique_edges(walked)

    def subgraph(self, vertex_ids: Iterable[str]) -> 'EntityGraph':
        """A copy of the graph induced by ``vertex_ids``."""
        return EntityGraph(self.name, self._g.subgraph(vertex_ids).copy())

    def copy(self) -> 'EntityGraph':
        """A deep-enough copy: new dicts for every vertex and edge."""
        return EntityGraph(self.name, self._g.copy())

    @property
    def networkx(self) -> nx.MultiDiGraph:
        """The underlying networkx graph (for pickling and algorithms)."""
        return self._g


def _unique_edges(edges: list[tuple]) -> list[tuple]:
    seen = set()
    result = []
    for edge in edges:
        ident = (edge[0], edge[1], edge[2])
        if ident not in seen:
            seen.add(ident)
            result.append(edge)
    return result
