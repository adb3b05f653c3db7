"""A small hand-built entity graph for view, RPC and API tests.

::

    cluster -contains-> zone -contains-> host1 -contains-> inst1 (p1)
                                               -contains-> inst2 (p2)
                             -contains-> host2 -contains-> inst3 (p1)
                                               -contains-> inst4 (p1,
                                                  deleted, deleted edge)
                             -contains-> host3 (placeholder)
    alarm_host1 (zabbix, no project)  -on-> host1
    alarm_inst1 (vitrage, resource p1) -on-> inst1
    alarm_inst2 (aodh, resource p2)   -on-> inst2
    alarm_host1 -causes-> alarm_inst1
"""
from vitrage.common.constants import Category
from vitrage.common.constants import CLUSTER_ID
from vitrage.common.constants import CLUSTER_TYPE
from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.graph.driver import EntityGraph

TS = '2024-05-01T10:00:00Z'

RESOURCES = ('cluster', 'zone', 'host1', 'host2', 'inst1', 'inst2', 'inst3')
ALARMS = ('alarm_host1', 'alarm_inst1', 'alarm_inst2')


def _resource(vtype: str, ident: str, project: str | None = None,
              **extra: object) -> dict:
    props = {Prop.CATEGORY: Category.RESOURCE, Prop.TYPE: vtype,
             Prop.ID: ident, Prop.NAME: ident, Prop.STATE: 'available',
             Prop.IS_DELETED: False, Prop.IS_PLACEHOLDER: False,
             Prop.IS_REAL_VITRAGE_ID: True, Prop.SAMPLE_TIMESTAMP: TS,
             Prop.OPERATIONAL_STATE: 'OK'}
    if project is not None:
        props[Prop.PROJECT_ID] = project
    props.update(extra)
    return props


def _alarm(vtype: str, name: str, resource: str,
           resource_project: str | None) -> dict:
    props = {Prop.CATEGORY: Category.ALARM, Prop.TYPE: vtype,
             Prop.NAME: name, Prop.STATE: 'Active',
             Prop.SEVERITY: 'critical', Prop.IS_DELETED: False,
             Prop.IS_PLACEHOLDER: False, Prop.IS_REAL_VITRAGE_ID: True,
             Prop.SAMPLE_TIMESTAMP: TS, Prop.RESOURCE_ID: resource}
    if resource_project is not None:
        props[Prop.RESOURCE_PROJECT_ID] = resource_project
    return props


def build() -> EntityGraph:
    g = EntityGraph('sample')
    g.add_vertex('cluster', _resource(CLUSTER_TYPE, CLUSTER_ID,
                                      name='openstack.cluster'))
    g.add_vertex('zone', _resource('nova.zone', 'nova'))
    g.add_vertex('host1', _resource('nova.host', 'compute-1'))
    g.add_vertex('host2', _resource('nova.host', 'compute-2'))
    g.add_vertex('host3', _resource('nova.host', 'compute-3',
                                    **{Prop.IS_PLACEHOLDER: True}))
    g.add_vertex('inst1', _resource('nova.instance', 'vm-1', 'p1'))
    g.add_vertex('inst2', _resource('nova.instance', 'vm-2', 'p2'))
    g.add_vertex('inst3', _resource('nova.instance', 'vm-3', 'p1',
                                    state='ERROR'))
    g.add_vertex('inst4', _resource('nova.instance', 'vm-4', 'p1',
                                    **{Prop.IS_DELETED: True}))
    contains = EdgeLabel.CONTAINS
    for src, dst in (('cluster', 'zone'), ('zone', 'host1'),
                     ('zone', 'host2'), ('zone', 'host3'),
                     ('host1', 'inst1'), ('host1', 'inst2'),
                     ('host2', 'inst3'), ('host2', 'inst4')):
        g.add_edge(src, dst, contains)
    g.update_edge('host2', 'inst4', contains, {Prop.IS_DELETED: True})
    g.add_vertex('alarm_host1', _alarm('zabbix', 'host down', 'host1',
                                       None))
    g.add_vertex('alarm_inst1', _alarm('vitrage', 'vm down', 'inst1', 'p1'))
    g.add_vertex('alarm_inst2', _alarm('aodh', 'cpu high', 'inst2', 'p2'))
    g.add_edge('alarm_host1', 'host1', EdgeLabel.ON)
    g.add_edge('alarm_inst1', 'inst1', EdgeLabel.ON)
    g.add_edge('alarm_inst2', 'inst2', EdgeLabel.ON)
    g.add_edge('alarm_host1', 'alarm_inst1', EdgeLabel.CAUSES)
    return g


def member(project: str = 'p1') -> dict:
    return {'user_id': 'u', 'project_id': project, 'roles': ['member'],
            'is_admin': False}


def admin(project: str | None = 'p1') -> dict:
    return {'user_id': 'admin', 'project_id': project, 'roles': ['admin'],
            'is_admin': True}
