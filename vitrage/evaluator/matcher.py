"""Finding the bindings of scenario clauses in the entity graph.

A *binding* maps the entity keys of one DNF clause
(:class:`~vitrage.evaluator.model.Clause`) to distinct graph vertex ids
(templates.md section 2: the mapping is injective) such that

* every bound vertex matches its :class:`EntitySpec` (deleted vertices
  and placeholders never do),
* every positive relationship has a live edge with its label between the
  bound source and target,
* every negative relationship holds (section 8.3): no live edge between
  the bound ends, or, for an end that occurs only in negative terms, no
  live edge from the bound end to any vertex matching that end's spec.

The search is local: it starts from *seeds* (entity key -> vertex id, the
changed vertex or the ends of a changed edge) and grows the binding along
the clause's positive relationships, one edge list at a time. Only an
entity the positive pattern does not connect to anything bound (which
templates.md calls unsupported) is looked up by a scan of the graph.
"""
from collections.abc import Iterator
from collections.abc import Mapping

from vitrage.common.constants import Prop
from vitrage.evaluator.model import Clause
from vitrage.evaluator.model import RelationshipSpec
from vitrage.evaluator.model import Scenario
from vitrage.graph.driver import EntityGraph
from vitrage.graph.driver import IN
from vitrage.graph.driver import OUT

Binding = dict[str, str]
#: (vitrage_category, vitrage_type) -> vertex ids: what a full
#: evaluation scans instead of the whole graph.
TypeIndex = dict[tuple[str | None, str | None], list[str]]
#: An edge that changed: (source id, target id, label).
EdgeChange = tuple[str, str, str]
#: The identity of a match: its ``(entity key, vertex id)`` pairs, sorted.
MatchKey = tuple[tuple[str, str], ...]


def match_key(binding: Mapping[str, str]) -> MatchKey:
    """The hashable, order-independent identity of a binding."""
    return tuple(sorted(binding.items()))


