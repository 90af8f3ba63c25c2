"""Schemas and API keys.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "iglu_schemas",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vendor", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("format", sa.String(255), nullable=False),
        sa.Column("model", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("addition", sa.Integer(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("supersedes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "vendor", "name", "format", "model", "revision", "addition", name="uq_iglu_schemas_key"
        ),
    )
    op.create_index("ix_iglu_schemas_family", "iglu_schemas", ["vendor", "name", "format"])
    op.create_table(
        "iglu_api_keys",
        sa.Column("key", sa.String(36), primary_key=True),
        sa.Column("vendor_prefix", sa.String(255), nullable=False),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("iglu_api_keys")
    op.drop_index("ix_iglu_schemas_family", "iglu_schemas")
    op.drop_table("iglu_schemas")
