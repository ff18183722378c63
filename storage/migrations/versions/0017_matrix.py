"""matrix: the sync token the bot resumes from, and the direct room it shares with each person

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 16:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matrixsync",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("next_batch", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        "matrixdirect",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("room_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.PrimaryKeyConstraint("account", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("matrixdirect")
    op.drop_table("matrixsync")
