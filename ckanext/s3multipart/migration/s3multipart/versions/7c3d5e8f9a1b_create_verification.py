"""create s3multipart_verification

Revision ID: 7c3d5e8f9a1b
Revises: 2f6c1a9e4b7d
Create Date: 2026-12-02 00:00:00

The last fixity check of each resource's object (its SHA-256 read back from the store).
No foreign key to `resource`, for the same reason as the download counts: purging a
dataset must never fail on it.
"""
import sqlalchemy as sa
from alembic import op

revision = "7c3d5e8f9a1b"
down_revision = "2f6c1a9e4b7d"
branch_labels = None
depends_on = None

TABLE = "s3multipart_verification"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("s3_key", sa.UnicodeText, nullable=False),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("expected", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("actual", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("size", sa.BigInteger),
        sa.Column("queued", sa.DateTime(timezone=True)),
        sa.Column("checked", sa.DateTime(timezone=True)),
        sa.Column("message", sa.UnicodeText, nullable=False, server_default=""),
    )


def downgrade():
    op.drop_table(TABLE)
