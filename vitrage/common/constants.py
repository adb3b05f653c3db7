"""Names that are part of the compatibility contract (entities.md).

Property names, categories, labels and action names appear in templates,
API output, notifications and history, so they are spelled once, here.
"""


class Prop:
    """Vertex and edge property names."""

    VITRAGE_ID = 'vitrage_id'
    CATEGORY = 'vitrage_category'
    TYPE = 'vitrage_type'
    IS_DELETED = 'vitrage_is_deleted'
    IS_PLACEHOLDER = 'vitrage_is_placeholder'
    SAMPLE_TIMESTAMP = 'vitrage_sample_timestamp'
    UPDATE_TIMESTAMP = 'update_timestamp'
    DATASOURCE_NAME = 'vitrage_datasource_name'
    CACHED_ID = 'vitrage_cached_id'
    IS_REAL_VITRAGE_ID = 'is_real_vitrage_id'
    ID = 'id'
    NAME = 'name'
    STATE = 'state'
    PROJECT_ID = 'project_id'
    AGGREGATED_STATE = 'vitrage_aggregated_state'
    OPERATIONAL_STATE = 'vitrage_operational_state'
    VITRAGE_STATE = 'vitrage_state'
    IS_MARKED_DOWN = 'is_marked_down'
    SEVERITY = 'severity'
    AGGREGATED_SEVERITY = 'vitrage_aggregated_severity'
    OPERATIONAL_SEVERITY = 'vitrage_operational_severity'
    RESOURCE_ID = 'vitrage_resource_id'
    RESOURCE_TYPE = 'vitrage_resource_type'
    RESOURCE_PROJECT_ID = 'vitrage_resource_project_id'
    RELATIONSHIP_TYPE = 'relationship_type'
    GRAPH_INDEX = 'graph_index'


class Category:
    RESOURCE = 'RESOURCE'
    ALARM = 'ALARM'


class EdgeLabel:
    CONTAINS = 'contains'
    ON = 'on'
    ATTACHED = 'attached'
    COMPRISED = 'comprised'
    CAUSES = 'causes'
    ATTACHED_PUBLIC = 'attached_public'
    ATTACHED_PRIVATE = 'attached_private'
    CONNECT = 'connect'
    MANAGED_BY = 'managed_by'


class DatasourceAction:
    """Values of the ``vitrage_datasource_action`` envelope key."""

    INIT_SNAPSHOT = 'init_snapshot'
    SNAPSHOT = 'snapshot'
    UPDATE = 'update'

    ALL = (INIT_SNAPSHOT, SNAPSHOT, UPDATE)


class GraphAction:
    CREATE_ENTITY = 'create_entity'
    UPDATE_ENTITY = 'update_entity'
    DELETE_ENTITY = 'delete_entity'
    UPDATE_RELATIONSHIP = 'update_relationship'
    DELETE_RELATIONSHIP = 'delete_relationship'
    REMOVE_DELETED_ENTITY = 'remove_deleted_entity'

    ALL = (CREATE_ENTITY, UPDATE_ENTITY, DELETE_ENTITY, UPDATE_RELATIONSHIP,
           DELETE_RELATIONSHIP, REMOVE_DELETED_ENTITY)


class Envelope:
    """Keys a driver adds to every entity event (entities.md section 5.1)."""

    ENTITY_TYPE = 'vitrage_entity_type'
    DATASOURCE_ACTION = 'vitrage_datasource_action'
    SAMPLE_DATE = 'vitrage_sample_date'
    EVENT_TYPE = 'vitrage_event_type'
    DATASOURCE_NAME = 'vitrage_datasource_name'


class UpdateMethod:
    PUSH = 'push'
    PULL = 'pull'
    NONE = 'none'

    ALL = (PUSH, PULL, NONE)


class ResourceState:
    """Normalised (operational) resource states."""

    OK = 'OK'
    TRANSIENT = 'TRANSIENT'
    SUBOPTIMAL = 'SUBOPTIMAL'
    ERROR = 'ERROR'
    DELETED = 'DELETED'
    NA = 'N/A'

    ALL = (OK, TRANSIENT, SUBOPTIMAL, ERROR, DELETED, NA)


class AlarmSeverity:
    """Normalised (operational) alarm severities."""

    CRITICAL = 'CRITICAL'
    SEVERE = 'SEVERE'
    WARNING = 'WARNING'
    OK = 'OK'
    NA = 'N/A'

    ALL = (CRITICAL, SEVERE, WARNING, OK, NA)


class AlarmState:
    ACTIVE = 'Active'
    INACTIVE = 'Inactive'


CLUSTER_TYPE = 'openstack.cluster'
CLUSTER_ID = 'OpenStack Cluster'
CLUSTER_NAME = 'openstack.cluster'
CLUSTER_STATE = 'available'

UNDEFINED_DATASOURCE = 'undefined datasource'
