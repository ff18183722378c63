"""delivery lanes, claimed-nudge and retention indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        # rows queued before lanes existed keep the old order: one lane per incident
        batch_op.add_column(sa.Column("lane", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default="room"))
        batch_op.create_index("ix_outbox_lane", ["incident_id", "platform", "state", "lane"], unique=False)
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.create_index("ix_nudge_leased", ["state", "lease_until"], unique=False)
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.create_index("ix_processed_event_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.drop_index("ix_processed_event_at")
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_index("ix_nudge_leased")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lane")
        batch_op.drop_column("lane")