class ClauseMatcher:
    """Binds one clause of one scenario in a graph."""

    def __init__(self, graph: EntityGraph, scenario: Scenario,
                 clause: Clause) -> None:
        self.graph = graph
        self.scenario = scenario
        self.clause = clause
        self.entities = {k: scenario.entities[k] for k in clause.entities}
        self.positive = [scenario.relationships[k]
                         for k in clause.relationships]
        self.negative = [scenario.relationships[k]
                         for k in clause.negative_relationships]
        self.negative_only = frozenset(clause.negative_only_entities)
        self.index: TypeIndex | None = None

    # -- public -------------------------------------------------------
    def seeds_for_vertex(self, vertex_id: str) -> list[Binding]:
        """One seed per clause entity the (live) vertex matches."""
        vertex = self.graph.get_vertex(vertex_id)
        if vertex is None:
            return []
        return [{key: vertex_id} for key, spec in self.entities.items()
                if spec.matches(vertex)]

    def seeds_for_edge(self, edge: EdgeChange) -> list[Binding]:
        """One seed per positive relationship of the edge's label (the
        ends are checked when the seed is extended).
        """
        src, dst, label = edge
        return [{rel.source: src, rel.target: dst} if rel.source !=
                rel.target else {rel.source: src}
                for rel in self.positive if rel.label == label and
                (rel.source != rel.target or src == dst)]

    def holds(self, binding: Mapping[str, str]) -> bool:
        """Whether a full binding of this clause still holds."""
        if binding.keys() != self.entities.keys():
            return False
        return next(self.matches(binding), None) is not None

    def matches(self, seed: Mapping[str, str] | None = None
                ) -> Iterator[Binding]:
        """Every full binding that extends ``seed``.

        :param seed: entity key -> vertex id to start from; None or empty
            for a full search (the first entity is found by a scan).
        """
        binding: Binding = {}
        for key, vid in (seed or {}).items():
            if key not in self.entities:
                return
            vertex = self.graph.get_vertex(vid)
            if vertex is None or not self.entities[key].matches(vertex):
                return
            if vid in binding.values():
                return
            binding[key] = vid
        if not self._bound_edges_hold(binding):
            return
        yield from self._extend(binding)

    # -- search -------------------------------------------------------
    def _extend(self, binding: Binding) -> Iterator[Binding]:
        if len(binding) == len(self.entities):
            if self._negatives_hold(binding):
                yield dict(binding)
            return
        key, candidates = self._next_entity(binding)
        spec = self.entities[key]
        used = set(binding.values())
        seen = set()
        for vid in candidates:
            if vid in used or vid in seen:
                continue
            seen.add(vid)
            vertex = self.graph.get_vertex(vid)
            if vertex is None or not spec.matches(vertex):
                continue
            binding[key] = vid
            if self._edges_to_bound_hold(key, binding):
                yield from self._extend(binding)
            del binding[key]

    def _next_entity(self, binding: Binding) -> tuple[str, Iterator[str]]:
        """The next entity to bind and its candidate vertex ids.

        An entity linked by a positive relationship to a bound one is
        preferred: its candidates are that bound vertex's neighbours.
        """
        for rel in self.positive:
            if rel.source in binding and rel.target not in binding:
                return rel.target, self._across(
                    binding[rel.source], rel, OUT)
            if rel.target in binding and rel.source not in binding:
                return rel.source, self._across(
                    binding[rel.target], rel, IN)
        unbound = [k for k in self.entities if k not in binding]
        if not unbound:
            raise AssertionError('no entity left to bind')  # pragma: no cover
        if self.index is None:
            return unbound[0], (v[Prop.VITRAGE_ID]
                                for v in self.graph.vertices())
        # A full evaluation: the entity with the fewest vertices of its
        # category and type.
        options = [(k, self._of_kind(self.entities[k])) for k in unbound]
        return min(options, key=lambda option: len(option[1]))

    def _of_kind(self, spec) -> list[str]:
        index = self.index
        category, vtype = spec.category, spec.vitrage_type
        if vtype is not None:
            found = []
            for (cat, typ), vids in index.items():
                if typ == vtype and category in (None, cat):
                    found.extend(vids)
            return found
        if category is not None:
            return [vid for (cat, _typ), vids in index.items()
                    if cat == category for vid in vids]
        return [vid for vids in index.values() for vid in vids]

    def _across(self, vid: str, rel: RelationshipSpec,
                direction: str) -> Iterator[str]:
        for src, dst, _label, data in self.graph.edges(vid, direction,
                                                       rel.label):
            if rel.matches_edge(data):
                yield dst if direction == OUT else src

    # -- checks -------------------------------------------------------
    def _edge_holds(self, rel: RelationshipSpec, src: str,
                    dst: str) -> bool:
        data = self.graph.get_edge(src, dst, rel.label)
        return data is not None and rel.matches_edge(data)

    def _bound_edges_hold(self, binding: Binding) -> bool:
        return all(self._edge_holds(rel, binding[rel.source],
                                    binding[rel.target])
                   for rel in self.positive
                   if rel.source in binding and rel.target in binding)

    def _edges_to_bound_hold(self, key: str, binding: Binding) -> bool:
        for rel in self.positive:
            if key not in (rel.source, rel.target):
                continue
            if rel.source in binding and rel.target in binding and \
                    not self._edge_holds(rel, binding[rel.source],
                                         binding[rel.target]):
                return False
        return True

    def _negatives_hold(self, binding: Binding) -> bool:
        for rel in self.negative:
            src = binding.get(rel.source)
            dst = binding.get(rel.target)
            if src is not None and dst is not None:
                if self._edge_holds(rel, src, dst):
                    return False
            elif src is not None:
                if self._linked(src, rel, OUT, rel.target):
                    return False
            elif dst is not None:
                if self._linked(dst, rel, IN, rel.source):
                    return False
            elif self._any_edge(rel):
                return False
        return True

    def _linked(self, vid: str, rel: RelationshipSpec, direction: str,
                other_key: str) -> bool:
        """Whether a live ``rel`` edge links ``vid`` to a vertex matching
        the (negative-only) entity ``other_key``.
        """
        spec = self.scenario.entities[other_key]
        for other in self._across(vid, rel, direction):
            vertex = self.graph.get_vertex(other)
            if vertex is not None and spec.matches(vertex):
                return True
        return False

    def _any_edge(self, rel: RelationshipSpec) -> bool:
        """Both ends negative-only (unsupported by templates.md): any
        live edge of the kind between matching vertices.
        """
        source = self.scenario.entities[rel.source]
        target = self.scenario.entities[rel.target]
        for src, dst, _label, data in self.graph.edges(label=rel.label):
            if rel.matches_edge(data) and \
                    source.matches(self.graph.get_vertex(src)) and \
                    target.matches(self.graph.get_vertex(dst)):
                return True
        return False


