"""The processor: entity events in, vertex and edge changes out.

For each event the datasource's transformer gives an
:class:`~vitrage.datasources.base.EntityUpdate`; the processor applies it
to the :class:`~vitrage.graph.driver.EntityGraph` following entities.md
sections 1-5: merge semantics, placeholders, retiring edges a new state no
longer lists, two-phase deletion, and out-of-order protection.

Listeners (the evaluator, the notifier, alarm history) subscribe with
:meth:`Processor.add_listener` and see every vertex and edge change with
its state before and after.

Deletions the graph decides itself (outdated entities after a full
snapshot, consistency's removal of long-deleted vertices) are events too:
*consistency events* (``vitrage_entity_type: consistency``, the vertex
addressed by ``vitrage_id``, the graph action in ``vitrage_event_type``),
made by :func:`consistency_event` and applied through
:meth:`Processor.process_event` like any other. :meth:`delete_outdated`
and :meth:`remove_deleted` return the ones they applied, so that the
graph logs them and a restore (snapshot + replay) reproduces them.
"""
from collections.abc import Iterable
from typing import Protocol

from oslo_log import log

from vitrage.common.constants import Category
from vitrage.common.constants import CLUSTER_TYPE
from vitrage.common.constants import DatasourceAction
from vitrage.common.constants import Envelope
from vitrage.common.constants import GraphAction
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.common import timeutils
from vitrage.datasources.base import cached_id
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import TransformerBase
from vitrage.datasources.base import vitrage_id
from vitrage.graph.driver import EntityGraph
from vitrage.graph.states import StateNormalizer

LOG = log.getLogger(__name__)

_DELETED_EDGE = {Prop.IS_DELETED: True}

#: ``vitrage_entity_type`` of the events the graph makes itself
#: (entities.md section 5.5).
CONSISTENCY_TYPE = 'consistency'
#: The graph actions a consistency event may carry.
CONSISTENCY_ACTIONS = (GraphAction.DELETE_ENTITY,
                       GraphAction.REMOVE_DELETED_ENTITY)


def consistency_event(action: str, vertex_id: str, sample_ts: str) -> dict:
    """An event of the graph's own making about one vertex.

    :param action: ``delete_entity`` (mark deleted, phase one) or
        ``remove_deleted_entity`` (remove for good, phase two).
    :param vertex_id: the vertex's ``vitrage_id``.
    :param sample_ts: the deletion's sample timestamp.
    :raises ValueError: on another action.
    """
    if action not in CONSISTENCY_ACTIONS:
        raise ValueError('a consistency event is one of %s, not %r'
                         % (', '.join(CONSISTENCY_ACTIONS), action))
    return {Envelope.ENTITY_TYPE: CONSISTENCY_TYPE,
            Envelope.DATASOURCE_ACTION: DatasourceAction.UPDATE,
            Envelope.EVENT_TYPE: action,
            Envelope.SAMPLE_DATE: sample_ts,
            Prop.VITRAGE_ID: vertex_id}


class ConsistencyTransformer(TransformerBase):
    """Consistency events (:func:`consistency_event`) -> entity updates
    addressing the vertex by id.
    """

    def transform(self, event: dict) -> EntityUpdate:
        """:raises vitrage.common.exceptions.MalformedEvent: on a missing
            ``vitrage_id`` or sample date, or another graph action.
        """
        vertex_id, sample_ts = self.require(event, Prop.VITRAGE_ID,
                                            Envelope.SAMPLE_DATE)
        action = event.get(Envelope.EVENT_TYPE)
        if action not in CONSISTENCY_ACTIONS:
            raise exceptions.MalformedEvent(
                'consistency event of %s has %s %r, expected one of %s'
                % (vertex_id, Envelope.EVENT_TYPE, action,
                   ', '.join(CONSISTENCY_ACTIONS)))
        if not isinstance(vertex_id, str) or not isinstance(sample_ts, str):
            raise exceptions.MalformedEvent(
                'consistency event: %s and %s must be strings, got %r and '
                '%r' % (Prop.VITRAGE_ID, Envelope.SAMPLE_DATE, vertex_id,
                        sample_ts))
        return EntityUpdate(None, action, {Prop.SAMPLE_TIMESTAMP: sample_ts},
                            vertex_id=vertex_id)


