"""reaction: signals attached to incidents, per-slot aggregates of their volume and sentiment

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signallink",
        sa.Column("signal_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("how", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("also", sa.JSON(), nullable=False),
        sa.Column("readings", sa.JSON(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["signal_id"], ["signal.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("signal_id"),
    )
    op.create_index("ix_signal_link_incident", "signallink", ["incident_id"], unique=False)
    op.create_table(
        "incidentkeyword",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("word", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id", "word"),
    )
    op.create_index("ix_incident_keyword_word", "incidentkeyword", ["word"], unique=False)
    op.create_table(
        "reactionbucket",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("negative", sa.Float(), nullable=False),
        sa.Column("sentiment_sum", sa.Float(), nullable=False),
        sa.Column("sentiment_n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("incident_id", "slot"),
    )


def downgrade() -> None:
    op.drop_table("reactionbucket")
    op.drop_index("ix_incident_keyword_word", table_name="incidentkeyword")
    op.drop_table("incidentkeyword")
    op.drop_index("ix_signal_link_incident", table_name="signallink")
    op.drop_table("signallink")
