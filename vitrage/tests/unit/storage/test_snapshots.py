"""The snapshot store on SQLite (the same suite runs on MariaDB in the
integration tier: ``test_snapshots_mysql``).
"""
import datetime

import pytest
import sqlalchemy as sa

from vitrage.graph import snapshot
from vitrage.storage import models
from vitrage.storage import snapshots
from vitrage.tests.unit.graph import sample_graph

SNAPSHOTS = models.GraphSnapshot.__table__
T0 = datetime.datetime(2024, 5, 1, 12, 0, 0)


def fake_snapshot(payload: bytes = b'graph bytes', version: int = 1
                  ) -> bytes:
    """Bytes with a snapshot header; the store does not look further."""
    return snapshot.HEADER.pack(snapshot.MAGIC, version,
                                snapshot.COMPRESSION_NONE) + payload


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


class TestSnapshotStore:
    """Run against the ``database`` fixture of the tier."""

    @pytest.fixture
    def store(self, database):
        return snapshots.SnapshotStore(database)

    def rows(self, database, snapshot_id=None):
        query = sa.select(SNAPSHOTS).order_by(SNAPSHOTS.c.chunk)
        if snapshot_id is not None:
            query = query.where(SNAPSHOTS.c.snapshot_id == snapshot_id)
        with database.connect() as c:
            return c.execute(query).all()

    def test_empty_store(self, store):
        assert store.latest() is None
        assert store.list_complete() == []
        assert store.prune(1) == 0

    def test_graph_round_trip(self, store):
        graph = sample_graph.build()
        data = snapshot.dump(graph)
        sid = store.save(3, 41, data, taken_at=at(0))
        info = store.latest()
        assert info == snapshots.SnapshotInfo(sid, 3, 41, at(0), 1, 1,
                                              len(data))
        assert info.position == (3, 41)
        loaded = snapshot.load(store.read(info.snapshot_id))
        assert {v['vitrage_id']: v for v in loaded.vertices()} == {
            v['vitrage_id']: v for v in graph.vertices()}
        assert sorted(loaded.edges(), key=repr) == sorted(graph.edges(),
                                                          key=repr)

    def test_chunks_with_a_tiny_chunk_size(self, database):
        store = snapshots.SnapshotStore(database, chunk_size=7)
        data = fake_snapshot(bytes(range(256)) * 3)
        sid = store.save(1, 0, data)
        rows = self.rows(database, sid)
        assert len(rows) == -(-len(data) // 7)
        assert [r.chunk for r in rows] == list(range(len(rows)))
        assert {r.chunks for r in rows} == {len(rows)}
        assert max(len(r.data) for r in rows) == 7
        assert b''.join(r.data for r in rows) == data
        assert store.read(sid) == data
        info = store.latest()
        assert (info.chunks, info.size) == (len(rows), len(data))

    def test_exact_multiple_of_the_chunk_size(self, database):
        store = snapshots.SnapshotStore(database, chunk_size=8)
        data = fake_snapshot(b'x' * 9)   # 7 + 9 = 16 bytes
        sid = store.save(1, 0, data)
        assert len(self.rows(database, sid)) == 2
        assert store.read(sid) == data

    def test_format_version_comes_from_the_header(self, store, database):
        sid = store.save(1, 0, fake_snapshot(version=4))
        assert {r.format_version for r in self.rows(database, sid)} == {4}
        assert store.latest().format_version == 4

    def test_latest_is_the_highest_position(self, store):
        store.save(2, 10, fake_snapshot(), taken_at=at(5))
        newest = store.save(3, 1, fake_snapshot(), taken_at=at(1))
        store.save(2, 99, fake_snapshot(), taken_at=at(3))
        assert store.latest().snapshot_id == newest
        assert [i.position for i in store.list_complete()] == [
            (3, 1), (2, 99), (2, 10)]

    def test_latest_before_a_time(self, store):
        first = store.save(1, 10, fake_snapshot(), taken_at=at(0))
        second = store.save(1, 20, fake_snapshot(), taken_at=at(10))
        store.save(1, 30, fake_snapshot(), taken_at=at(20))
        assert store.latest(before=at(15)).snapshot_id == second
        assert store.latest(before=at(10)).snapshot_id == second
        assert store.latest(before=at(9)).snapshot_id == first
        assert store.latest(before=at(-1)) is None

    def test_incomplete_snapshot_is_ignored(self, database):
        store = snapshots.SnapshotStore(database, chunk_size=4)
        older = store.save(1, 1, fake_snapshot(b'old'), taken_at=at(0))
        newer = store.save(1, 2, fake_snapshot(b'new!'), taken_at=at(1))
        with database.begin() as c:
            c.execute(SNAPSHOTS.delete().where(
                (SNAPSHOTS.c.snapshot_id == newer)
                & (SNAPSHOTS.c.chunk == 1)))
        assert store.latest().snapshot_id == older
        assert [i.snapshot_id for i in store.list_complete()] == [older]
        with pytest.raises(snapshots.SnapshotNotFound,
                           match='incomplete: chunk 1 of 3 missing'):
            store.read(newer)

    def test_last_chunk_missing_is_incomplete_too(self, database):
        store = snapshots.SnapshotStore(database, chunk_size=4)
        sid = store.save(1, 2, fake_snapshot(b'abcdef'))
        with database.begin() as c:
            c.execute(SNAPSHOTS.delete().where(SNAPSHOTS.c.chunk == 3))
        assert store.latest() is None
        with pytest.raises(snapshots.SnapshotNotFound, match='incomplete'):
            store.read(sid)

    def test_read_unknown(self, store):
        with pytest.raises(snapshots.SnapshotNotFound, match='no graph'):
            store.read('no-such-id')

    def test_prune_keeps_the_newest(self, store, database):
        ids = [store.save(1, seq, fake_snapshot(), taken_at=at(seq))
               for seq in range(5)]
        assert store.prune(2) == 3
        assert [i.snapshot_id for i in store.list_complete()] == [
            ids[4], ids[3]]
        assert {r.snapshot_id for r in self.rows(database)} == {
            ids[4], ids[3]}
        assert store.prune(2) == 0
        assert store.prune(1) == 1
        assert store.latest().snapshot_id == ids[4]

    def test_prune_counts_complete_snapshots_only(self, database):
        store = snapshots.SnapshotStore(database, chunk_size=4)
        old_broken = store.save(1, 0, fake_snapshot(b'abcd'),
                                taken_at=at(0))
        kept_old = store.save(1, 1, fake_snapshot(), taken_at=at(1))
        kept_new = store.save(1, 2, fake_snapshot(), taken_at=at(2))
        new_broken = store.save(1, 3, fake_snapshot(b'abcd'),
                                taken_at=at(3))
        with database.begin() as c:
            c.execute(SNAPSHOTS.delete().where(
                SNAPSHOTS.c.snapshot_id.in_([old_broken, new_broken])
                & (SNAPSHOTS.c.chunk == 0)))
        assert store.prune(2) == 1
        left = {r.snapshot_id for r in self.rows(database)}
        assert left == {kept_old, kept_new, new_broken}

    def test_save_is_all_or_nothing(self, database, monkeypatch):
        store = snapshots.SnapshotStore(database, chunk_size=4)
        real_insert = SNAPSHOTS.insert
        calls = []

        class Boom(Exception):
            pass

        def failing_insert():
            calls.append(1)
            if len(calls) == 3:
                raise Boom('disk full')
            return real_insert()
        monkeypatch.setattr(SNAPSHOTS, 'insert', failing_insert)
        with pytest.raises(Boom):
            store.save(1, 0, fake_snapshot(b'0123456789'))
        assert self.rows(database) == []

    def test_timezone_aware_time_is_stored_as_utc(self, store):
        tz = datetime.timezone(datetime.timedelta(hours=2))
        store.save(1, 0, fake_snapshot(),
                   taken_at=datetime.datetime(2024, 5, 1, 14, 0, tzinfo=tz))
        assert store.latest().taken_at == T0

    def test_default_time_is_now(self, store):
        before = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None, microsecond=0)
        store.save(1, 0, fake_snapshot())
        after = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        assert before <= store.latest().taken_at <= after

    @pytest.mark.parametrize('term,seq', [(-1, 0), (0, -1), ('1', 0),
                                          (True, 0), (1, 2.0)])
    def test_bad_position(self, store, term, seq):
        with pytest.raises(ValueError, match='integer'):
            store.save(term, seq, fake_snapshot())

    def test_not_a_snapshot(self, store, database):
        with pytest.raises(snapshot.SnapshotFormatError):
            store.save(1, 0, b'just some bytes')
        assert self.rows(database) == []

    def test_bad_time(self, store):
        with pytest.raises(ValueError, match='taken_at'):
            store.save(1, 0, fake_snapshot(), taken_at='yesterday')

    @pytest.mark.parametrize('size', [0, -1, snapshots.MAX_CHUNK_SIZE + 1,
                                      1.5, True])
    def test_bad_chunk_size(self, database, size):
        with pytest.raises(ValueError, match='chunk_size'):
            snapshots.SnapshotStore(database, chunk_size=size)

    @pytest.mark.parametrize('keep', [0, -2, 'one', True])
    def test_bad_keep(self, store, keep):
        with pytest.raises(ValueError, match='keep'):
            store.prune(keep)
