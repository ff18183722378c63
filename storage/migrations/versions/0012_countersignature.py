"""countersignature: the severity whose rule a version met, and the most severe it has had to meet since

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("statement", schema=None) as batch_op:
        # versions approved before this met the rule of their day: nobody recorded which, so nothing is owed on them
        batch_op.add_column(sa.Column("met_severity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column("needs_severity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.drop_column("needs_severity")
        batch_op.drop_column("met_severity")
