"""Transformer of static entities (entities.md section 8)."""
from vitrage.common.constants import Category
from vitrage.common.constants import Envelope
from vitrage.common.constants import Prop
from vitrage.common import exceptions
from vitrage.datasources.base import EntityUpdate
from vitrage.datasources.base import Neighbor
from vitrage.datasources.base import resource_key
from vitrage.datasources.base import TransformerBase


class StaticTransformer(TransformerBase):
    """A static entity, with the relationships of its files.

    The vertex type is the entity's ``type``; its extra properties become
    vertex properties. A related entity of another datasource's type is a
    non-placeholder neighbour holding only its category, type and id.
    """

    def transform(self, event: dict) -> EntityUpdate:
        """Turn one static entity event into an update.

        :param event: an event of the static driver, with its envelope.
        :raises vitrage.common.exceptions.MalformedEvent: without ``type``,
            ``id`` or the sample date, or with a malformed relationship.
        """
        entity_type, entity_id, sample = self.require(
            event, 'type', 'id', Envelope.SAMPLE_DATE)
        properties = dict(event.get('properties') or ())
        properties[Prop.CATEGORY] = Category.RESOURCE
        properties[Prop.TYPE] = entity_type
        properties[Prop.ID] = entity_id
        properties[Prop.SAMPLE_TIMESTAMP] = sample
        properties[Prop.DATASOURCE_NAME] = event.get(Envelope.DATASOURCE_NAME)
        name = event.get('name')
        if name is not None:
            properties[Prop.NAME] = name
        state = event.get('state')
        if state is not None:
            properties[Prop.STATE] = state
        neighbors = []
        for relationship in event.get('relationships') or ():
            try:
                other_type = relationship['type']
                other_id = relationship['id']
                label = relationship['relationship_type']
                outgoing = bool(relationship['outgoing'])
            except (KeyError, TypeError) as exc:
                raise exceptions.MalformedEvent(
                    'static event %s %r: relationship %r lacks %s' % (
                        entity_type, entity_id, relationship, exc)) from exc
            other = {Prop.CATEGORY: Category.RESOURCE,
                     Prop.TYPE: other_type,
                     Prop.ID: other_id}
            foreign = relationship.get('foreign', False)
            if not foreign:
                other[Prop.SAMPLE_TIMESTAMP] = sample
                if relationship.get('name') is not None:
                    other[Prop.NAME] = relationship['name']
                if relationship.get('state') is not None:
                    other[Prop.STATE] = relationship['state']
            neighbors.append(Neighbor(resource_key(other_type, other_id),
                                      label, outgoing, other,
                                      placeholder=not foreign))
        return EntityUpdate(resource_key(entity_type, entity_id),
                            self.graph_action(event), properties, neighbors)
