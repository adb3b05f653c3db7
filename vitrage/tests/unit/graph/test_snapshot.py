"""Graph snapshots: format, round trips, errors, capture of a live graph."""
import datetime
import io
import os
import pickle
import struct
import sys
import threading
import zlib

import networkx as nx
import pytest

from vitrage.common.constants import EdgeLabel
from vitrage.common.constants import Prop
from vitrage.graph.driver import EntityGraph
from vitrage.graph import snapshot
from vitrage.tests import simulated_graph
from vitrage.tests.unit.graph import sample_graph

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def assert_same_graph(a: EntityGraph, b: EntityGraph) -> None:
    assert b.name == a.name
    assert b.num_vertices() == a.num_vertices()
    assert b.num_edges() == a.num_edges()
    assert {v[Prop.VITRAGE_ID]: v for v in b.vertices()} == {
        v[Prop.VITRAGE_ID]: v for v in a.vertices()}
    assert sorted(b.edges(), key=repr) == sorted(a.edges(), key=repr)
    # Incoming adjacency is rebuilt too.
    for vertex in a.vertices():
        vid = vertex[Prop.VITRAGE_ID]
        assert sorted(b.edges(vid, 'in'), key=repr) == sorted(
            a.edges(vid, 'in'), key=repr)


def body(records: list, version: int = 1) -> bytes:
    raw = b''.join(pickle.dumps(r, protocol=5) for r in records)
    return snapshot.HEADER.pack(snapshot.MAGIC, version,
                                snapshot.COMPRESSION_ZLIB) + \
        zlib.compress(raw, 1)


@pytest.fixture(scope='module')
def simulated() -> EntityGraph:
    return simulated_graph.build(3000)


