"""Graph snapshots: the entity graph as versioned, compressed bytes.

A snapshot is a fixed header followed by the (compressed) body::

    b'VTGS' | format version (uint16, big endian) | compression (uint8)

Format 1, the body is a stream of pickles (protocol 5) holding only
builtin types:

1. a dict ``{'name', 'attrs', 'vertices', 'edges'}`` (graph name, graph
   attributes, and the counts that follow);
2. batches ``('v', [(vertex_id, properties), ...])`` and
   ``('e', [(source, target, label, properties), ...])``.

Why not the pickled ``MultiDiGraph`` itself: measured on the simulated
cloud at 100,000 vertices (``bench/snapshot.py``), the builtins body is
smaller (10.6 vs 11.7 MB with zlib level 1) and as fast to write; it does
not tie stored snapshots to networkx's private attributes; and it can be
loaded with an unpickler that refuses every class, so a row of the
database cannot run code. Level 1 of zlib compresses about 2.5 times;
higher levels gain 5-10 % for two to three times the CPU.

Loading re-interns property names and repeated values like
:func:`vitrage.graph.driver.intern_properties`, so a restored graph
costs the memory of a built one. Older formats keep loading: each
version has its reader in :data:`_READERS`, which turns its body into
the current in-memory shape (upcasting). A snapshot of format 1 is kept
as a test fixture (``vitrage/tests/unit/graph/fixtures``).

:func:`capture` takes a snapshot of a graph that another thread keeps
changing: ``pickle.dumps`` is one C call that holds the GIL for its whole
length (0.6-0.9 s at 100,000 vertices), so pickling in a background
thread would still stall event processing. Where ``os.fork`` exists the
lock is held only while forking; the child serialises its frozen copy of
the graph and pipes the bytes back. Elsewhere the lock is held while the
property dicts are copied, and the copy is serialised in small batches
that let other threads run.
"""
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
import contextlib
import dataclasses
import gc
import io
import itertools
import os
import pickle
import signal
import struct
import sys
import time
import zlib

import networkx as nx

from vitrage.common import exceptions
from vitrage.graph.driver import EntityGraph
from vitrage.graph.driver import intern_properties

MAGIC = b'VTGS'
HEADER = struct.Struct('>4sHB')
FORMAT_VERSION = 1

COMPRESSION_NONE = 0
COMPRESSION_ZLIB = 1
ZLIB_LEVEL = 1

#: Items per pickled batch: one ``pickle.dumps`` of a batch holds the GIL
#: for a few milliseconds only.
BATCH = 5000

_PLAIN_TYPES = (type(None), bool, int, float, str, bytes, tuple, list,
                dict, set, frozenset)

Vertex = tuple[str, dict]
Edge = tuple[str, str, str, dict]


class SnapshotError(exceptions.VitrageError):
    """A snapshot could not be taken or read."""


class SnapshotFormatError(SnapshotError):
    """The bytes are not a snapshot this release can load: wrong magic,
    unknown format version or compression, corrupt or truncated body.
    """


@dataclasses.dataclass(frozen=True)
class Header:
    """The fixed header of a snapshot."""

    version: int
    compression: int


# -- writing -------------------------------------------------------------
class _PlainPickler(pickle.Pickler):
    """Pickles builtins only, so that loading never needs a class."""

    def reducer_override(self, obj):
        # Not called for None, bool, int, float, str, bytes, dict, list,
        # tuple, set and frozenset (CPython's fast path).
        if type(obj) not in _PLAIN_TYPES:
            raise SnapshotError(
                'graph snapshot: cannot store a %s.%s value; vertex and '
                'edge properties must be builtin types' % (
                    type(obj).__module__, type(obj).__qualname__))
        return NotImplemented


def _pickle(obj: object) -> bytes:
    buf = io.BytesIO()
    _PlainPickler(buf, protocol=5).dump(obj)
    return buf.getvalue()


