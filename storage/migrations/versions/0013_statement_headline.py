"""statement headline: the public title approved with each version (PRODUCT.md §4)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 14:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("statement", schema=None) as batch_op:
        # versions written before headlines existed keep none: the page shows the team's statement_headline for them
        batch_op.add_column(sa.Column("headline", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statement", schema=None) as batch_op:
        batch_op.drop_column("headline")