class TestRoundTrip:
    def test_sample_graph_with_alarms_and_a_deleted_edge(self):
        graph = sample_graph.build()
        data = snapshot.dump(graph)
        assert data[:4] == b'VTGS'
        loaded = snapshot.load(data)
        assert_same_graph(graph, loaded)
        assert loaded.get_edge('host2', 'inst4', EdgeLabel.CONTAINS)[
            Prop.IS_DELETED] is True
        assert loaded.get_vertex('alarm_inst1')[Prop.SEVERITY] == 'critical'

    def test_simulated_graph_equals_the_original(self, simulated):
        loaded = snapshot.load(snapshot.dump(simulated))
        assert nx.utils.graphs_equal(simulated.networkx, loaded.networkx)
        assert_same_graph(simulated, loaded)

    def test_empty_graph(self):
        loaded = snapshot.load(snapshot.dump(EntityGraph('empty')))
        assert loaded.name == 'empty'
        assert loaded.num_vertices() == loaded.num_edges() == 0

    def test_graph_attributes_and_plain_values_survive(self):
        graph = EntityGraph('g')
        graph.networkx.graph['built_by'] = 'test'
        graph.add_vertex('a', {'n': 1, 'f': 0.5, 'l': [1, 'x'],
                               'd': {'k': (1, 2)}, 's': {3}, 'b': b'\x00'})
        graph.add_vertex('b', {})
        graph.add_edge('a', 'b', 'on', {'weight': 2})
        graph.add_edge('a', 'a', 'loop')
        loaded = snapshot.load(snapshot.dump(graph))
        assert loaded.networkx.graph == {'built_by': 'test'}
        assert loaded.get_vertex('a') == graph.get_vertex('a')
        assert loaded.get_edge('a', 'b', 'on')['weight'] == 2
        assert loaded.get_edge('a', 'a', 'loop') is not None

    def test_uncompressed_round_trip_and_compression_pays(self, simulated):
        plain = snapshot.dump(simulated, snapshot.COMPRESSION_NONE)
        packed = snapshot.dump(simulated)
        assert snapshot.read_header(plain) == snapshot.Header(1, 0)
        assert snapshot.read_header(packed) == snapshot.Header(1, 1)
        assert len(packed) * 2 < len(plain)
        assert_same_graph(simulated, snapshot.load(plain))

    def test_many_batches(self, simulated, monkeypatch):
        monkeypatch.setattr(snapshot, 'BATCH', 100)
        data = snapshot.dump(simulated, snapshot.COMPRESSION_NONE)
        stream = io.BytesIO(data[snapshot.HEADER.size:])
        records = []
        while stream.tell() < len(data) - snapshot.HEADER.size:
            records.append(pickle.load(stream))
        kinds = [r[0] for r in records[1:]]
        assert kinds.count('v') == -(-simulated.num_vertices() // 100)
        assert kinds.count('e') == -(-simulated.num_edges() // 100)
        assert_same_graph(simulated, snapshot.load(data))

    def test_loaded_graph_keeps_working(self, simulated):
        loaded = snapshot.load(snapshot.dump(simulated))
        vid = next(iter(loaded.vertices()))[Prop.VITRAGE_ID]
        loaded.add_vertex('new', {Prop.TYPE: 'x'})
        loaded.add_edge('new', vid, EdgeLabel.ON)
        assert [e[0] for e in loaded.edges(vid, 'in', EdgeLabel.ON)] == [
            'new']
        loaded.remove_vertex(vid)
        assert loaded.get_vertex('new') is not None
        assert not list(loaded.edges('new'))


class TestMemory:
    """A restored graph shares strings and edge dicts like a built one."""

    def test_property_names_and_repeated_values_are_interned(
            self, simulated):
        loaded = snapshot.load(snapshot.dump(simulated))
        for vertex in loaded.vertices():
            for key in vertex:
                assert key is sys.intern(key)
            assert vertex[Prop.TYPE] is sys.intern(vertex[Prop.TYPE])
            assert vertex[Prop.SAMPLE_TIMESTAMP] is sys.intern(
                vertex[Prop.SAMPLE_TIMESTAMP])

    def test_adjacency_uses_the_vertex_id_objects(self, simulated):
        g = snapshot.load(snapshot.dump(simulated)).networkx
        ids = {vid: vid for vid in g._node}
        for src, neighbours in g._succ.items():
            for dst in neighbours:
                assert dst is ids[dst]
                assert g._node[dst][Prop.VITRAGE_ID] is ids[dst]
            assert src is ids[src]

    def test_equal_edge_property_dicts_are_one_object(self, simulated):
        loaded = snapshot.load(snapshot.dump(simulated))
        dicts = {id(props) for _, _, _, props in loaded.edges()}
        distinct = {tuple(sorted(p.items()))
                    for _, _, _, p in loaded.edges()}
        assert len(dicts) == len(distinct) < loaded.num_edges()


class TestErrors:
    def test_not_bytes(self):
        with pytest.raises(snapshot.SnapshotFormatError, match='bytes'):
            snapshot.load('VTGS')

    def test_too_short(self):
        with pytest.raises(snapshot.SnapshotFormatError, match='shorter'):
            snapshot.load(b'VTG')

    def test_bad_magic(self):
        data = snapshot.dump(sample_graph.build())
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='not a graph snapshot'):
            snapshot.load(b'XXXX' + data[4:])

    def test_unknown_version_names_it(self):
        data = bytearray(snapshot.dump(sample_graph.build()))
        struct.pack_into('>H', data, 4, 99)
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='format 99 is unknown'):
            snapshot.load(bytes(data))

    def test_unknown_compression(self):
        data = bytearray(snapshot.dump(sample_graph.build()))
        data[6] = 7
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='compression id 7'):
            snapshot.load(bytes(data))

    def test_truncated(self, simulated):
        data = snapshot.dump(simulated)
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='truncated'):
            snapshot.load(data[:len(data) // 2])

    def test_truncated_uncompressed(self, simulated):
        data = snapshot.dump(simulated, snapshot.COMPRESSION_NONE)
        with pytest.raises(snapshot.SnapshotFormatError):
            snapshot.load(data[:len(data) // 2])

    def test_flipped_byte(self, simulated):
        data = bytearray(snapshot.dump(simulated))
        data[len(data) // 2] ^= 0xFF
        with pytest.raises(snapshot.SnapshotFormatError, match='corrupt'):
            snapshot.load(bytes(data))

    def test_trailing_bytes(self):
        data = snapshot.dump(sample_graph.build())
        with pytest.raises(snapshot.SnapshotFormatError, match='after'):
            snapshot.load(data + b'junk')

    def test_a_class_reference_is_refused(self):
        data = body([{'name': 'g', 'attrs': {}, 'vertices': 1, 'edges': 0},
                     ('v', [('a', {'when': datetime.datetime(2024, 1, 1)})
                            ])])
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='datetime.*only builtin'):
            snapshot.load(data)

    def test_missing_records_are_detected(self):
        data = body([{'name': 'g', 'attrs': {}, 'vertices': 2, 'edges': 0},
                     ('v', [('a', {})])])
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='incomplete: 1 of 2 vertices'):
            snapshot.load(data)

    def test_edge_to_unknown_vertex(self):
        data = body([{'name': 'g', 'attrs': {}, 'vertices': 1, 'edges': 1},
                     ('v', [('a', {})]), ('e', [(0, 5, 'on', {})])])
        with pytest.raises(snapshot.SnapshotFormatError, match='bad edge'):
            snapshot.load(data)

    def test_unknown_record_and_missing_description(self):
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='unknown record'):
            snapshot.load(body([{'name': 'g', 'attrs': {}, 'vertices': 0,
                                 'edges': 0}, ('x', [])]))
        with pytest.raises(snapshot.SnapshotFormatError,
                           match='description'):
            snapshot.load(body([('v', [])]))

    def test_non_builtin_value_cannot_be_dumped(self):
        graph = EntityGraph()
        graph.add_vertex('a', {'when': datetime.datetime(2024, 1, 1)})
        with pytest.raises(snapshot.SnapshotError,
                           match='datetime.datetime value'):
            snapshot.dump(graph)

    def test_errors_are_vitrage_errors(self):
        from vitrage.common import exceptions
        assert issubclass(snapshot.SnapshotFormatError,
                          exceptions.VitrageError)


@pytest.fixture(scope='module')
def loaded() -> EntityGraph:
    """The stored format 1 fixture, loaded."""
    with open(os.path.join(FIXTURES, 'snapshot_v1.bin'), 'rb') as f:
        data = f.read()
    assert snapshot.read_header(data) == snapshot.Header(1, 1)
    return snapshot.load(data)


class TestStoredFormat1:
    """A snapshot written by format 1 must keep loading in every release."""

    def test_counts(self, loaded):
        assert loaded.name == 'snapshot fixture v1'
        assert loaded.num_vertices() == 37
        assert loaded.num_edges() == 47
        types = {}
        for v in loaded.vertices():
            types[v[Prop.TYPE]] = types.get(v[Prop.TYPE], 0) + 1
        assert types == {'openstack.cluster': 1, 'nova.zone': 1,
                         'nova.host': 3, 'neutron.network': 1,
                         'nova.instance': 12, 'neutron.port': 12,
                         'cinder.volume': 6, 'zabbix': 1}

    def test_alarm(self, loaded):
        alarm = loaded.get_vertex('alarm-fixture-0001')
        assert alarm == {
            'vitrage_category': 'ALARM', 'vitrage_type': 'zabbix',
            'name': 'Host is unreachable', 'state': 'Active',
            'severity': 'critical', 'vitrage_is_deleted': False,
            'vitrage_is_placeholder': False, 'is_real_vitrage_id': True,
            'vitrage_sample_timestamp': '2024-05-01T12:00:05Z',
            'vitrage_resource_id': '45ef4701-1061-5ce8-a9d9-baa3000fd87b',
            'rawtext': 'Host {HOST.NAME} unreachable', 'priority': 4,
            'tags': ['net', 'ping'], 'weight': 0.5,
            'vitrage_id': 'alarm-fixture-0001'}
        assert list(loaded.edges('alarm-fixture-0001')) == [
            ('alarm-fixture-0001', '45ef4701-1061-5ce8-a9d9-baa3000fd87b',
             'on', {'relationship_type': 'on', 'vitrage_is_deleted': False})]
        host = loaded.get_vertex('45ef4701-1061-5ce8-a9d9-baa3000fd87b')
        assert host[Prop.TYPE] == 'nova.host'

    def test_deleted_edge(self, loaded):
        deleted = [e for e in loaded.edges() if e[3][Prop.IS_DELETED]]
        assert deleted == [(
            '45ef4701-1061-5ce8-a9d9-baa3000fd87b',
            '72b5ce47-989b-575c-8325-707e16696dee', 'contains',
            {'relationship_type': 'contains', 'vitrage_is_deleted': True,
             'update_timestamp': '2024-05-01T12:00:05Z'})]
        instance = loaded.get_vertex('72b5ce47-989b-575c-8325-707e16696dee')
        assert instance[Prop.TYPE] == 'nova.instance'

    def test_every_edge_joins_two_vertices(self, loaded):
        for src, dst, label, props in loaded.edges():
            assert loaded.get_vertex(src) is not None
            assert loaded.get_vertex(dst) is not None
            assert props[Prop.RELATIONSHIP_TYPE] == label


class TestCapture:
    @pytest.mark.parametrize('method', ['fork', 'copy'])
    def test_capture_equals_dump(self, simulated, method):
        timings = {}
        data = snapshot.capture(simulated, threading.RLock(), method,
                                timings)
        assert_same_graph(simulated, snapshot.load(data))
        assert timings['method'] == method
        assert 0 <= timings['lock_seconds'] <= timings['total_seconds']

    def test_default_method(self):
        timings = {}
        snapshot.capture(sample_graph.build(), threading.Lock(),
                         timings=timings)
        assert timings['method'] == ('fork' if hasattr(os, 'fork')
                                     else 'copy')

    @pytest.mark.parametrize('method', ['fork', 'copy'])
    def test_consistent_while_a_writer_changes_the_graph(self, method):
        # The writer changes two vertices together under the lock: a
        # capture that did not hold the lock could see them differ.
        graph = EntityGraph()
        for vid in ('a', 'b'):
            graph.add_vertex(vid, {'n': 0})
        for i in range(2000):
            graph.add_vertex('filler%d' % i, {'n': i})
        lock = threading.Lock()
        stop = threading.Event()

        def writer():
            n = 0
            while not stop.is_set():
                n += 1
                with lock:
                    graph.get_vertex('a')['n'] = n
                    for i in range(50):
                        graph.update_vertex('filler%d' % i, {'n': n})
                    graph.get_vertex('b')['n'] = n
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for _ in range(5):
                loaded = snapshot.load(snapshot.capture(graph, lock, method))
                assert loaded.get_vertex('a')['n'] == \
                    loaded.get_vertex('b')['n']
        finally:
            stop.set()
            thread.join()

    def test_capture_waits_for_the_lock(self):
        graph = sample_graph.build()
        lock = threading.Lock()
        lock.acquire()
        result = []
        thread = threading.Thread(
            target=lambda: result.append(snapshot.capture(graph, lock)))
        thread.start()
        thread.join(0.2)
        assert thread.is_alive() and not result
        graph.remove_vertex('alarm_inst2')
        lock.release()
        thread.join()
        assert snapshot.load(result[0]).get_vertex('alarm_inst2') is None

    @pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
    def test_child_failure_is_reported(self):
        graph = EntityGraph()
        graph.add_vertex('a', {'when': datetime.datetime(2024, 1, 1)})
        with pytest.raises(snapshot.SnapshotError,
                           match='child process failed.*datetime'):
            snapshot.capture(graph, threading.Lock(), 'fork')

    def test_unknown_method(self):
        with pytest.raises(ValueError, match='teleport'):
            snapshot.capture(EntityGraph(), threading.Lock(), 'teleport')


def test_fixture_generator_still_builds_format_1(tmp_path):
    # The generator documents how the fixture was made; its output is a
    # current-format snapshot with the same shape.
    from vitrage.tests.unit.graph.fixtures import make_snapshot_v1
    graph = make_snapshot_v1.build()
    assert graph.num_vertices() == 37 and graph.num_edges() == 47
    assert_same_graph(graph, snapshot.load(snapshot.dump(graph)))
