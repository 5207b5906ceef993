"""create s3multipart_download_count

Revision ID: 2f6c1a9e4b7d
Revises:
Create Date: 2025-01-01 00:00:00

One row per resource and day (UTC): downloads through the persistent link. No foreign
key to `resource`, so that purging a dataset never fails on, or silently loses, counts.
"""
import sqlalchemy as sa
from alembic import op

revision = "2f6c1a9e4b7d"
down_revision = None
branch_labels = None
depends_on = None

TABLE = "s3multipart_download_count"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade():
    op.drop_table(TABLE)
