"""The first schema: event log, snapshots, term, history, API objects.

Revision ID: 0001_initial
Revises:
Create Date: 2026-01-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')
CHUNK = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql')
TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
PreciseTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def _id() -> sa.Column:
    return sa.Column('id', BIG_ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        'events',
        _id(),
        sa.Column('term', sa.BigInteger, nullable=False),
        sa.Column('seq', sa.BigInteger, nullable=False),
        sa.Column('collector_timestamp', sa.DateTime, nullable=True),
        sa.Column('event_type', sa.String(64), nullable=False),
        sa.Column('payload', JSON_TEXT, nullable=False),
        sa.UniqueConstraint('term', 'seq', name='uniq_events0term0seq'),
        **TABLE_ARGS)
    op.create_table(
        'graph_snapshots',
        _id(),
        sa.Column('snapshot_id', sa.String(36), nullable=False),
        sa.Column('term', sa.BigInteger, nullable=False),
        sa.Column('seq', sa.BigInteger, nullable=False),
        sa.Column('taken_at', sa.DateTime, nullable=False),
        sa.Column('format_version', sa.Integer, nullable=False),
        sa.Column('chunk', sa.Integer, nullable=False),
        sa.Column('chunks', sa.Integer, nullable=False),
        sa.Column('data', CHUNK, nullable=False),
        sa.UniqueConstraint('snapshot_id', 'chunk',
                            name='uniq_graph_snapshots0snapshot_id0chunk'),
        **TABLE_ARGS)
    op.create_index('ix_graph_snapshots_position', 'graph_snapshots',
                    ['term', 'seq'])
    op.create_table(
        'graph_term',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=False),
        sa.Column('term', sa.BigInteger, nullable=False),
        sa.Column('holder', sa.String(255), nullable=True),
        sa.Column('started_at', PreciseTime, nullable=True),
        sa.Column('heartbeat_at', PreciseTime, nullable=True),
        **TABLE_ARGS)
    op.create_table(
        'barriers',
        sa.Column('barrier_id', sa.String(36), primary_key=True),
        sa.Column('term', sa.BigInteger, nullable=False),
        sa.Column('written_at', PreciseTime, nullable=False),
        **TABLE_ARGS)
    op.create_table(
        'alarms',
        _id(),
        sa.Column('vitrage_id', sa.String(128), nullable=False),
        sa.Column('start_timestamp', sa.DateTime, nullable=False),
        sa.Column('end_timestamp', sa.DateTime, nullable=True),
        sa.Column('name', sa.String(255), nullable=True),
        sa.Column('vitrage_type', sa.String(255), nullable=True),
        sa.Column('vitrage_aggregated_severity', sa.String(64),
                  nullable=True),
        sa.Column('vitrage_operational_severity', sa.String(64),
                  nullable=True),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('vitrage_resource_type', sa.String(255), nullable=True),
        sa.Column('vitrage_resource_id', sa.String(128), nullable=True),
        sa.Column('vitrage_resource_project_id', sa.String(255),
                  nullable=True),
        sa.Column('payload', JSON_TEXT, nullable=False),
        sa.UniqueConstraint('vitrage_id', 'start_timestamp',
                            name='uniq_alarms0vitrage_id0start_timestamp'),
        **TABLE_ARGS)
    op.create_index('ix_alarms_end_timestamp', 'alarms', ['end_timestamp'])
    op.create_index('ix_alarms_start_timestamp', 'alarms',
                    ['start_timestamp'])
    op.create_table(
        'edges',
        _id(),
        sa.Column('source_id', sa.String(128), nullable=False),
        sa.Column('target_id', sa.String(128), nullable=False),
        sa.Column('label', sa.String(64), nullable=False),
        sa.Column('start_timestamp', sa.DateTime, nullable=False),
        sa.Column('end_timestamp', sa.DateTime, nullable=True),
        sa.Column('payload', JSON_TEXT, nullable=False),
        sa.UniqueConstraint('source_id', 'target_id', 'label',
                            'start_timestamp',
                            name='uniq_edges0source0target0label0start'),
        **TABLE_ARGS)
    op.create_index('ix_edges_end_timestamp', 'edges', ['end_timestamp'])
    op.create_table(
        'changes',
        _id(),
        sa.Column('vitrage_id', sa.String(128), nullable=False),
        sa.Column('timestamp', sa.DateTime, nullable=False),
        sa.Column('change_type', sa.String(32), nullable=False),
        sa.Column('severity', sa.String(64), nullable=True),
        sa.Column('payload', JSON_TEXT, nullable=False),
        sa.UniqueConstraint('vitrage_id', 'timestamp', 'change_type',
                            name='uniq_changes0vitrage_id0timestamp0type'),
        **TABLE_ARGS)
    op.create_index('ix_changes_timestamp', 'changes', ['timestamp'])
    op.create_table(
        'templates',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('template_type', sa.String(64), nullable=True),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('status_details', sa.Text, nullable=True),
        sa.Column('file_content', JSON_TEXT, nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=True),
        **TABLE_ARGS)
    op.create_index('ix_templates_name', 'templates', ['name'])
    op.create_table(
        'webhooks',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('project_id', sa.String(255), nullable=True),
        sa.Column('is_admin_webhook', sa.Boolean, nullable=False),
        sa.Column('url', sa.String(1024), nullable=False),
        sa.Column('headers', sa.Text, nullable=True),
        sa.Column('regex_filter', sa.Text, nullable=True),
        sa.Column('created_at', sa.DateTime, nullable=False),
        **TABLE_ARGS)
    op.create_table(
        'active_actions',
        _id(),
        sa.Column('action_type', sa.String(64), nullable=False),
        sa.Column('extra_info', sa.String(255), nullable=False),
        sa.Column('source_vertex_id', sa.String(128), nullable=False),
        sa.Column('target_vertex_id', sa.String(128), nullable=False),
        sa.Column('action_id', sa.String(128), nullable=False),
        sa.Column('score', sa.Integer, nullable=False),
        sa.Column('trigger', sa.String(128), nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=True),
        sa.UniqueConstraint('action_type', 'extra_info', 'source_vertex_id',
                            'target_vertex_id', 'action_id',
                            name='uniq_active_actions0action'),
        **TABLE_ARGS)
    # The single term row the graph increments on activation.
    op.bulk_insert(sa.table('graph_term', sa.column('id', sa.Integer),
                            sa.column('term', sa.BigInteger)),
                   [{'id': 1, 'term': 0}])
