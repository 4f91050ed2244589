"""homebrew scope, revision and soft delete

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill the existing rows (global, first revision); the models set both.
    with op.batch_alter_table("homebrew", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=40), nullable=False, server_default="global")
        )
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE homebrew SET updated_at = created_at")
    with op.batch_alter_table("homebrew", schema=None) as batch_op:
        batch_op.alter_column("scope", existing_type=sa.String(length=40), server_default=None)
        batch_op.alter_column("revision", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("homebrew", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("revision")
        batch_op.drop_column("scope")