class ScenarioMatcher:
    """All clauses of a scenario; the union of their bindings."""

    def __init__(self, graph: EntityGraph, scenario: Scenario) -> None:
        self.graph = graph
        self.scenario = scenario
        self.clauses = [ClauseMatcher(graph, scenario, c)
                        for c in scenario.clauses]
        self.negative_labels = frozenset(
            m.scenario.relationships[k].label for m in self.clauses
            for k in m.clause.negative_relationships)

    def match_all(self, index: TypeIndex | None = None
                  ) -> dict[MatchKey, Binding]:
        """Every binding of every clause (a full evaluation).

        :param index: vertex ids by (category, type), so that unlinked
            entities are looked up among their own kind (see
            :func:`type_index`); the whole graph is scanned without it.
        """
        found: dict[MatchKey, Binding] = {}
        for clause in self.clauses:
            clause.index = index
            try:
                for binding in clause.matches():
                    found.setdefault(match_key(binding), binding)
            finally:
                clause.index = None
        return found

    def match_around(self, vertex_ids: set[str],
                     edges: set[EdgeChange] = frozenset()
                     ) -> dict[MatchKey, Binding]:
        """Every binding that binds one of ``vertex_ids`` or uses one of
        ``edges``.

        A vertex seeds every clause entity it matches, an edge every
        positive relationship of its label; the bindings grow from
        there, so the cost depends on the neighbourhood of the changes,
        not on the size of the graph.
        """
        found: dict[MatchKey, Binding] = {}
        for clause in self.clauses:
            for vid in sorted(vertex_ids):
                for seed in clause.seeds_for_vertex(vid):
                    for binding in clause.matches(seed):
                        found.setdefault(match_key(binding), binding)
            for edge in sorted(edges):
                for seed in clause.seeds_for_edge(edge):
                    for binding in clause.matches(seed):
                        found.setdefault(match_key(binding), binding)
        return found

    def holds(self, binding: Mapping[str, str]) -> bool:
        """Whether a binding found before still holds in the graph."""
        return any(clause.holds(binding) for clause in self.clauses)


def type_index(graph: EntityGraph) -> TypeIndex:
    """Vertex ids by (category, type), for :meth:`ScenarioMatcher.match_all`.
    """
    index: TypeIndex = {}
    for vertex in graph.vertices():
        index.setdefault((vertex.get(Prop.CATEGORY), vertex.get(Prop.TYPE)),
                         []).append(vertex[Prop.VITRAGE_ID])
    return index


def match_all(graph: EntityGraph, scenario: Scenario
              ) -> dict[MatchKey, Binding]:
    """Every binding of a scenario in the graph, by match key."""
    return ScenarioMatcher(graph, scenario).match_all()


def match_around(graph: EntityGraph, scenario: Scenario,
                 vertex_ids: set[str]) -> dict[MatchKey, Binding]:
    """Every binding of a scenario that binds one of ``vertex_ids``."""
    return ScenarioMatcher(graph, scenario).match_around(vertex_ids)