def _edges_of(succ: dict) -> Iterator[Edge]:
    for src, neighbours in succ.items():
        for dst, keydict in neighbours.items():
            for label, props in keydict.items():
                yield src, dst, label, props


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while True:
        batch = list(itertools.islice(it, size))
        if not batch:
            return
        yield batch


def _serialise(name: str, attrs: dict, vertices: Collection[Vertex],
               edges: Iterable[Edge], num_edges: int,
               compression: int = COMPRESSION_ZLIB) -> Iterator[bytes]:
    """The snapshot, piece by piece (header first).

    :param vertices: iterated twice (a dict view or a list).
    """
    if compression == COMPRESSION_ZLIB:
        compressor = zlib.compressobj(ZLIB_LEVEL)
        compress = compressor.compress
    elif compression == COMPRESSION_NONE:
        compressor = None

        def compress(data: bytes) -> bytes:
            return data
    else:
        raise ValueError('unknown compression id %r' % (compression,))
    yield HEADER.pack(MAGIC, FORMAT_VERSION, compression)
    yield compress(_pickle({'name': name, 'attrs': dict(attrs),
                            'vertices': len(vertices), 'edges': num_edges}))
    # Edges name their vertices by position in the vertex stream: an id
    # is a random string that compresses badly, repeated per edge.
    index = {vertex_id: i for i, (vertex_id, _) in enumerate(vertices)}
    for batch in _batches(vertices, BATCH):
        yield compress(_pickle(('v', batch)))
    for batch in _batches(((index[src], index[dst], label, props)
                           for src, dst, label, props in edges), BATCH):
        yield compress(_pickle(('e', batch)))
    if compressor is not None:
        yield compressor.flush()


def dump(graph: EntityGraph, compression: int = COMPRESSION_ZLIB) -> bytes:
    """The snapshot of ``graph`` in the current format.

    The caller keeps the graph from changing meanwhile (see
    :func:`capture` for a graph in use).

    :param graph: the graph to store.
    :param compression: :data:`COMPRESSION_ZLIB` (default) or
        :data:`COMPRESSION_NONE`.
    :raises SnapshotError: when a property holds a value that is not of a
        builtin type.
    """
    g = graph.networkx
    return b''.join(_serialise(
        graph.name, g.graph, g._node.items(), _edges_of(g._succ),
        g.number_of_edges(), compression))


# -- reading -------------------------------------------------------------
class _PlainUnpickler(pickle.Unpickler):
    """Refuses every class: a snapshot holds builtins only."""

    def find_class(self, module: str, name: str):
        raise SnapshotFormatError(
            'graph snapshot refers to %s.%s; only builtin types are '
            'allowed' % (module, name))


