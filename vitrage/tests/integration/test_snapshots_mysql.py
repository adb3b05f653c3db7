"""Graph snapshots on a real MariaDB server.

The snapshot store suite of the unit tier, and a snapshot of the
100,000-vertex simulated cloud through the default 4 MiB chunks, on a new
database dropped afterwards.
"""
import networkx as nx
import pytest
import sqlalchemy as sa

from vitrage.graph import snapshot
from vitrage.storage import models
from vitrage.storage import snapshots
from vitrage.tests import simulated_graph
from vitrage.tests.unit.storage import test_snapshots

SNAPSHOTS = models.GraphSnapshot.__table__


class TestMysqlSnapshotStore(test_snapshots.TestSnapshotStore):
    """The unit suite, on MariaDB (``database`` is the fixture above)."""


def test_100k_vertex_graph_round_trip(database):
    graph = simulated_graph.build(100000)
    assert graph.num_vertices() >= 99000
    data = snapshot.dump(graph)
    store = snapshots.SnapshotStore(database)
    sid = store.save(7, 123456, data)

    with database.connect() as c:
        packet = c.execute(sa.text('SELECT @@max_allowed_packet')).scalar()
        sizes = c.execute(
            sa.select(sa.func.length(SNAPSHOTS.c.data))
            .where(SNAPSHOTS.c.snapshot_id == sid)
            .order_by(SNAPSHOTS.c.chunk)).scalars().all()
    # Several rows, none above the chunk size, each far below the packet
    # limit of the server (no tuning of max_allowed_packet needed).
    assert len(sizes) == -(-len(data) // snapshots.DEFAULT_CHUNK_SIZE) > 1
    assert max(sizes) <= snapshots.DEFAULT_CHUNK_SIZE < packet // 2
    assert sum(sizes) == len(data)

    info = store.latest()
    assert (info.snapshot_id, info.position, info.chunks, info.size) == (
        sid, (7, 123456), len(sizes), len(data))
    read = store.read(sid)
    assert read == data
    loaded = snapshot.load(read)
    assert nx.utils.graphs_equal(graph.networkx, loaded.networkx)
    assert loaded.num_edges() == graph.num_edges()


def test_chunk_larger_than_the_packet_would_be_refused(database):
    # The reason for chunks: one row of the whole snapshot would not
    # pass. A 17 MiB value in one statement exceeds the 16 MiB default.
    from oslo_db import exception as db_exc
    with database.connect() as c:
        packet = c.execute(sa.text('SELECT @@max_allowed_packet')).scalar()
    blob = snapshot.HEADER.pack(snapshot.MAGIC, 1, 0) + b'\x01' * (
        packet + (1 << 20))
    with pytest.raises(db_exc.DBError):
        with database.begin() as c:
            c.execute(SNAPSHOTS.insert().values(
                snapshot_id='too-big', term=1, seq=0,
                taken_at=sa.func.now(), format_version=1, chunk=0,
                chunks=1, data=blob))
    store = snapshots.SnapshotStore(database)
    sid = store.save(1, 0, blob)
    assert store.read(sid) == blob
