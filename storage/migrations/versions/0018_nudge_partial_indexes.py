"""nudge partial indexes: the active nudges by due time, and the claimed ones by lease end

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ACTIVE = "state IN ('pending', 'snoozed')"
HELD = f"{ACTIVE} AND lease_until IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nudge_active", ["due_at", "id"], unique=False, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE)
        )
        batch_op.create_index("ix_nudge_held", ["lease_until"], unique=False, postgresql_where=sa.text(HELD), sqlite_where=sa.text(HELD))


def downgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        batch_op.drop_index("ix_nudge_held")
        batch_op.drop_index("ix_nudge_active")
