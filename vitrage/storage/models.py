"""The tables of the Vitrage database (SQLAlchemy declarative models).

The alembic migrations in :mod:`vitrage.storage.migrations` create the
same schema; a unit test compares both. Timestamps are naive UTC
``DATETIME`` values. Payloads are JSON text, readable with the ``mysql``
client. Compression was measured and not taken: on a typical 286-byte
entity event zlib (level 1) saves a third of the bytes but costs 15 us,
more than the JSON encoding itself (9 us), in a persistor that is bound
by its Python CPU time (bench/persistor.py); graph snapshots, which are
large, are compressed and chunked instead.
"""
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

# InnoDB BIGINT auto-increment; SQLite only auto-increments INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# TEXT is 64 KiB on MariaDB; an event or alarm payload may be larger.
JsonText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')
# A snapshot chunk: up to 16 MiB on MariaDB (chunks are smaller).
Chunk = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql')

MYSQL_TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
#: Microseconds on MariaDB too (its DATETIME drops them by default): the
#: graph's lease compares heartbeats to the second's fraction.
PreciseTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


class Base(orm.DeclarativeBase):
    """Declarative base of every Vitrage table."""


class Event(Base):
    """One handled event, at its handling position ``(term, seq)``."""

    __tablename__ = 'events'
    __table_args__ = (
        sa.UniqueConstraint('term', 'seq', name='uniq_events0term0seq'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    term = sa.Column(sa.BigInteger, nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    collector_timestamp = sa.Column(sa.DateTime, nullable=True)
    event_type = sa.Column(sa.String(64), nullable=False)
    payload = sa.Column(JsonText, nullable=False)


class GraphSnapshot(Base):
    """One chunk of a compressed, pickled graph snapshot.

    A snapshot is the rows sharing ``snapshot_id``, ordered by ``chunk``;
    it holds every event up to ``(term, seq)``.
    """

    __tablename__ = 'graph_snapshots'
    __table_args__ = (
        sa.UniqueConstraint('snapshot_id', 'chunk',
                            name='uniq_graph_snapshots0snapshot_id0chunk'),
        sa.Index('ix_graph_snapshots_position', 'term', 'seq'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    snapshot_id = sa.Column(sa.String(36), nullable=False)
    term = sa.Column(sa.BigInteger, nullable=False)
    seq = sa.Column(sa.BigInteger, nullable=False)
    taken_at = sa.Column(sa.DateTime, nullable=False)
    format_version = sa.Column(sa.Integer, nullable=False)
    chunk = sa.Column(sa.Integer, nullable=False)
    chunks = sa.Column(sa.Integer, nullable=False)
    data = sa.Column(Chunk, nullable=False)


class GraphTerm(Base):
    """The single row holding the current term of the active graph."""

    __tablename__ = 'graph_term'
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    term = sa.Column(sa.BigInteger, nullable=False)
    holder = sa.Column(sa.String(255), nullable=True)
    started_at = sa.Column(PreciseTime, nullable=True)
    heartbeat_at = sa.Column(PreciseTime, nullable=True)


class Barrier(Base):
    """A barrier the persistor wrote after every event received before it."""

    __tablename__ = 'barriers'
    __table_args__ = (MYSQL_TABLE_ARGS,)

    barrier_id = sa.Column(sa.String(36), primary_key=True)
    term = sa.Column(sa.BigInteger, nullable=False)
    written_at = sa.Column(PreciseTime, nullable=False)


class Alarm(Base):
    """One activation of an alarm: from ``start_timestamp`` to its end."""

    __tablename__ = 'alarms'
    __table_args__ = (
        sa.UniqueConstraint('vitrage_id', 'start_timestamp',
                            name='uniq_alarms0vitrage_id0start_timestamp'),
        sa.Index('ix_alarms_end_timestamp', 'end_timestamp'),
        sa.Index('ix_alarms_start_timestamp', 'start_timestamp'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    vitrage_id = sa.Column(sa.String(128), nullable=False)
    start_timestamp = sa.Column(sa.DateTime, nullable=False)
    end_timestamp = sa.Column(sa.DateTime, nullable=True)
    name = sa.Column(sa.String(255), nullable=True)
    vitrage_type = sa.Column(sa.String(255), nullable=True)
    vitrage_aggregated_severity = sa.Column(sa.String(64), nullable=True)
    vitrage_operational_severity = sa.Column(sa.String(64), nullable=True)
    project_id = sa.Column(sa.String(255), nullable=True)
    vitrage_resource_type = sa.Column(sa.String(255), nullable=True)
    vitrage_resource_id = sa.Column(sa.String(128), nullable=True)
    vitrage_resource_project_id = sa.Column(sa.String(255), nullable=True)
    payload = sa.Column(JsonText, nullable=False)


class Edge(Base):
    """One period during which a causal edge existed."""

    __tablename__ = 'edges'
    __table_args__ = (
        sa.UniqueConstraint('source_id', 'target_id', 'label',
                            'start_timestamp',
                            name='uniq_edges0source0target0label0start'),
        sa.Index('ix_edges_end_timestamp', 'end_timestamp'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    source_id = sa.Column(sa.String(128), nullable=False)
    target_id = sa.Column(sa.String(128), nullable=False)
    label = sa.Column(sa.String(64), nullable=False)
    start_timestamp = sa.Column(sa.DateTime, nullable=False)
    end_timestamp = sa.Column(sa.DateTime, nullable=True)
    payload = sa.Column(JsonText, nullable=False)


class Change(Base):
    """A change of a live alarm (severity or resource project)."""

    __tablename__ = 'changes'
    __table_args__ = (
        sa.UniqueConstraint('vitrage_id', 'timestamp', 'change_type',
                            name='uniq_changes0vitrage_id0timestamp0type'),
        sa.Index('ix_changes_timestamp', 'timestamp'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    vitrage_id = sa.Column(sa.String(128), nullable=False)
    timestamp = sa.Column(sa.DateTime, nullable=False)
    change_type = sa.Column(sa.String(32), nullable=False)
    severity = sa.Column(sa.String(64), nullable=True)
    payload = sa.Column(JsonText, nullable=False)


class Template(Base):
    """A stored scenario (or definition / equivalence) template."""

    __tablename__ = 'templates'
    __table_args__ = (
        sa.Index('ix_templates_name', 'name'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(sa.String(64), primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    template_type = sa.Column(sa.String(64), nullable=True)
    status = sa.Column(sa.String(32), nullable=False)
    status_details = sa.Column(sa.Text, nullable=True)
    file_content = sa.Column(JsonText, nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False)
    updated_at = sa.Column(sa.DateTime, nullable=True)


class Webhook(Base):
    """A registered webhook."""

    __tablename__ = 'webhooks'
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id = sa.Column(sa.String(64), primary_key=True)
    project_id = sa.Column(sa.String(255), nullable=True)
    is_admin_webhook = sa.Column(sa.Boolean, nullable=False,
                                 default=False)
    url = sa.Column(sa.String(1024), nullable=False)
    headers = sa.Column(sa.Text, nullable=True)
    regex_filter = sa.Column(sa.Text, nullable=True)
    created_at = sa.Column(sa.DateTime, nullable=False)


class ActiveAction(Base):
    """An action a scenario currently holds (several may overlap)."""

    __tablename__ = 'active_actions'
    __table_args__ = (
        sa.UniqueConstraint('action_type', 'extra_info', 'source_vertex_id',
                            'target_vertex_id', 'action_id',
                            name='uniq_active_actions0action'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(BigId, primary_key=True, autoincrement=True)
    action_type = sa.Column(sa.String(64), nullable=False)
    extra_info = sa.Column(sa.String(255), nullable=False, default='')
    source_vertex_id = sa.Column(sa.String(128), nullable=False)
    target_vertex_id = sa.Column(sa.String(128), nullable=False,
                                 default='')
    action_id = sa.Column(sa.String(128), nullable=False)
    score = sa.Column(sa.Integer, nullable=False, default=0)
    trigger = sa.Column(sa.String(128), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False)
    updated_at = sa.Column(sa.DateTime, nullable=True)


class Service(Base):
    """A running service process (``GET /v1/service``), while it beats."""

    __tablename__ = 'services'
    __table_args__ = (
        sa.Index('ix_services_heartbeat_at', 'heartbeat_at'),
        MYSQL_TABLE_ARGS,
    )

    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    hostname = sa.Column(sa.String(255), nullable=False)
    pid = sa.Column(sa.Integer, nullable=False)
    created_at = sa.Column(PreciseTime, nullable=False)
    heartbeat_at = sa.Column(PreciseTime, nullable=False)