def read_header(data: bytes) -> Header:
    """The header of a snapshot.

    :raises SnapshotFormatError: when ``data`` does not start with one.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SnapshotFormatError('a graph snapshot is bytes, not %s'
                                  % type(data).__name__)
    if len(data) < HEADER.size:
        raise SnapshotFormatError('graph snapshot of %d bytes is shorter '
                                  'than its header' % len(data))
    magic, version, compression = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise SnapshotFormatError('not a graph snapshot: starts with %r, '
                                  'not %r' % (bytes(magic), MAGIC))
    return Header(version, compression)


def _decompress(compression: int, body: memoryview) -> bytes:
    if compression == COMPRESSION_NONE:
        return bytes(body)
    if compression == COMPRESSION_ZLIB:
        try:
            decompressor = zlib.decompressobj()
            raw = decompressor.decompress(body)
        except zlib.error as exc:
            raise SnapshotFormatError('graph snapshot body is corrupt: %s'
                                      % exc) from exc
        if not decompressor.eof:
            raise SnapshotFormatError('graph snapshot body is truncated')
        if decompressor.unused_data:
            raise SnapshotFormatError(
                'graph snapshot has %d bytes after its body'
                % len(decompressor.unused_data))
        return raw
    raise SnapshotFormatError('graph snapshot has unknown compression id %d'
                              % compression)


@dataclasses.dataclass
class _State:
    """A snapshot's content in the current in-memory shape.

    :param records: batches ``('v', [(vertex_id, properties), ...])``,
        then ``('e', [(source_id, target_id, label, properties), ...])``;
        the iterator raises :class:`SnapshotFormatError` when the
        content turns out to be corrupt or incomplete.
    """

    name: str
    attrs: dict
    records: Iterator[tuple[str, list]]


def _read_v1(raw: bytes) -> _State:
    stream = io.BytesIO(raw)
    end = len(raw)

    def next_record() -> object:
        # One unpickler per record: each was pickled with its own memo.
        try:
            return _PlainUnpickler(stream).load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
                IndexError, KeyError, AttributeError,
                MemoryError) as exc:
            raise SnapshotFormatError('graph snapshot (format 1) body is '
                                      'corrupt: %s' % exc) from exc

    meta = next_record() if end else None
    if not isinstance(meta, dict) or not {
            'name', 'attrs', 'vertices', 'edges'} <= set(meta):
        raise SnapshotFormatError('graph snapshot (format 1) does not '
                                  'start with its description')

    def records() -> Iterator[tuple[str, list]]:
        ids: list[str] = []
        edges = 0
        while stream.tell() < end:
            record = next_record()
            if not (isinstance(record, tuple) and len(record) == 2
                    and record[0] in ('v', 'e')
                    and isinstance(record[1], list)):
                raise SnapshotFormatError('graph snapshot (format 1) has '
                                          'an unknown record')
            kind, items = record
            if kind == 'v':
                if edges:
                    raise SnapshotFormatError('graph snapshot (format 1) '
                                              'has vertices after edges')
                ids.extend(vertex_id for vertex_id, _ in items)
                yield record
                continue
            try:
                batch = [(ids[src], ids[dst], label, props)
                         for src, dst, label, props in items]
            except (IndexError, TypeError, ValueError) as exc:
                raise SnapshotFormatError(
                    'graph snapshot (format 1) has a bad edge: %s'
                    % exc) from exc
            edges += len(batch)
            yield 'e', batch
        if len(ids) != meta['vertices'] or edges != meta['edges']:
            raise SnapshotFormatError(
                'graph snapshot (format 1) is incomplete: %d of %d '
                'vertices, %d of %d edges' % (
                    len(ids), meta['vertices'], edges, meta['edges']))

    return _State(meta['name'], meta['attrs'], records())


#: Format version -> reader of a decompressed body. A new format adds its
#: reader here; the older readers stay and upcast their content.
_READERS: dict[int, Callable[[bytes], _State]] = {1: _read_v1}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Building millions of containers triggers full collections that
    # find nothing to free: loading is three times faster without them.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(state: _State) -> EntityGraph:
    g = nx.MultiDiGraph()
    g.graph.update(state.attrs)
    graph = EntityGraph(state.name, g)
    node = g._node
    succ = g._succ
    pred = g._pred
    intern = sys.intern
    # Edges with equal properties share one dict, as in a graph the
    # processor built (EntityGraph.add_edge).
    share = graph._shared
    try:
        for kind, items in state.records:
            if kind == 'v':
                for vertex_id, props in items:
                    node[vertex_id] = intern_properties(props)
                    succ[vertex_id] = {}
                    pred[vertex_id] = {}
                continue
            for src, dst, label, props in items:
                keydict = succ[src].get(dst)
                if keydict is None:
                    keydict = {}
                    succ[src][dst] = keydict
                    pred[dst][src] = keydict
                keydict[intern(label)] = share(intern_properties(props))
    except (TypeError, ValueError, AttributeError) as exc:
        raise SnapshotFormatError('graph snapshot has a malformed vertex '
                                  'or edge: %s' % exc) from exc
    return graph


def load(data: bytes) -> EntityGraph:
    """The graph stored in a snapshot of any known format version.

    :param data: bytes written by :func:`dump` or :func:`capture` of this
        or an earlier release.
    :raises SnapshotFormatError: on bytes that are not a snapshot, an
        unknown (newer) format version or compression, or a corrupt or
        truncated body.
    """
    header = read_header(data)
    reader = _READERS.get(header.version)
    if reader is None:
        raise SnapshotFormatError(
            'graph snapshot format %d is unknown to this release (it '
            'reads formats %s)' % (header.version,
                                   ', '.join(map(str, sorted(_READERS)))))
    raw = _decompress(header.compression, memoryview(data)[HEADER.size:])
    with _gc_paused():
        return _build(reader(raw))


# -- capturing a graph in use --------------------------------------------
def capture(graph: EntityGraph, lock: contextlib.AbstractContextManager,
            method: str | None = None,
            timings: dict | None = None) -> bytes:
    """A snapshot of a graph that other threads change under ``lock``.

    :param graph: the live graph.
    :param lock: the lock every writer of ``graph`` holds.
    :param method: ``fork`` (default where ``os.fork`` exists): the lock
        is held only while forking, a child process serialises its copy
        of the graph; ``copy``: the lock is held while the property dicts
        are copied, the copy is serialised after in small batches.
    :param timings: when given, receives ``lock_seconds`` (time the lock
        was held), ``total_seconds`` and ``method``.
    :raises SnapshotError: when the child process fails or a property
        holds a value of a non-builtin type.
    :raises ValueError: on an unknown method.
    """
    if method is None:
        method = 'fork' if hasattr(os, 'fork') else 'copy'
    start = time.perf_counter()
    if method == 'fork':
        data, held = _capture_fork(graph, lock)
    elif method == 'copy':
        data, held = _capture_copy(graph, lock)
    else:
        raise ValueError('unknown snapshot capture method %r' % (method,))
    if timings is not None:
        timings.update(method=method, lock_seconds=held,
                       total_seconds=time.perf_counter() - start)
    return data


def _capture_copy(graph: EntityGraph,
                  lock: contextlib.AbstractContextManager
                  ) -> tuple[bytes, float]:
    g = graph.networkx
    with lock:
        start = time.perf_counter()
        with _gc_paused():
            # Vertex property dicts change in place: copy them. Their
            # values, and edge property dicts, are replaced, never
            # changed in place (EntityGraph): referencing them is enough.
            vertices = [(vid, props.copy())
                        for vid, props in g._node.items()]
            edges = list(_edges_of(g._succ))
            name = graph.name
            attrs = dict(g.graph)
        held = time.perf_counter() - start
    data = b''.join(_serialise(name, attrs, vertices, edges, len(edges)))
    return data, held


_OK = b'\x00'
_FAILED = b'\x01'


def _capture_fork(graph: EntityGraph,
                  lock: contextlib.AbstractContextManager
                  ) -> tuple[bytes, float]:
    read_fd, write_fd = os.pipe()
    with lock:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            _child(graph, read_fd, write_fd)
        held = time.perf_counter() - start
    os.close(write_fd)
    with os.fdopen(read_fd, 'rb') as reader:
        output = reader.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if output[:1] == _FAILED:
        raise SnapshotError('snapshot child process failed: %s'
                            % output[1:].decode('utf-8', 'replace'))
    if code != 0 or output[:1] != _OK:
        raise SnapshotError('snapshot child process %d ended with status '
                            '%d after %d bytes' % (pid, code, len(output)))
    return output[1:], held


def _child(graph: EntityGraph, read_fd: int,
           write_fd: int) -> None:  # pragma: no cover - in the child
    """Serialise the frozen graph to ``write_fd`` and exit, whatever
    happens: the child must never return into the parent's code.
    """
    code = 1
    try:
        gc.disable()        # and do not touch (copy) every page for it
        os.close(read_fd)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        g = graph.networkx
        with os.fdopen(write_fd, 'wb', closefd=False) as out:
            try:
                pieces = list(_serialise(
                    graph.name, g.graph, g._node.items(),
                    _edges_of(g._succ), g.number_of_edges()))
            except Exception as exc:  # reported to the parent
                out.write(_FAILED + str(exc).encode('utf-8', 'replace'))
            else:
                out.write(_OK)
                for piece in pieces:
                    out.write(piece)
                code = 0
    finally:
        os._exit(code)