class ChangeListener(Protocol):
    """Receives graph changes; ``before``/``after`` are None when the
    element did not exist before / was removed.
    """

    def vertex_changed(self, vertex_id: str, before: dict | None,
                       after: dict | None) -> None:
        ...

    def edge_changed(self, source_id: str, target_id: str, label: str,
                     before: dict | None, after: dict | None) -> None:
        ...


class Processor:
    """Applies entity events to the entity graph."""

    def __init__(self, graph: EntityGraph,
                 transformers: dict[str, TransformerBase],
                 states: StateNormalizer) -> None:
        """
        :param graph: the graph to change.
        :param transformers: by datasource name (``vitrage_datasource_name``
            of events); events of other names are looked up by their
            ``vitrage_entity_type``.
        :param states: computes aggregated states and severities.
        """
        self.graph = graph
        self.transformers = transformers
        self.states = states
        self._listeners: list[ChangeListener] = []
        self._consistency = ConsistencyTransformer(None, CONSISTENCY_TYPE)
        self.stats = {'events': 0, 'ignored_old': 0, 'malformed': 0}

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    # -- entry points ------------------------------------------------
    def process_event(self, event: dict) -> None:
        """Transform and apply one entity event.

        :param event: an entity event with its envelope keys, or a
            consistency event (:func:`consistency_event`).
        :raises vitrage.common.exceptions.MalformedEvent: when no
            transformer takes the event or it is malformed; the graph is
            unchanged then.
        """
        if not isinstance(event, dict):
            raise exceptions.MalformedEvent(
                'an entity event must be a mapping, not %s' %
                type(event).__name__)
        entity_type = event.get(Envelope.ENTITY_TYPE)
        transformer = self.transformers.get(
            event.get(Envelope.DATASOURCE_NAME)) or self.transformers.get(
            entity_type)
        if transformer is None and entity_type == CONSISTENCY_TYPE:
            transformer = self._consistency
        if transformer is None:
            raise exceptions.MalformedEvent(
                'no enabled datasource takes events of %r (type %r)' % (
                    event.get(Envelope.DATASOURCE_NAME),
                    event.get(Envelope.ENTITY_TYPE)))
        self.apply(transformer.transform(event))

    def process_events(self, events: Iterable[dict]) -> int:
        """Apply many events; a malformed one is logged and skipped.

        :returns: the number of malformed events.
        """
        bad = 0
        for event in events:
            try:
                self.process_event(event)
            except exceptions.MalformedEvent as exc:
                bad += 1
                self.stats['malformed'] += 1
                LOG.error('dropping malformed entity event: %s', exc)
        return bad

    def apply(self, update: EntityUpdate) -> None:
        """Apply one typed update to the graph."""
        self.stats['events'] += 1
        action = update.action
        if action in (GraphAction.CREATE_ENTITY, GraphAction.UPDATE_ENTITY):
            self._upsert(update)
        elif action == GraphAction.DELETE_ENTITY:
            self._delete(update)
        elif action == GraphAction.UPDATE_RELATIONSHIP:
            self._relationships(update, delete=False)
        elif action == GraphAction.DELETE_RELATIONSHIP:
            self._relationships(update, delete=True)
        elif action == GraphAction.REMOVE_DELETED_ENTITY:
            self._remove(update)

    # -- vertices ----------------------------------------------------
    def _vertex_id(self, update: EntityUpdate) -> str:
        if update.vertex_id is not None:
            return update.vertex_id
        if not update.key:
            raise exceptions.MalformedEvent('update without entity key')
        return vitrage_id(update.key)

    def _is_stale(self, vertex: dict | None, sample_ts: str | None) -> bool:
        if vertex is None or sample_ts is None:
            return False
        if vertex.get(Prop.IS_PLACEHOLDER):
            return False
        stored = vertex.get(Prop.SAMPLE_TIMESTAMP)
        if stored is not None and stored > sample_ts:
            self.stats['ignored_old'] += 1
            return True
        return False

    def _upsert(self, update: EntityUpdate) -> None:
        props = update.properties
        sample_ts = props.get(Prop.SAMPLE_TIMESTAMP)
        if sample_ts is None:
            raise exceptions.MalformedEvent(
                'update of %s has no %s' % (update.key, Prop.SAMPLE_TIMESTAMP))
        vid = self._vertex_id(update)
        graph = self.graph
        vertex = graph.get_vertex(vid)
        if self._is_stale(vertex, sample_ts):
            return
        props[Prop.IS_DELETED] = False
        props[Prop.IS_PLACEHOLDER] = False
        listeners = self._listeners
        before = dict(vertex) if (listeners and vertex is not None) else None
        new = vertex is None
        if new and update.key is None:
            raise exceptions.MalformedEvent(
                'update of vertex %s, which does not exist' % vid)
        for n in update.neighbors:
            # Checked before any change: an event is applied whole or not.
            if n.key is None and graph.get_vertex(n.vertex_id) is None:
                raise exceptions.MalformedEvent(
                    'neighbour %s does not exist' % n.vertex_id)
        if new:
            props[Prop.CACHED_ID] = cached_id(update.key)
            props[Prop.IS_REAL_VITRAGE_ID] = True
            vertex = graph.add_vertex(vid, props)
        else:
            vertex = graph.update_vertex(vid, props)
        self.states.apply(vertex)
        if listeners:
            self._vertex_changed(vid, before, vertex)
        if update.neighbors:
            # A new vertex has no older edges to retire.
            self._link(vid, vertex, update.neighbors, sample_ts,
                       prune=not new)

    def _delete(self, update: EntityUpdate) -> None:
        vid = self._vertex_id(update)
        vertex = self.graph.get_vertex(vid)
        sample_ts = update.properties.get(Prop.SAMPLE_TIMESTAMP)
        if vertex is None or self._is_stale(vertex, sample_ts):
            return
        self.delete_vertex(vid, sample_ts or timeutils.sample_now())

    def delete_vertex(self, vid: str, sample_ts: str) -> None:
        """Mark a vertex and its edges deleted (phase one of deletion)."""
        graph = self.graph
        vertex = graph.get_vertex(vid)
        if vertex is None:
            return
        before = dict(vertex) if self._listeners else None
        graph.update_vertex(vid, {Prop.IS_DELETED: True,
                                  Prop.SAMPLE_TIMESTAMP: sample_ts})
        if self._listeners:
            self._vertex_changed(vid, before, vertex)
        others = []
        for src, dst, label, data in list(graph.edges(vid)):
            if not data.get(Prop.IS_DELETED):
                self._mark_edge_deleted(src, dst, label, data, sample_ts)
                others.append(dst if src == vid else src)
        for other in others:
            self._drop_orphan_placeholder(other)

    def _remove(self, update: EntityUpdate) -> None:
        vid = self._vertex_id(update)
        vertex = self.graph.get_vertex(vid)
        if vertex is None:
            return
        if vertex.get(Prop.TYPE) == CLUSTER_TYPE:
            return
        self.remove_vertex(vid)

    def remove_vertex(self, vid: str) -> None:
        """Remove a vertex and its edges from the graph for good."""
        graph = self.graph
        vertex = graph.get_vertex(vid)
        if vertex is None:
            return
        if self._listeners:
            for src, dst, label, data in list(graph.edges(vid)):
                self._edge_changed(src, dst, label, dict(data), None)
            self._vertex_changed(vid, dict(vertex), None)
        graph.remove_vertex(vid)

    # -- edges -------------------------------------------------------
    def _relationships(self, update: EntityUpdate, delete: bool) -> None:
        vid = self._vertex_id(update)
        vertex = self.graph.get_vertex(vid)
        sample_ts = update.properties.get(Prop.SAMPLE_TIMESTAMP) or \
            timeutils.sample_now()
        if vertex is None:
            if delete:
                return
            # A relationship to an entity not seen yet: its placeholder.
            props = dict(update.properties)
            vertex = self._ensure_neighbor(
                vid, Neighbor(update.key, '', True, props), sample_ts)
        if not delete:
            self._link(vid, vertex, update.neighbors, sample_ts, prune=False)
            return
        for n in update.neighbors:
            nid = n.vertex_id or vitrage_id(n.key)
            src, dst = (vid, nid) if n.outgoing else (nid, vid)
            data = self.graph.get_edge(src, dst, n.label)
            if data is not None and not data.get(Prop.IS_DELETED):
                self._mark_edge_deleted(src, dst, n.label, data, sample_ts)
                self._drop_orphan_placeholder(nid)

    def _link(self, vid: str, vertex: dict, neighbors: list[Neighbor],
              sample_ts: str, prune: bool) -> None:
        graph = self.graph
        wanted = set()
        kinds = set()
        edge_props = {Prop.UPDATE_TIMESTAMP: sample_ts}
        for n in neighbors:
            nid = n.vertex_id or vitrage_id(n.key)
            neighbor = self._ensure_neighbor(nid, n, sample_ts)
            if n.outgoing:
                src, dst = vid, nid
            else:
                src, dst = nid, vid
            wanted.add((src, dst, n.label))
            kinds.add((neighbor.get(Prop.CATEGORY), neighbor.get(Prop.TYPE),
                       n.outgoing))
            data = graph.get_edge(src, dst, n.label)
            if data is None or data.get(Prop.IS_DELETED):
                before = dict(data) if data is not None else None
                data = graph.add_edge(src, dst, n.label, edge_props)
                if self._listeners:
                    self._edge_changed(src, dst, n.label, before, data)
        if not prune:
            return
        retired = []
        for src, dst, label, data in graph.edges(vid):
            if data.get(Prop.IS_DELETED) or (src, dst, label) in wanted:
                continue
            outgoing = src == vid
            other = graph.get_vertex(dst if outgoing else src)
            if (other.get(Prop.CATEGORY), other.get(Prop.TYPE),
                    outgoing) in kinds:
                retired.append((src, dst, label, data))
        for src, dst, label, data in retired:
            self._mark_edge_deleted(src, dst, label, data, sample_ts)
            self._drop_orphan_placeholder(dst if src == vid else src)

    def _ensure_neighbor(self, nid: str, n: Neighbor, sample_ts: str
                         ) -> dict:
        graph = self.graph
        neighbor = graph.get_vertex(nid)
        if neighbor is None:
            if n.key is None:
                raise exceptions.MalformedEvent(
                    'neighbour %s does not exist' % nid)
            props = dict(n.properties)
            props.setdefault(Prop.SAMPLE_TIMESTAMP, sample_ts)
            props[Prop.IS_PLACEHOLDER] = n.placeholder
            props[Prop.IS_DELETED] = False
            props[Prop.CACHED_ID] = cached_id(n.key)
            props[Prop.IS_REAL_VITRAGE_ID] = True
            neighbor = graph.add_vertex(nid, props)
            self.states.apply(neighbor)
            if self._listeners:
                self._vertex_changed(nid, None, neighbor)
            return neighbor
        if n.placeholder:
            if not neighbor.get(Prop.IS_PLACEHOLDER):
                # A real vertex: what a referrer knows of it adds nothing.
                return neighbor
            missing = {k: v for k, v in n.properties.items()
                       if k not in neighbor}
            if missing:
                before = dict(neighbor) if self._listeners else None
                graph.update_vertex(nid, missing)
                self.states.apply(neighbor)
                if self._listeners:
                    self._vertex_changed(nid, before, neighbor)
            return neighbor
        # Real data about the neighbour (e.g. a zone reporting its hosts).
        changes = {k: v for k, v in n.properties.items()
                   if neighbor.get(k) != v and k != Prop.SAMPLE_TIMESTAMP}
        if neighbor.get(Prop.IS_PLACEHOLDER):
            changes[Prop.IS_PLACEHOLDER] = False
        if neighbor.get(Prop.IS_DELETED):
            changes[Prop.IS_DELETED] = False
        if changes:
            before = dict(neighbor) if self._listeners else None
            if neighbor.get(Prop.SAMPLE_TIMESTAMP, '') < sample_ts:
                changes[Prop.SAMPLE_TIMESTAMP] = sample_ts
            graph.update_vertex(nid, changes)
            self.states.apply(neighbor)
            if self._listeners:
                self._vertex_changed(nid, before, neighbor)
        return neighbor

    def _mark_edge_deleted(self, src: str, dst: str, label: str,
                           data: dict, sample_ts: str) -> None:
        before = data
        data = self.graph.update_edge(src, dst, label, {
            Prop.IS_DELETED: True, Prop.UPDATE_TIMESTAMP: sample_ts})
        if self._listeners:
            self._edge_changed(src, dst, label, before, data)

    def _drop_orphan_placeholder(self, vid: str) -> None:
        vertex = self.graph.get_vertex(vid)
        if vertex is None or not vertex.get(Prop.IS_PLACEHOLDER) or \
                vertex.get(Prop.TYPE) == CLUSTER_TYPE:
            return
        for _s, _d, _l, data in self.graph.edges(vid):
            if not data.get(Prop.IS_DELETED):
                return
        self.remove_vertex(vid)

    # -- bulk operations ---------------------------------------------
    def outdated_events(self, datasource_name: str, before_ts: str
                        ) -> list[dict]:
        """The consistency events that delete the live vertices of a
        datasource not sampled since ``before_ts`` (after a full snapshot,
        entities.md section 5.4); nothing is applied yet.

        :param datasource_name: the datasource sampled in full.
        :param before_ts: when that sample started.
        :returns: one ``delete_entity`` event per vertex.
        """
        stale = [v[Prop.VITRAGE_ID] for v in self.graph.vertices()
                 if v.get(Prop.DATASOURCE_NAME) == datasource_name
                 and not v.get(Prop.IS_DELETED)
                 and not v.get(Prop.IS_PLACEHOLDER)
                 and v.get(Prop.TYPE) != CLUSTER_TYPE
                 and v.get(Prop.SAMPLE_TIMESTAMP, '') < before_ts]
        # Never older than the vertices it deletes (a collector's clock
        # ahead of ours), so no deletion is taken for an old event.
        when = max(timeutils.sample_now(), before_ts)
        return [consistency_event(GraphAction.DELETE_ENTITY, vid, when)
                for vid in stale]

    def removal_events(self, deleted_before: str) -> list[dict]:
        """The consistency events that remove for good the vertices marked
        deleted before a time (consistency, section 5.5); nothing is
        applied yet.

        :param deleted_before: the sample timestamp they were deleted
            before.
        :returns: one ``remove_deleted_entity`` event per vertex.
        """
        doomed = [v[Prop.VITRAGE_ID] for v in self.graph.vertices()
                  if v.get(Prop.IS_DELETED)
                  and v.get(Prop.TYPE) != CLUSTER_TYPE
                  and v.get(Prop.SAMPLE_TIMESTAMP, '') < deleted_before]
        now = timeutils.sample_now()
        return [consistency_event(GraphAction.REMOVE_DELETED_ENTITY, vid,
                                  now) for vid in doomed]

    def delete_outdated(self, datasource_name: str, before_ts: str
                        ) -> list[dict]:
        """Apply :meth:`outdated_events`.

        :param datasource_name: the datasource sampled in full.
        :param before_ts: when that sample started.
        :returns: the consistency events applied, in order, for the event
            log (one per vertex deleted).
        """
        return self._apply_own(self.outdated_events(datasource_name,
                                                    before_ts))

    def remove_deleted(self, deleted_before: str) -> list[dict]:
        """Apply :meth:`removal_events`.

        :param deleted_before: the sample timestamp they were deleted
            before.
        :returns: the consistency events applied, in order, for the event
            log (one per vertex removed).
        """
        return self._apply_own(self.removal_events(deleted_before))

    def _apply_own(self, events: list[dict]) -> list[dict]:
        """Apply consistency events through the path a replay takes."""
        for event in events:
            self.process_event(event)
        return events

    # -- notifications -----------------------------------------------
    def _vertex_changed(self, vid: str, before: dict | None,
                        after: dict | None) -> None:
        for listener in self._listeners:
            listener.vertex_changed(vid, before, after)

    def _edge_changed(self, src: str, dst: str, label: str,
                      before: dict | None, after: dict | None) -> None:
        for listener in self._listeners:
            listener.edge_changed(src, dst, label, before, after)


def is_live(vertex: dict | None) -> bool:
    """Neither deleted nor a placeholder."""
    return vertex is not None and not vertex.get(Prop.IS_DELETED) and \
        not vertex.get(Prop.IS_PLACEHOLDER)


def is_alarm(vertex: dict) -> bool:
    return vertex.get(Prop.CATEGORY) == Category.ALARM
