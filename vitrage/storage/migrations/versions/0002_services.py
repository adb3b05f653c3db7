"""The registry of running service processes (``GET /v1/service``).

Revision ID: 0002_services
Revises: 0001_initial
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002_services'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

TABLE_ARGS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4'}
PreciseTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade() -> None:
    op.create_table(
        'services',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('hostname', sa.String(255), nullable=False),
        sa.Column('pid', sa.Integer, nullable=False),
        sa.Column('created_at', PreciseTime, nullable=False),
        sa.Column('heartbeat_at', PreciseTime, nullable=False),
        **TABLE_ARGS)
    op.create_index('ix_services_heartbeat_at', 'services',
                    ['heartbeat_at'])


def downgrade() -> None:
    op.drop_index('ix_services_heartbeat_at', table_name='services')
    op.drop_table('services')
